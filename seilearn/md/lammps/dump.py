"""Complete frames of a LAMMPS text dump (``dump custom``), read line by line without holding frames.

A run killed while writing leaves a truncated last frame: ``check_dump`` reports it with the file and the fix,
``cut_dump`` drops it (and any frame from a given step on) before a resumed run appends again."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from seilearn.errors import InputError


@dataclass
class DumpFrame:
    timestep: int
    offset: int          # byte offset of its "ITEM: TIMESTEP" line
    natoms: int
    complete: bool


def scan_dump(path: str | Path) -> list[DumpFrame]:
    """Every frame's timestep, byte offset, atom count and completeness."""
    frames: list[DumpFrame] = []
    with open(path, "rb") as fh:
        offset = 0
        state, expect, got, cols = "", 0, 0, 0
        current: DumpFrame | None = None
        for raw in fh:
            line = raw.decode(errors="replace")
            here, offset = offset, offset + len(raw)
            if line.startswith("ITEM: TIMESTEP"):
                if current is not None:
                    current.complete = state == "atoms" and got == expect
                current = DumpFrame(timestep=-1, offset=here, natoms=0, complete=False)
                frames.append(current)
                state = "timestep"
            elif line.startswith("ITEM: NUMBER OF ATOMS"):
                state = "natoms"
            elif line.startswith("ITEM: BOX"):
                state = "box"
            elif line.startswith("ITEM: ATOMS"):
                state, got, cols = "atoms", 0, len(line.split()) - 2
            elif current is None:
                raise InputError(f"{path}: not a LAMMPS text dump (no 'ITEM: TIMESTEP' before line content)")
            elif state == "timestep":
                current.timestep, state = int(line.split()[0]), ""
            elif state == "natoms":
                current.natoms = expect = int(line.split()[0])
                state = ""
            elif state == "atoms":
                if raw.endswith(b"\n") and len(line.split()) == cols:
                    got += 1
                else:
                    got = -1  # a half-written line: the frame can never be complete
                    state = "broken"
        if current is not None:
            current.complete = state == "atoms" and got == expect
    return frames


def check_dump(path: str | Path) -> list[DumpFrame]:
    """The frames of a finished run's dump; a truncated or missing frame raises InputError naming the fix."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: the run's dump file is missing; check the deck's dump line and rerun the firework")
    frames = scan_dump(p)
    if not frames:
        raise InputError(f"{p}: the dump holds no frame; rerun the firework")
    bad = [f for f in frames if not f.complete]
    if bad:
        f = bad[0]
        where = "last frame" if f is frames[-1] else "frame"
        raise InputError(f"{p}: {where} at timestep {f.timestep} is truncated (the run was killed while writing "
                         "it); rerun the firework: it resumes from the last restart file and rewrites the frames "
                         f"after it (or cut the file at byte {f.offset} by hand)")
    return frames


def cut_dump(path: str | Path, before_step: int) -> int:
    """Drop every frame at or after ``before_step`` and any truncated frame (the file is cut in place, one
    truncate call); returns the number of frames kept. A truncated frame before ``before_step`` is an error."""
    p = Path(path)
    if not p.is_file():
        return 0
    frames = scan_dump(p)
    keep = 0
    for f in frames:
        if f.timestep >= before_step:
            break
        if not f.complete:
            if f is not frames[-1]:
                raise InputError(f"{p}: frame at timestep {f.timestep} is truncated but later frames follow; the "
                                 "dump is corrupt: delete the run directory and rerun the firework")
            break
        keep += 1
    if keep < len(frames):
        os.truncate(p, frames[keep].offset)
    return keep
