"""MLIP ``.cfg`` configuration files: read (streaming) and write.

Types are 0-based indices into the potential's species list; ``PlusStress`` is -stress_ASE x volume
(eV), in the order xx yy zz yz xz xy. Labels travel as an ASE ``SinglePointCalculator``; ``Feature``
lines go to ``atoms.info['mlip_features']`` (``MV_grade`` also to ``atoms.info['mv_grade']``) and
per-atom ``nbh_grades`` to ``atoms.arrays['nbh_grades']``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.fileio import atomic_write

_STRESS = ("xx", "yy", "zz", "yz", "xz", "xy")


def _symbols(types: np.ndarray, species: Sequence[str] | None, where: str) -> list[str]:
    if species is None:
        return ["X"] * len(types)
    for sp in species:
        if sp not in atomic_numbers:
            raise InputError(f"unknown species {sp!r} in the species list; use chemical symbols such as Li,P,S,Cl")
    bad = types[(types < 0) | (types >= len(species))]
    if bad.size:
        raise InputError(f"{where}: atom type {int(bad[0])} is outside the species list {list(species)} "
                         f"(types are 0-based); pass the potential's species list")
    return [species[t] for t in types]


def iread_cfg(path: str | os.PathLike, species: Sequence[str] | None = None) -> Iterator[Atoms]:
    """Yield the configurations of ``path`` one by one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such .cfg file")
    with path.open() as handle:
        lines = iter(enumerate(handle, 1))
        index = -1
        for lineno, line in lines:
            if line.strip() != "BEGIN_CFG":
                continue
            index += 1
            yield _read_one(lines, path, index, lineno, species)


def read_cfg(path: str | os.PathLike, species: Sequence[str] | None = None) -> list[Atoms]:
    """All configurations of ``path``."""
    return list(iread_cfg(path, species))


def _read_one(lines, path: Path, index: int, start: int, species) -> Atoms:
    where = f"{path}: configuration {index} (line {start})"
    size = None
    cell = None
    cols: list[str] = []
    rows: list[list[float]] = []
    energy = None
    plus_stress = None
    features: dict[str, str] = {}
    for lineno, raw in lines:
        line = raw.strip()
        if line == "END_CFG":
            break
        if line == "Size":
            size = int(next(lines)[1].split()[0])
        elif line.startswith("Supercell"):
            cell = [[float(x) for x in next(lines)[1].split()] for _ in range(3)]
            # MLIP writes 1-3 lattice vectors; fewer than 3 is a slab/wire, not supported here
            if any(len(v) != 3 for v in cell):
                raise InputError(f"{where}: malformed Supercell block")
        elif line.startswith("AtomData:"):
            cols = line.split(":", 1)[1].split()
            if size is None:
                raise InputError(f"{where}: AtomData before Size")
            for _ in range(size):
                ln, text = next(lines)
                parts = text.split()
                if len(parts) != len(cols) or text.strip() in ("END_CFG", "Energy"):
                    raise InputError(f"{where}: line {ln}: expected {len(cols)} columns per atom and {size} atoms; "
                                     "fix the Size line or the AtomData block")
                rows.append([float(x) for x in parts])
        elif line == "Energy":
            energy = float(next(lines)[1].split()[0])
        elif line.startswith("PlusStress:"):
            names = line.split(":", 1)[1].split()
            vals = [float(x) for x in next(lines)[1].split()]
            plus_stress = dict(zip(names, vals))
        elif line.startswith("Feature"):
            parts = line.split(None, 2)
            if len(parts) >= 2:
                features[parts[1]] = parts[2] if len(parts) > 2 else ""
        elif line and not line.startswith("#"):
            continue
    else:
        raise InputError(f"{where}: missing END_CFG (truncated file?)")
    if size is None or not rows:
        raise InputError(f"{where}: no Size/AtomData block")
    data = np.array(rows)
    col = {c: i for i, c in enumerate(cols)}
    for need in ("type", "cartes_x", "cartes_y", "cartes_z"):
        if need not in col:
            raise InputError(f"{where}: AtomData lacks column {need!r}")
    types = data[:, col["type"]].astype(int)
    positions = data[:, [col["cartes_x"], col["cartes_y"], col["cartes_z"]]]
    atoms = Atoms(symbols=_symbols(types, species, where), positions=positions,
                  cell=cell if cell is not None else np.zeros((3, 3)), pbc=cell is not None)
    atoms.arrays["mtp_type"] = types
    if "nbh_grades" in col:
        atoms.arrays["nbh_grades"] = data[:, col["nbh_grades"]]
    forces = None
    if {"fx", "fy", "fz"} <= set(col):
        forces = data[:, [col["fx"], col["fy"], col["fz"]]]
        if not np.all(np.isfinite(forces)):
            raise InputError(f"{where}: non-finite forces; remove the configuration or relabel it")
    if energy is not None and not np.isfinite(energy):
        raise InputError(f"{where}: non-finite energy; remove the configuration or relabel it")
    stress = None
    if plus_stress is not None:
        if cell is None:
            raise InputError(f"{where}: PlusStress without a Supercell (stress needs a cell)")
        vol = abs(np.linalg.det(np.array(cell)))
        stress = -np.array([plus_stress[k] for k in _STRESS]) / vol
    if energy is not None or forces is not None:
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    if features:
        atoms.info["mlip_features"] = features
        if "MV_grade" in features:
            atoms.info["mv_grade"] = float(features["MV_grade"])
    return atoms


def _types(atoms: Atoms, species: Sequence[str]) -> np.ndarray:
    symbols = atoms.get_chemical_symbols()
    if all(s == "X" for s in symbols) and "mtp_type" in atoms.arrays:
        return np.asarray(atoms.arrays["mtp_type"], dtype=int)
    missing = sorted(set(symbols) - set(species))
    if missing:
        raise InputError(f"species {', '.join(missing)} not in the species list {list(species)}")
    return np.array([species.index(s) for s in symbols])


PLUS_STRESS_HEADER = " PlusStress:  xx          yy          zz          yz          xz          xy"


def plus_stress(atoms: Atoms, stress) -> np.ndarray:
    """MLIP's PlusStress (eV, xx yy zz yz xz xy) from an ASE stress (Voigt 6 or 3x3)."""
    s = np.asarray(stress).reshape(-1)
    if s.size == 9:
        s = s.reshape(3, 3)[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    return -s * atoms.get_volume()


def format_cfg(atoms: Atoms, species: Sequence[str], *, write_nbh_grades: bool | None = None) -> str:
    """The .cfg text of one configuration."""
    types = _types(atoms, list(species))
    out = ["BEGIN_CFG", " Size", f"    {len(atoms)}"]
    if atoms.pbc.any():
        out.append(" Supercell")
        out.extend("    " + " ".join(f"{x:14.8f}" for x in v) for v in np.asarray(atoms.cell))
    forces = energy = stress = None
    calc = atoms.calc
    if calc is not None:
        res = getattr(calc, "results", {})
        forces, energy, stress = res.get("forces"), res.get("energy"), res.get("stress")
    grades = atoms.arrays.get("nbh_grades") if write_nbh_grades is not False else None
    cols = "id type       cartes_x      cartes_y      cartes_z"
    if forces is not None:
        cols += "           fx          fy          fz"
    if grades is not None:
        cols += "   nbh_grades"
    out.append(f" AtomData:  {cols}")
    pos = atoms.get_positions()
    for i in range(len(atoms)):
        row = f"    {i + 1:6d} {types[i]:4d} {pos[i, 0]:14.8f} {pos[i, 1]:14.8f} {pos[i, 2]:14.8f}"
        if forces is not None:
            row += f" {forces[i, 0]:11.6f} {forces[i, 1]:11.6f} {forces[i, 2]:11.6f}"
        if grades is not None:
            row += f" {grades[i]:12.5e}"
        out.append(row)
    if energy is not None:
        out += [" Energy", f"    {energy:.12f}"]
    if stress is not None and atoms.pbc.all():
        out += [PLUS_STRESS_HEADER, "    " + " ".join(f"{x:11.5f}" for x in plus_stress(atoms, stress))]
    features = dict(atoms.info.get("mlip_features", {}))
    if "mv_grade" in atoms.info:
        features["MV_grade"] = f"{atoms.info['mv_grade']:.6e}"
    for k, v in features.items():
        out.append(f" Feature   {k}\t{v}")
    out.append("END_CFG\n")
    return "\n".join(out)


def write_cfg(path: str | os.PathLike, atoms_list: Sequence[Atoms], species: Sequence[str], **kw) -> None:
    """Write configurations atomically (nothing is left half-written on an error)."""
    texts = [format_cfg(a, species, **kw) for a in atoms_list]
    with atomic_write(path) as handle:
        handle.write("\n".join(texts))
