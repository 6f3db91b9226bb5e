"""LAMMPS input decks for ``pair_style mlip`` on clusters (MLIP-2 and MLIP-3 syntax), the job commands
that run them, and the reading of a finished run (exit status + log -> status).

Exploration decks run on one MPI rank with preselection on (MLIP's interface refuses selection in
parallel); production decks run in parallel with selection off and write restart files, and a resume
deck (``resume_from``) continues a killed run from one. The paper's protocol is NPT Nose-Hoover,
300/350/400 K, 1 bar and 1 kbar, two velocity seeds, 1 fs, 10 ns, dumps every 1 ps.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ase import Atoms
from ase.data import atomic_masses, atomic_numbers
from ase.io import write

from seilearn.fileio import atomic_write
from seilearn.species import DEFAULT_SPECIES

# MLIP-2's LAMMPS interface exits with status 8 when the breaking threshold is exceeded; MLIP-3's
# (src/external/interface.cpp) prints the message to stderr and calls exit(777), an exit status of 777 % 256 = 9.
MLIP_BREAK_EXIT = 8
MLIP3_BREAK_EXIT = 777 % 256
BREAK_MESSAGE = "Breaking threshold exceeded"
ENSEMBLES = ("npt", "nvt", "nve")

PAPER_TEMPERATURES_K = (300.0, 350.0, 400.0)
PAPER_PRESSURES_BAR = (1.0, 1000.0)
PAPER_SEEDS = (12345, 67890)


@dataclass
class DeckSettings:
    """One LAMMPS run. ``mlip_version`` 2 writes ``mlip.ini``; 3 puts the keys on the pair_style line."""

    potential: str                      # .mtp (MLIP-2) or .almtp (MLIP-3) file name, relative to the run dir
    species: Sequence[str] = DEFAULT_SPECIES
    temperature_K: float = 400.0
    pressure_bar: float = 1.0
    seed: int = 12345
    timestep_fs: float = 1.0
    steps: int = 10_000_000             # 10 ns at 1 fs
    dump_every: int = 1000              # 1 ps at 1 fs
    thermo_every: int = 1000
    restart_every: int = 100_000
    tdamp_steps: int = 100
    pdamp_steps: int = 1000
    exploration: bool = False
    mlip_version: int = 2
    threshold_save: float = 1.5
    threshold_break: float = 5.5
    active_set: str | None = None       # MLIP-2 select:load-state file (.als); MLIP-3 reads it from the .almtp
    preselected: str = "preselected.cfg"
    data_file: str = "structure.data"
    ensemble: str = "npt"               # npt (Nose-Hoover thermostat + barostat), nvt or nve
    velocities: str = "create"          # create (Gaussian at temperature_K, seed) or data (from the data file)
    resume_from: str | None = None      # a restart file: continue a killed run up to ``steps``
    dump: str = "dump.lammpstrj"

    def __post_init__(self) -> None:
        if self.mlip_version not in (2, 3):
            raise ValueError(f"mlip_version {self.mlip_version} must be 2 or 3")
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble {self.ensemble!r} must be one of {', '.join(ENSEMBLES)}")
        if self.velocities not in ("create", "data"):
            raise ValueError(f"velocities {self.velocities!r} must be create or data")
        if self.exploration and not self.threshold_break > self.threshold_save:
            raise ValueError(f"threshold_break {self.threshold_break} must exceed threshold_save "
                             f"{self.threshold_save}")


def mlip_ini(s: DeckSettings) -> str:
    """MLIP-2 ``mlip.ini`` (read by ``pair_style mlip mlip.ini``)."""
    lines = [f"mtp-filename    {s.potential}"]
    if s.exploration:
        lines += ["select          TRUE",
                  f"select:threshold        {s.threshold_save:g}",
                  f"select:threshold-break  {s.threshold_break:g}",
                  f"select:save-selected    {s.preselected}"]
        if s.active_set:
            lines.append(f"select:load-state       {s.active_set}")
    else:
        lines.append("select          FALSE")
    return "\n".join(lines) + "\n"


def pair_lines(s: DeckSettings) -> list[str]:
    """The ``pair_style``/``pair_coeff`` lines for the chosen MLIP version."""
    if s.mlip_version == 2:
        style = "pair_style mlip mlip.ini"
    else:
        style = f"pair_style mlip load_from={s.potential}"
        if s.exploration:
            style += (" extrapolation_control=true"
                      f" extrapolation_control:threshold_save={s.threshold_save:g}"
                      f" extrapolation_control:threshold_break={s.threshold_break:g}"
                      f" extrapolation_control:save_extrapolative_to={s.preselected}")
    return [style, "pair_coeff * *"]


def integrator_line(s: DeckSettings) -> str:
    """The ``fix md`` line: Nose-Hoover NPT (iso) or NVT with the damping of the ASE engine, or NVE."""
    dt_ps = s.timestep_fs / 1000.0
    T, P = s.temperature_K, s.pressure_bar
    if s.ensemble == "nve":
        return "fix             md all nve"
    line = f"fix             md all {s.ensemble} temp {T:g} {T:g} {s.tdamp_steps * dt_ps:g}"
    if s.ensemble == "npt":
        line += f" iso {P:g} {P:g} {s.pdamp_steps * dt_ps:g}"
    return line


def input_deck(s: DeckSettings) -> str:
    """The LAMMPS input script (metal units: ps, bar). With ``resume_from`` the run continues from that
    restart file (same fix ids, so the thermostat/barostat state is restored) up to step ``steps``."""
    dt_ps = s.timestep_fs / 1000.0
    T, P = s.temperature_K, s.pressure_bar
    masses = [f"mass {i + 1} {atomic_masses[atomic_numbers[el]]:.4f}  # {el}" for i, el in enumerate(s.species)]
    kind = "exploration (one MPI rank, preselection on)" if s.exploration else "production (selection off)"
    ens = {"npt": f"NPT Nose-Hoover {T:g} K, {P:g} bar", "nvt": f"NVT Nose-Hoover {T:g} K", "nve": "NVE"}[s.ensemble]
    lines = [f"# seilearn {kind}: {ens}, seed {s.seed}, {s.timestep_fs:g} fs", "units           metal"]
    if s.resume_from:
        lines.append(f"read_restart    {s.resume_from}")
    else:
        lines += ["atom_style      atomic", "boundary        p p p", f"read_data       {s.data_file}"]
    lines += [
        *masses,
        *pair_lines(s),
        "neighbor        1.0 bin",
        "neigh_modify    every 1 delay 0 check yes",
        f"timestep        {dt_ps:g}",
    ]
    if not s.resume_from and s.velocities == "create":
        lines.append(f"velocity        all create {T:g} {s.seed} mom yes rot yes dist gaussian")
    lines += [
        integrator_line(s),
        "thermo_style    custom step time temp press pe etotal vol",
        "thermo_modify   format float %.10g",
        f"thermo          {s.thermo_every}",
        f"dump            traj all custom {s.dump_every} {s.dump} id type element x y z",
        f"dump_modify     traj sort id element {' '.join(s.species)}" + (" append yes" if s.resume_from else ""),
    ]
    if not s.exploration:
        lines.append(f"restart         {s.restart_every} restart.a.bin restart.b.bin")
    lines += [f"run             {s.steps}" + (" upto" if s.resume_from else ""), "write_data      final.data"]
    return "\n".join(lines) + "\n"


def write_deck(directory: str | Path, atoms: Atoms, s: DeckSettings) -> list[Path]:
    """Write ``in.lammps``, the data file and (MLIP-2) ``mlip.ini`` into ``directory``; returns the paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    missing = sorted(set(atoms.get_chemical_symbols()) - set(s.species))
    if missing:
        raise ValueError(f"structure has species {missing} not in the deck's species {list(s.species)}")
    paths = [d / "in.lammps", d / s.data_file]
    with atomic_write(paths[0]) as fh:
        fh.write(input_deck(s))
    # LAMMPS needs an upper-triangular cell; ASE rotates it (force_skew keeps a triclinic box for NPT iso)
    write(paths[1], atoms, format="lammps-data", specorder=list(s.species), atom_style="atomic", force_skew=True,
          velocities=s.velocities == "data")
    if s.mlip_version == 2:
        paths.append(d / "mlip.ini")
        with atomic_write(paths[-1]) as fh:
            fh.write(mlip_ini(s))
    return paths


def paper_protocol(potential: str, *, mlip_version: int = 2, steps: int = 10_000_000) -> list[DeckSettings]:
    """The paper's production grid: 3 temperatures x 2 pressures x 2 velocity seeds = 12 runs."""
    return [DeckSettings(potential=potential, temperature_K=T, pressure_bar=P, seed=seed, steps=steps,
                         mlip_version=mlip_version)
            for T, P, seed in itertools.product(PAPER_TEMPERATURES_K, PAPER_PRESSURES_BAR, PAPER_SEEDS)]


def run_name(s: DeckSettings) -> str:
    kind = "explore" if s.exploration else "produce"
    return f"{kind}_T{s.temperature_K:g}_P{s.pressure_bar:g}_s{s.seed}"


def lammps_command(s: DeckSettings, *, ranks: int = 1, launcher: str = "srun", lmp: str = "lmp",
                   deck: str = "in.lammps", log: str = "log.lammps") -> list[str]:
    """The command that runs a deck; exploration is forced onto one rank (MLIP refuses selection in parallel)."""
    if s.exploration and ranks != 1:
        raise ValueError("an exploration deck (selection on) must run on one MPI rank")
    if launcher == "srun":
        pre = ["srun", "-n", str(ranks)]
    elif launcher == "mpirun":
        pre = ["mpirun", "-np", str(ranks)]
    elif launcher == "none":
        if ranks != 1:
            raise ValueError("launcher 'none' runs one rank")
        pre = []
    else:
        raise ValueError(f"launcher {launcher!r} must be srun, mpirun or none")
    return [*pre, lmp, "-in", deck, "-log", log]


@dataclass
class LammpsOutcome:
    status: str                     # completed | stopped_at_break | failed
    exit_code: int
    steps_done: int | None = None
    reason: str | None = None
    extra: dict = field(default_factory=dict)


_STEP_ROW = re.compile(r"^\s*(\d+)\s+[-+0-9.eE]+\s+[-+0-9.eE]+")


def interpret_run(exit_code: int, log_text: str) -> LammpsOutcome:
    """Read a finished LAMMPS run (``log_text``: the log and the run's stderr). MLIP's break message with a
    non-zero exit status (8 from MLIP-2, 9 from MLIP-3's exit(777)) is ``stopped_at_break``, an expected
    exploration outcome; 0 with 'Total wall time' and no ERROR is ``completed``; anything else ``failed``
    (an exit status 8 without the message is a run that died for another reason)."""
    steps = None
    in_thermo = False
    for line in log_text.splitlines():
        if line.strip().startswith("Step"):
            in_thermo = True
            continue
        if in_thermo:
            m = _STEP_ROW.match(line)
            if m:
                steps = int(m.group(1))
            elif line.startswith("Loop time"):
                in_thermo = False
    brk = next((ln.strip() for ln in log_text.splitlines() if BREAK_MESSAGE in ln), None)
    if brk is not None and exit_code != 0:
        return LammpsOutcome("stopped_at_break", exit_code, steps, f"MLIP: {brk}")
    err = next((ln.strip() for ln in log_text.splitlines() if ln.startswith("ERROR")), None)
    if exit_code == 0 and "Total wall time" in log_text and err is None:
        return LammpsOutcome("completed", exit_code, steps)
    if err is None and exit_code in (MLIP_BREAK_EXIT, MLIP3_BREAK_EXIT):
        err = f"exit status {exit_code} without MLIP's '{BREAK_MESSAGE}' message"
    return LammpsOutcome("failed", exit_code, steps, err or f"exit status {exit_code} without a completed run")
