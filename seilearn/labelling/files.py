"""Label a file of configurations (.cfg or extxyz) and write the successes; failures go to OUT.failed.json."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from tqdm import tqdm

from seilearn.errors import InputError
from seilearn.fileio import atomic_write
from seilearn.labelling.base import Labeller, LabelResult
from seilearn.species import DEFAULT_SPECIES


def _is_cfg(path: Path) -> bool:
    return path.suffix.lower() == ".cfg"


def read_configs(path: str | os.PathLike, species: Sequence[str] = DEFAULT_SPECIES) -> list[Atoms]:
    """Configurations from a .cfg (types mapped through ``species``) or any file ASE reads (extxyz...)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such input file; give a .cfg or extxyz file of configurations")
    if _is_cfg(path):
        from seilearn.mtp.cfg import read_cfg

        return read_cfg(path, species=list(species))
    from ase.io import read

    try:
        return list(read(path, index=":"))
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for malformed files
        raise InputError(f"{path}: cannot read configurations ({exc}); give a .cfg or extxyz file") from exc


def attach(atoms: Atoms, result: LabelResult) -> Atoms:
    """A copy of ``atoms`` carrying the label as a SinglePointCalculator (energy, forces, stress)."""
    out = atoms.copy()
    kw = {"energy": result.energy, "forces": result.forces}
    if result.stress is not None and atoms.pbc.all():
        kw["stress"] = result.stress
    out.calc = SinglePointCalculator(out, **kw)
    out.info["labeller"] = result.settings.get("name", "")
    return out


def write_configs(path: str | os.PathLike, atoms_list: Sequence[Atoms], species: Sequence[str] = DEFAULT_SPECIES) -> None:
    """Write labelled configurations (.cfg: eV, eV/A, PlusStress eV; else extxyz), atomically."""
    path = Path(path)
    if _is_cfg(path):
        from seilearn.mtp.cfg import write_cfg

        write_cfg(path, list(atoms_list), list(species))
        return
    from ase.io import write

    with atomic_write(path) as handle:
        write(handle, list(atoms_list), format="extxyz")


def label_configs(labeller: Labeller, configs: Sequence[Atoms], batch_size: int = 16,
                  progress: bool = True) -> list[LabelResult]:
    """Label in batches with a tqdm bar on stderr; one result per configuration."""
    results: list[LabelResult] = []
    with tqdm(total=len(configs), desc=f"labelling ({labeller.name})", unit="cfg", disable=not progress) as bar:
        for start in range(0, len(configs), batch_size):
            chunk = list(configs[start:start + batch_size])
            results.extend(labeller.label(chunk))
            bar.update(len(chunk))
    return results


def label_file(labeller: Labeller, inp: str | os.PathLike, out: str | os.PathLike,
               species: Sequence[str] = DEFAULT_SPECIES, batch_size: int = 16, progress: bool = True) -> dict:
    """Label every configuration of ``inp``; write successes to ``out`` and failures to ``out.failed.json``.

    Returns ``{"n", "ok", "failed": [{"index", "status", "reason"}], "out", "failed_path"}``.
    """
    configs = read_configs(inp, species)
    results = label_configs(labeller, configs, batch_size=batch_size, progress=progress)
    good = [attach(a, r) for a, r in zip(configs, results) if r.ok]
    failed = [{"index": k, "status": r.status, "reason": r.reason} for k, r in enumerate(results) if not r.ok]
    failed_path = Path(str(out) + ".failed.json")
    if good:
        write_configs(out, good, species)
    if failed:
        with atomic_write(failed_path) as handle:
            json.dump({"input": str(inp), "labeller": labeller.settings(), "failed": failed}, handle, indent=1)
    elif failed_path.exists():
        failed_path.unlink()  # a stale list from an earlier run would mislead
    return {"n": len(configs), "ok": len(good), "failed": failed, "out": str(out), "failed_path": str(failed_path)}
