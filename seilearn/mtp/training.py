"""Training an MTP: linear least squares on the linear coefficients, then quasi-Newton on all
parameters, then a final linear re-solve (MLIP's recipe, in short) on motep's loss and gradients.

``train`` works from the generated level template or continues from a previous potential. motep
0.2.0 drops the radial coefficients from ``optimized`` after an LLS step; we restore it after every
run so a continued training optimises everything again.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import MTPModel, to_text
from seilearn.mtp.potential import Potential
from seilearn.mtp.templates import make_template

log = logging.getLogger("seilearn.mtp.training")
DEFAULT_WEIGHTS = {"energy": 1.0, "forces": 0.01, "stress": 0.001}
ALL_PARAMETERS = ["species_coeffs", "moment_coeffs", "radial_coeffs"]


@dataclass
class TrainingLog:
    """Per-stage wall times and the final errors on the training data."""

    stages: list[dict] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def errors(potential: Potential, atoms_list: Sequence[Atoms]) -> dict[str, float]:
    """RMSE of energy per atom (meV/atom), forces (meV/A) and stress (GPa) against the stored labels."""
    de, df, ds = [], [], []
    for a in atoms_list:
        res = potential.calculate(a)
        de.append((res["energy"] - a.get_potential_energy()) / len(a))
        df.append((res["forces"] - a.get_forces()).ravel())
        if a.pbc.all():
            with contextlib.suppress(Exception):
                ds.append(res["stress"] - a.get_stress())
    out = {"rmse_energy_mev_atom": 1e3 * float(np.sqrt(np.mean(np.square(de)))),
           "rmse_forces_mev_a": 1e3 * float(np.sqrt(np.mean(np.square(np.concatenate(df))))),
           "n_configurations": float(len(atoms_list))}
    if ds:
        out["rmse_stress_gpa"] = 160.21766 * float(np.sqrt(np.mean(np.square(ds))))
    return out


def min_distance(atoms_list: Sequence[Atoms]) -> float:
    from ase.neighborlist import neighbor_list

    best = np.inf
    for a in atoms_list:
        d = neighbor_list("d", a, 3.0)
        if d.size:
            best = min(best, float(d.min()))
    return best if np.isfinite(best) else 1.5


def _check(atoms_list: Sequence[Atoms], species: Sequence[str]) -> None:
    if not atoms_list:
        raise InputError("no training configurations")
    for k, a in enumerate(atoms_list):
        unknown = sorted(set(a.get_chemical_symbols()) - set(species))
        if unknown:
            raise InputError(f"training configuration {k}: species {unknown} not in {list(species)}")
        if a.calc is None or "energy" not in a.calc.results or "forces" not in a.calc.results:
            raise InputError(f"training configuration {k} has no energy/forces labels")


def train(atoms_list: Sequence[Atoms], species: Sequence[str], *, level: int = 8, cutoff: float = 5.0,
          init: MTPModel | None = None, weights: dict[str, float] | None = None, max_iter: int = 200,
          seed: int = 0, min_dist: float | None = None,
          callback: Callable[[dict], None] | None = None) -> tuple[MTPModel, TrainingLog]:
    """Fit an MTP to labelled ``atoms_list`` (energies, forces, stresses)."""
    from motep.loss import LossSetting
    from motep.train import Trainer

    species = list(species)
    _check(atoms_list, species)
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    if init is None:
        md = min_dist if min_dist is not None else max(0.5, round(0.95 * min_distance(atoms_list), 2))
        model = make_template(level, len(species), md, cutoff)
    else:
        model = init
    model.species = [atomic_numbers[s] for s in species]
    model.optimized = list(ALL_PARAMETERS)
    images = [a for a in atoms_list]
    loss = LossSetting(energy_weight=w["energy"], forces_weight=w["forces"], stress_weight=w["stress"])
    steps = [{"method": "LLS"},
             {"method": "minimize", "kwargs": {"method": "L-BFGS-B", "options": {"maxiter": int(max_iter)}}},
             {"method": "LLS"}]
    history = TrainingLog()
    t0 = time.time()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # motep writes intermediate_*.mtp files into the working directory
        try:
            trainer = Trainer(model, seed=seed + 1, engine="cext", loss=loss, steps=steps)
            quiet = logging.getLogger("motep")
            level_before = quiet.level
            quiet.setLevel(logging.WARNING)
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # motep prints its step timings
                    trainer.train(images)
            finally:
                quiet.setLevel(level_before)
        finally:
            os.chdir(cwd)
    model.optimized = list(ALL_PARAMETERS)
    history.stages.append({"steps": [s["method"] for s in steps], "max_iter": max_iter, "wall_s": time.time() - t0})
    history.final = errors(Potential(model, species), atoms_list)
    history.final["wall_s"] = time.time() - t0
    if callback:
        callback(history.final)
    log.info("trained level-%d MTP on %d configurations in %.1f s: %.2f meV/atom, %.1f meV/A", level,
             len(atoms_list), history.final["wall_s"], history.final["rmse_energy_mev_atom"],
             history.final["rmse_forces_mev_a"])
    return model, history


def model_text(model: MTPModel) -> str:
    return to_text(model)
