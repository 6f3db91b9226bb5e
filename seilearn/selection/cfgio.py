"""Reading ``.cfg`` files for selection, including MLIP's ``ghost`` column.

MLIP's LAMMPS interface writes preselected neighbourhoods as non-periodic clusters whose atoms carry
a ``ghost`` flag (true: a neighbour only, no site-energy row of its own). ``seilearn.mtp.cfg`` reads
the numeric columns; this reader maps the flag to 0/1 for it and keeps it in ``atoms.arrays['ghost']``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.mtp.cfg import parse_cfg, read_cfg

_FLAGS = {"true": "1", "false": "0", "True": "1", "False": "0", "1": "1", "0": "0"}


def read_cfg_for_selection(path: str | os.PathLike, species: Sequence[str] | None = None) -> list[Atoms]:
    """``read_cfg`` plus the ghost flags (``atoms.arrays['ghost']``) where the file has them."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such .cfg file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text .cfg file ({exc.reason} at byte {exc.start})") from exc
    if "ghost" not in text:
        return read_cfg(path, species)
    lines = text.splitlines(keepends=True)
    ghosts: list[np.ndarray | None] = []
    out = []
    k = 0
    size: int | None = None
    while k < len(lines):
        line = lines[k]
        out.append(line)
        if line.strip() == "BEGIN_CFG":
            ghosts.append(None)
        if line.strip() == "Size":
            try:
                size = int(lines[k + 1].split()[0])
            except (IndexError, ValueError):
                raise InputError(f"{path}: line {k + 2}: Size is not a whole number (truncated file?)") from None
        if line.strip().startswith("AtomData:"):
            cols = line.split(":", 1)[1].split()
            if "ghost" in cols:
                if size is None or not ghosts or k + size >= len(lines):
                    raise InputError(f"{path}: line {k + 1}: AtomData without a Size or with fewer atom lines than "
                                     "Size (truncated file?); fix the Size line or the AtomData block")
                g = cols.index("ghost")
                flags = []
                for j in range(size):
                    parts = lines[k + 1 + j].split()
                    if len(parts) != len(cols) or parts[g] not in _FLAGS:
                        raise InputError(f"{path}: line {k + 2 + j}: bad ghost flag or column count; expected "
                                         f"{len(cols)} columns with true/false in column {g + 1}")
                    flags.append(parts[g] in ("true", "True", "1"))
                    parts[g] = _FLAGS[parts[g]]
                    out.append(" " + " ".join(parts) + "\n")
                ghosts[-1] = np.array(flags, bool)
                k += size
        k += 1
    atoms_list = parse_cfg("".join(out), species, str(path))
    for atoms, g in zip(atoms_list, ghosts):
        if g is not None:
            atoms.arrays["ghost"] = g
    return atoms_list
