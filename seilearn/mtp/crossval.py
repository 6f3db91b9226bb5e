"""k-fold cross-validation of MTP training (the paper's 10-fold check).

``cross_validate`` is a pure function of its inputs: each fold is independent (``run_fold``), so a
caller may farm folds out to processes or FireWorks and combine them with ``summarize``.
Units: energy per atom meV/atom, forces meV/A, stress GPa.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.mtp.potential import Potential
from seilearn.mtp.training import errors, train

METRICS = ("rmse_energy_mev_atom", "rmse_forces_mev_a", "rmse_stress_gpa")
UNITS = {"rmse_energy_mev_atom": "meV/atom", "rmse_forces_mev_a": "meV/A", "rmse_stress_gpa": "GPa"}


def fold_indices(n: int, folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test indices of each fold: a seeded shuffle of range(n) cut into ``folds`` near-equal parts."""
    if folds < 2:
        raise InputError(f"--folds {folds}: cross-validation needs at least 2 folds")
    if n < folds:
        raise InputError(f"{n} configurations are too few for {folds} folds; use --folds {max(2, n)} or fewer")
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, folds)]


def run_fold(atoms_list: Sequence[Atoms], species: Sequence[str], test: Sequence[int],
             train_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train on everything but ``test`` and report train and test errors of that fold."""
    test_set = set(int(i) for i in test)
    tr = [a for i, a in enumerate(atoms_list) if i not in test_set]
    te = [atoms_list[i] for i in sorted(test_set)]
    model, log = train(tr, species, **(train_kwargs or {}))
    pot = Potential(model, species)
    return {"test_indices": sorted(test_set), "train": errors(pot, tr), "test": errors(pot, te),
            "wall_s": log.final.get("wall_s", 0.0)}


def summarize(fold_results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of each metric, on train and test."""
    out: dict[str, Any] = {"folds": len(fold_results), "units": UNITS, "per_fold": list(fold_results)}
    for part in ("train", "test"):
        out[part] = {}
        for m in METRICS:
            vals = [f[part][m] for f in fold_results if m in f[part]]
            if vals:
                out[part][m] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
    return out


def cross_validate(atoms_list: Sequence[Atoms], species: Sequence[str], folds: int = 10,
                   train_kwargs: dict[str, Any] | None = None, *, seed: int = 0,
                   progress: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """k-fold cross-validation; returns ``summarize`` of the folds (JSON-serialisable)."""
    atoms_list = list(atoms_list)
    results = []
    for k, test in enumerate(fold_indices(len(atoms_list), folds, seed)):
        res = run_fold(atoms_list, species, test, train_kwargs)
        res["fold"] = k
        results.append(res)
        if progress:
            progress(k, res)
    return summarize(results)


def table(summary: dict[str, Any]) -> str:
    """A plain-text table of the cross-validation summary."""
    lines = [f"{summary['folds']}-fold cross-validation (mean +- std over folds)",
             f"{'metric':28s} {'train':>20s} {'test':>20s}"]
    for m in METRICS:
        if m not in summary["train"]:
            continue
        cells = [f"{summary[p][m]['mean']:.3f} +- {summary[p][m]['std']:.3f}" for p in ("train", "test")]
        lines.append(f"{m + ' [' + UNITS[m] + ']':28s} {cells[0]:>20s} {cells[1]:>20s}")
    return "\n".join(lines)


def to_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2)
