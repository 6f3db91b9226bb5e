"""MLIP ``.cfg`` configuration files: read (streaming) and write.

Types are 0-based indices into the potential's species list; ``PlusStress`` is -stress_ASE x volume
(eV), in the order xx yy zz yz xz xy. Labels travel as an ASE ``SinglePointCalculator``; ``Feature``
lines go to ``atoms.info['mlip_features']`` (``MV_grade`` also to ``atoms.info['mv_grade']``) and
per-atom ``nbh_grades`` to ``atoms.arrays['nbh_grades']``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.fileio import atomic_write
from seilearn.species import type_indices

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
    """Yield the configurations of ``path`` one by one (every field checked; InputError on the first fault)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such .cfg file")
    try:
        with path.open(encoding="utf-8") as handle:
            yield from _iread_lines(handle, path, species)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text .cfg file ({exc.reason} at byte {exc.start})") from exc


def read_cfg(path: str | os.PathLike, species: Sequence[str] | None = None) -> list[Atoms]:
    """All configurations of ``path``."""
    return list(iread_cfg(path, species))


def parse_cfg(text: str, species: Sequence[str] | None = None, origin: str = "<text>") -> list[Atoms]:
    """All configurations of .cfg ``text`` (errors name ``origin`` as they would a file)."""
    return list(_iread_lines(text.splitlines(keepends=True), origin, species))


def _iread_lines(handle, path, species) -> Iterator[Atoms]:
    lines = iter(enumerate(handle, 1))
    index = -1
    for lineno, line in lines:
        text = line.strip()
        if text != "BEGIN_CFG":
            if text and not text.startswith("#"):
                raise InputError(f"{path}: line {lineno}: {text[:40]!r} outside a BEGIN_CFG ... END_CFG "
                                 "block; fix or remove the line")
            continue
        index += 1
        yield _read_one(lines, path, index, lineno, species)


_SECTIONS = ("Size", "Supercell", "AtomData:", "Energy", "PlusStress:")


class _Lines:
    """The lines of one configuration, with the file, configuration index and line in every error."""

    def __init__(self, lines, where: str) -> None:
        self._lines = lines
        self.where = where
        self.lineno = 0
        self._pushed: tuple[int, str] | None = None

    def next(self, what: str) -> str:
        if self._pushed is not None:
            (self.lineno, text), self._pushed = self._pushed, None
            return text
        try:
            self.lineno, text = next(self._lines)
        except StopIteration:
            raise InputError(f"{self.where}: missing END_CFG: file ends inside {what} (truncated file?)") from None
        return text

    def push(self, text: str) -> None:
        self._pushed = (self.lineno, text)

    def error(self, msg: str) -> InputError:
        return InputError(f"{self.where}: line {self.lineno}: {msg}")

    def numbers(self, what: str, count: int, fix: str = "fix the line", finite: str | None = "") -> list[float]:
        """One line of exactly ``count`` numbers (finite unless ``finite`` is None; its text names the field)."""
        parts = self.next(what).split()
        if len(parts) != count:
            raise self.error(f"{what} needs {count} number(s), found {len(parts)}; {fix}")
        try:
            vals = [float(x) for x in parts]
        except ValueError:
            raise self.error(f"{what} holds a value that is not a number; fix the line") from None
        if finite is not None and not all(np.isfinite(vals)):
            raise self.error(f"non-finite {finite or what}; remove the configuration or relabel it")
        return vals


def _read_one(lines, path: Path | str, index: int, start: int, species) -> Atoms:
    src = _Lines(lines, f"{path}: configuration {index} (line {start})")
    where = src.where
    seen: set[str] = set()
    size = None
    cell = None
    cols: list[str] = []
    data = None
    energy = None
    plus_stress = None
    features: dict[str, str] = {}
    while True:
        line = src.next("the configuration (no END_CFG)").strip()
        if line == "END_CFG":
            break
        section = next((s for s in _SECTIONS if line == s or (s.endswith(":") and line.startswith(s))
                        or (s == "Supercell" and line.startswith(s))), None)
        if section:
            if section in seen:
                raise src.error(f"a second {section.rstrip(':')} section; one configuration has one of each")
            seen.add(section)
        if section == "Size":
            n = src.numbers("Size", 1)[0]
            if n != int(n) or n < 1:
                raise src.error(f"Size {n} is not a positive whole number")
            size = int(n)
        elif section == "Supercell":
            # MLIP writes 1-3 lattice vectors; fewer than 3 is a slab/wire, not supported here
            cell = [src.numbers("Supercell vector", 3) for _ in range(3)]
        elif section == "AtomData:":
            cols = line.split(":", 1)[1].split()
            if size is None:
                raise src.error("AtomData before Size")
            if len(set(cols)) != len(cols):
                raise src.error(f"AtomData repeats a column name ({' '.join(cols)})")
            fix = f"expected {len(cols)} columns per atom and {size} atoms; fix the Size line or the AtomData block"
            data = np.array([src.numbers(f"atom {k + 1} of {size}", len(cols), fix, finite=None)
                             for k in range(size)])
            bad = ~np.isfinite(data).all(axis=0)
            if bad.any():
                names = [c for c, b in zip(cols, bad) if b]
                kind = "forces" if {"fx", "fy", "fz"} & set(names) else f"AtomData ({', '.join(names)})"
                raise src.error(f"non-finite {kind}; remove the configuration or relabel it")
        elif section == "Energy":
            energy = src.numbers("Energy", 1, finite="energy")[0]
        elif section == "PlusStress:":
            names = line.split(":", 1)[1].split()
            if sorted(names) != sorted(_STRESS):
                raise src.error(f"PlusStress components {names} must be {' '.join(_STRESS)}")
            plus_stress = dict(zip(names, src.numbers("PlusStress", 6)))
        elif line.startswith("Feature"):
            parts = line.split(None, 2)
            if len(parts) >= 2:
                features[parts[1]] = parts[2] if len(parts) > 2 else ""
        elif line == "BEGIN_CFG":
            raise src.error("BEGIN_CFG inside a configuration (the previous one lacks END_CFG: truncated?)")
        elif line and not line.startswith("#"):
            hint = (f"more atom lines than Size ({size})? fix the Size line or the AtomData block"
                    if line[0] in "0123456789+-." else "not a .cfg field; fix or remove the line")
            raise src.error(f"unexpected {line[:40]!r}: {hint}")
    if size is None or data is None:
        raise InputError(f"{where}: no Size/AtomData block")
    col = {c: i for i, c in enumerate(cols)}
    for need in ("type", "cartes_x", "cartes_y", "cartes_z"):
        if need not in col:
            raise InputError(f"{where}: AtomData lacks column {need!r}")
    raw_types = data[:, col["type"]]
    if not np.all(raw_types == np.round(raw_types)):
        raise InputError(f"{where}: an atom type is not a whole number; types are 0-based species indices")
    types = raw_types.astype(int)
    positions = data[:, [col["cartes_x"], col["cartes_y"], col["cartes_z"]]]
    if cell is not None and abs(np.linalg.det(np.array(cell))) < 1e-9:
        raise InputError(f"{where}: the Supercell vectors span no volume; fix the Supercell block")
    atoms = Atoms(symbols=_symbols(types, species, where), positions=positions,
                  cell=cell if cell is not None else np.zeros((3, 3)), pbc=cell is not None)
    atoms.arrays["mtp_type"] = types
    if "nbh_grades" in col:
        atoms.arrays["nbh_grades"] = data[:, col["nbh_grades"]]
    forces = None
    if {"fx", "fy", "fz"} <= set(col):
        forces = data[:, [col["fx"], col["fy"], col["fz"]]]
    elif {"fx", "fy", "fz"} & set(col):
        raise InputError(f"{where}: AtomData has some of fx fy fz but not all three")
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
            try:
                atoms.info["mv_grade"] = float(features["MV_grade"])
            except ValueError:
                raise InputError(f"{where}: Feature MV_grade {features['MV_grade'][:30]!r} is not a number") from None
    return atoms


PLUS_STRESS_HEADER = " PlusStress:  xx          yy          zz          yz          xz          xy"


def plus_stress(atoms: Atoms, stress) -> np.ndarray:
    """MLIP's PlusStress (eV, xx yy zz yz xz xy) from an ASE stress (Voigt 6 or 3x3)."""
    s = np.asarray(stress).reshape(-1)
    if s.size == 9:
        s = s.reshape(3, 3)[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    return -s * atoms.get_volume()


def format_cfg(atoms: Atoms, species: Sequence[str], *, write_nbh_grades: bool | None = None) -> str:
    """The .cfg text of one configuration."""
    types = type_indices(atoms, list(species))
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
