"""Exploration and production with LAMMPS: write the data file, the potential and the deck (MLIP-3's
``pair_style mlip``), run the ``lammps_command`` in the run directory, read its outcome, ingest what it wrote.

The same code serves a cluster's ``lmp`` and the local stand-in (``lammps_command: stand-in``): both leave
``log.lammps``, ``stderr.txt``, ``preselected.cfg`` (exploration) and ``dump.lammpstrj`` behind, and a break
is MLIP's message with a non-zero exit status. A production run killed part-way resumes from the newest
complete restart file; its dump is first cut back to the restart step so no frame is written twice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase import Atoms

from seilearn.errors import InputError, SeilearnError
from seilearn.md.lammps.command import argv_for, is_stand_in
from seilearn.md.lammps.dump import check_dump, cut_dump
from seilearn.md.lammps.restart import latest_restart
from seilearn.md.lammps_decks import DeckSettings, interpret_run, write_deck

DECK, LOG, STDOUT, STDERR, PID = "in.lammps", "log.lammps", "stdout.txt", "stderr.txt", "lammps.pid"
STATE = "seilearn_run.json"


@dataclass
class RunOutcome:
    """A finished (or stopped) LAMMPS run in ``workdir``."""

    status: str
    exit_code: int
    steps_done: int | None
    reason: str | None
    wall_s: float
    argv: list[str] = field(default_factory=list)


def _number(value: Any, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} {value!r}: engine lammps takes one number here (LAMMPS' fix npt/nvt holds a "
                         "target; schedules run with engine local)") from None


def _die_with_parent() -> None:
    """In the child: SIGKILL when the rocket dies, so a rerun never races an orphaned run in the same directory."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def run_deck(workdir: Path, argv: list[str], *, timeout_s: float | None = None) -> RunOutcome:
    """Run ``argv`` in ``workdir`` (stdout/stderr to files, the child's pid in ``lammps.pid``) and read the
    outcome from its exit status, ``log.lammps`` and stderr."""
    t0 = time.time()
    with open(workdir / STDOUT, "wb") as out, open(workdir / STDERR, "wb") as err:
        try:
            proc = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    preexec_fn=_die_with_parent)
        except OSError as exc:  # the program vanished or is not executable
            raise InputError(f"lammps_command {' '.join(argv)!r} cannot start ({exc.strerror}); give an executable "
                             "LAMMPS command (or 'stand-in')") from exc
        (workdir / PID).write_text(str(proc.pid))
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        finally:
            (workdir / PID).unlink(missing_ok=True)
    log = (workdir / LOG).read_text(errors="replace") if (workdir / LOG).exists() else ""
    stderr = (workdir / STDERR).read_text(errors="replace")
    outcome = interpret_run(rc, log + "\n" + stderr)
    reason = outcome.reason
    if outcome.status == "failed":
        tail = [ln for ln in stderr.splitlines() if ln.strip()][-1:] or [""]
        reason = f"{reason}{'; stderr: ' + tail[0] if tail[0] and tail[0] not in (reason or '') else ''}"
    return RunOutcome(outcome.status, rc, outcome.steps_done, reason, time.time() - t0, argv)


def _failed(kind: str, workdir: Path, out: RunOutcome) -> SeilearnError:
    killed = out.exit_code < 0 or out.exit_code in (137, 143)
    fix = ("rerun the firework: it resumes from the last restart file" if killed and kind == "production" else
           f"read {workdir / LOG} and {workdir / STDERR}, fix the cause and rerun the firework")
    return SeilearnError(f"LAMMPS {kind} run in {workdir} ({' '.join(out.argv)}) failed: "
                         f"{'killed (signal)' if killed else out.reason}; {fix}")


# -- exploration ------------------------------------------------------------------------------------

@dataclass
class LammpsExploration:
    status: str
    steps_done: int
    preselected: list[Atoms]
    reason: str | None
    wall_s: float
    timestep_fs: float
    workdir: str
    command: str

    @property
    def max_grade(self) -> float:
        """The highest grade MLIP saved (grades below the save threshold are not reported by LAMMPS)."""
        return max((float(f.info["grade"]) for f in self.preselected), default=0.0)

    def summary(self) -> dict[str, Any]:
        """Fields for the exploration-run record (as ``ExplorationResult.summary``, from what LAMMPS reports)."""
        steps = [f.info.get("md_step") for f in self.preselected]
        return {"status": self.status, "steps_done": self.steps_done, "max_grade": self.max_grade,
                "grades": [round(float(f.info["grade"]), 4) for f in self.preselected],
                "grade_steps": [int(s) if s is not None else None for s in steps], "reason": self.reason,
                "md_wall_s": self.wall_s, "timestep_fs": self.timestep_fs, "engine": "lammps",
                "lammps_command": self.command, "lammps_dir": self.workdir,
                "grades_note": "MLIP reports only the grades of saved (preselected) configurations"}


def explore(atoms: Atoms, almtp: bytes, species: Sequence[str], workdir: str | Path, *, command: str,
            command_source: str = "lammps_command", steps: int, temperature: float, pressure_bar: float = 1.0,
            ensemble: str = "npt", timestep_fs: float = 1.0, grade_every: int = 20, threshold_save: float = 1.5,
            threshold_break: float = 5.5, seed: int = 0, frame_info: dict[str, Any] | None = None,
            timeout_s: float | None = None) -> LammpsExploration:
    """One grade-monitored exploration run with LAMMPS; the potential ``almtp`` carries its active set.
    A rerun starts over in a clean ``workdir``. Preselected frames carry grade, md_step (when reported),
    time, the run's targets and ``frame_info``."""
    T, P = _number(temperature, "temperature"), _number(pressure_bar, "pressure_bar")
    argv = argv_for(command, command_source, deck=DECK, log=LOG, grade_every=grade_every)
    workdir = Path(workdir)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    # about 100 dump frames and thermo rows a run, at grading steps (MLIP grades every step: not a dump per step)
    every = grade_every * max(1, int(steps) // (100 * grade_every))
    s = DeckSettings(potential="pot.almtp", species=list(species), temperature_K=T, pressure_bar=P, seed=seed,
                     timestep_fs=timestep_fs, steps=int(steps), dump_every=every, thermo_every=every,
                     exploration=True, mlip_version=3, threshold_save=threshold_save,
                     threshold_break=threshold_break, ensemble=ensemble, tdamp_steps=100, pdamp_steps=1000)
    (workdir / "pot.almtp").write_bytes(almtp)
    write_deck(workdir, atoms, s)
    out = run_deck(workdir, argv, timeout_s=timeout_s)
    if out.status == "failed":
        raise _failed("exploration", workdir, out)
    frames = read_preselected(workdir / s.preselected, species, timestep_fs, T, P, frame_info)
    steps_done = out.steps_done if out.status == "stopped_at_break" else int(steps)
    if out.status == "stopped_at_break" and frames and frames[-1].info.get("md_step") is not None:
        steps_done = int(frames[-1].info["md_step"])
    return LammpsExploration(out.status, int(steps_done or 0), frames, out.reason, out.wall_s, timestep_fs,
                             str(workdir), command)


def read_preselected(path: Path, species: Sequence[str], timestep_fs: float, temperature: float,
                     pressure_bar: float, frame_info: dict[str, Any] | None = None) -> list[Atoms]:
    """The configurations MLIP saved above the save threshold, with the fields the workflow records."""
    if not path.exists():
        return []
    from seilearn.mtp.cfg import read_cfg

    try:
        frames = read_cfg(path, species)
    except InputError as exc:
        raise SeilearnError(f"{path}: the run's preselected configurations cannot be read ({exc}); rerun the "
                            "firework (it starts the exploration over)") from exc
    for f in frames:
        feats = f.info.get("mlip_features", {})
        if "mv_grade" not in f.info:
            raise SeilearnError(f"{path}: a configuration without MV_grade; it was not written by MLIP's "
                                "extrapolation control: rerun the firework")
        step = feats.get("md_step")
        f.info.update({**(frame_info or {}), "grade": float(f.info["mv_grade"]),
                       "md_step": int(step) if step is not None else None,
                       "time_fs": int(step) * timestep_fs if step is not None else None,
                       "temperature_K": temperature, "pressure_bar": pressure_bar})
        f.info = {k: v for k, v in f.info.items() if v is not None}
    return frames


# -- production -------------------------------------------------------------------------------------

def produce(atoms: Atoms, mtp_text: str, species: Sequence[str], workdir: str | Path, *, command: str,
            command_source: str = "lammps_command", steps: int, temperature: float, pressure_bar: float = 1.0,
            timestep_fs: float = 1.0, dump_every: int = 1000, seed: int = 1, restart_every: int | None = None,
            timeout_s: float | None = None) -> dict[str, Any]:
    """Run (or resume, or find finished) a production run in ``workdir``; returns the run record's fields
    (``trajectory``: the dump, ``trajectory_format``: lammps-dump, ``dt_ps``: one LAMMPS step in ps)."""
    T, P = _number(temperature, "temperature"), _number(pressure_bar, "pressure_bar")
    if int(steps) % int(dump_every):
        raise InputError(f"production steps {steps} is not a multiple of dump_every {dump_every}: LAMMPS dumps every "
                         "dump_every steps, so the last step would not be dumped; make steps a multiple of it")
    argv = argv_for(command, command_source, deck=DECK, log=LOG)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    state_path = workdir / STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    s = DeckSettings(potential="pot.mtp", species=list(species), temperature_K=T, pressure_bar=P, seed=seed,
                     timestep_fs=timestep_fs, steps=int(steps), dump_every=dump_every, thermo_every=dump_every,
                     restart_every=restart_every or dump_every, mlip_version=3, exploration=False)
    dump = workdir / s.dump
    if state.get("status") == "completed" and state.get("steps") == int(steps) and dump.exists():
        return state["summary"]
    # a killed or failed run continues from its newest restart, and so does a finished one asked to run longer
    found = latest_restart(workdir) if state.get("status") in ("running", "failed", "completed") else None
    if found and found[1] >= int(steps):  # a shorter run than the one on disk starts over
        found = None
    restarts = int(state.get("restarts", 0))
    if found:
        restart, step = found
        kept = cut_dump(dump, step)
        s.resume_from = restart.name
        restarts += 1
        started = {"resumed_from": restart.name, "resumed_at_step": step, "frames_kept": kept}
    else:
        for p in workdir.iterdir():  # a fresh start: nothing of an earlier attempt may leak into this one
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        started = {}
    (workdir / "pot.mtp").write_text(mtp_text)
    write_deck(workdir, atoms, s)
    _save_state(state_path, {"status": "running", "steps": int(steps), "restarts": restarts, **started})
    out = run_deck(workdir, argv, timeout_s=timeout_s)
    if out.status != "completed":
        _save_state(state_path, {"status": "failed", "steps": int(steps), "restarts": restarts,
                                 "reason": out.reason, "exit_code": out.exit_code})
        raise _failed("production", workdir, out)
    frames = check_dump(dump)
    if frames[-1].timestep != int(steps):
        raise SeilearnError(f"{dump}: last frame at timestep {frames[-1].timestep}, not the run's last step {steps}; "
                            "the run did not finish writing: rerun the firework")
    summary = {"status": "completed", "steps_done": int(steps), "trajectory": str(dump),
               "trajectory_format": "lammps-dump", "dt_ps": timestep_fs / 1000.0, "frames": len(frames),
               "timestep_fs": timestep_fs, "restarts": restarts, "wall_s": out.wall_s, "engine": "lammps",
               "lammps_command": command, "stand_in": is_stand_in(command), **started}
    _save_state(state_path, {"status": "completed", "steps": int(steps), "restarts": restarts, "summary": summary})
    return summary


def _save_state(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
