"""One way to name a structure, for the CLI and for campaign specs alike.

A reference is a built-in name (``li``, ``lpsc``, ``li2s``, ``li3p``, ``licl``, ``antifluorite``,
``interface-mini``, ``interface-I``, ``interface-II``), a path to a structure file (extxyz, POSCAR, MLIP
``.cfg``, anything ASE reads), or the same path written ``file:PATH`` (the explicit form campaign specs use).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ase import Atoms

from seilearn.errors import InputError

BULK_NAMES = ("li", "lpsc", "li2s", "li3p", "licl", "antifluorite")
INTERFACE_NAMES = ("interface-mini", "interface-I", "interface-II")
NAMES = INTERFACE_NAMES + BULK_NAMES


def structure_path(ref: str) -> Path | None:
    """The file a reference names (``file:PATH`` or a bare path), or None for a built-in name."""
    ref = str(ref)
    if ref.startswith("file:"):
        return Path(ref[5:])
    if ref in NAMES:
        return None
    return Path(ref)


def check_reference(ref: str, key: str) -> str:
    """Validate a reference without building it (spec validation): a known name or a file path."""
    ref = str(ref)
    path = structure_path(ref)
    if path is not None and not ref.startswith("file:") and not (path.suffix or "/" in ref or path.exists()):
        raise InputError(f"{key}: {ref!r} is not one of {', '.join(NAMES)} nor a structure file (write file:PATH)")
    return ref


def resolve_structure(ref: str, supercell: Sequence[int] | None = None,
                      species: Sequence[str] | None = None) -> Atoms:
    """Build or read the structure ``ref`` names, repeated by ``supercell``."""
    from seilearn import structures as st

    path = structure_path(ref)
    if path is None:
        atoms = st.build_interface(model=ref.split("-", 1)[1]) if ref in INTERFACE_NAMES else st.bulk(ref)
    else:
        atoms = read_structure(path, species)
    if supercell:
        reps = tuple(int(k) for k in supercell)
        if len(reps) != 3 or min(reps) < 1:
            raise InputError(f"supercell {list(supercell)!r}: give three positive integers like 2,2,2")
        atoms = atoms.repeat(reps)
    return atoms


def read_structure(path: str | Path, species: Sequence[str] | None = None, index: int | str = 0):
    """The first configuration of a file (``index=":"`` for all): MLIP .cfg by suffix, else ASE's readers."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such structure file; give an extxyz, POSCAR or .cfg path or a built-in name "
                         f"({', '.join(NAMES)})")
    if path.suffix == ".cfg":
        from seilearn.mtp.cfg import read_cfg

        frames = read_cfg(path, species)
        return frames if index == ":" else frames[index]
    from ase.io import read

    try:
        return read(path, index=index)
    except Exception as exc:  # ase raises many types for unreadable files
        raise InputError(f"{path}: cannot read the structure ({exc}); give an extxyz, POSCAR or .cfg") from exc
