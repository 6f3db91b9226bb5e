"""Training an MTP the way MLIP does it, with a compiled residual Jacobian.

motep's own training path (LLS, then scipy L-BFGS on a loss it assembles in Python) fits an order of
magnitude worse than MLIP on the same data, and its training kernel spends most of its time on
structurally zero derivative blocks. We evaluate energies, forces, virials and their exact Jacobians
with respect to every parameter in ``seilearn.mtp.fit_kernels`` (C; neighbour lists built once) and fit:

1. species-blind pre-training: all species pairs share one set of radial coefficients;
2. linear least squares (LLS) on the linear part (species and moment coefficients);
3. Levenberg-Marquardt on all parameters (Gauss-Newton on the full residual Jacobian), with the
   linear part re-solved exactly at MLIP's iterations 25, 70, 100, 150, 250, 400.

Every step is accepted only when it lowers the loss, so continuing from a potential never ends worse
than it started. Runs are reproducible for a given seed. ``train`` never mutates ``init``.

Retraining: ``train(atoms, species, init=parent, mode="warm")`` continues from the parent (no
pre-training; exact linear re-solve, then Levenberg-Marquardt until the loss stalls), the cheap choice
after an active-learning iteration added a few configurations; ``mode="fresh"`` refits from the level
template (with the parent's level, cutoff and min_dist when ``init`` is given).

Weights (the contract the cutting code relies on). The loss is the sum of squared residual rows

    w_E * e_k * (E_k - E_k^ref)^2 / N_k^s                       one row per configuration k
    w_F * f_i * |F_i - F_i^ref|^2                               three rows per atom i
    w_S * s_k * V_k^2 |sigma_k - sigma_k^ref|^2 / N_k^s         six rows per configuration with a stress

where w_E, w_F, w_S are ``weights`` ("energy", "forces", "stress"; defaults 1, 0.01, 0.001 as MLIP),
s is MLIP's ``weight_scaling``, and the per-configuration and per-atom weights are read from the
ASE Atoms:

- ``atoms.info["energy_weight"]`` (float >= 0, default 1) -> e_k,
- ``atoms.arrays["force_weight"]`` (shape (N,), floats >= 0, default 1) -> f_i,
- ``atoms.info["stress_weight"]`` (float >= 0, default 1) -> s_k.

Rows follow the weights exactly: a weight of 0 zeroes the residual row and its Jacobian row, so the
labels it multiplies do not enter the fit at all (garbage forces on weight-0 atoms give bit-identical
coefficients). Training statistics and ``errors`` count only labels with a non-zero weight.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.mtp.fit_kernels import ConfigKernel, ModelArrays
from seilearn.mtp.mtpfile import MTPModel, to_text
from seilearn.mtp.potential import Potential
from seilearn.mtp.templates import make_template

log = logging.getLogger("seilearn.mtp.training")
DEFAULT_WEIGHTS = {"energy": 1.0, "forces": 0.01, "stress": 0.001}
ALL_PARAMETERS = ["species_coeffs", "moment_coeffs", "radial_coeffs"]
RESOLVE_AT = (25, 70, 100, 150, 250, 400)
EV_A3_TO_GPA = 160.21766208
_VOIGT = [0, 4, 8, 5, 2, 1]
MODES = ("fresh", "warm")


@dataclass
class TrainingLog:
    """Per-iteration records, stage wall times and the final errors on the training data."""

    iterations: list[dict] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    validation: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def config_weights(atoms: Atoms, where: int | str = "") -> tuple[float, np.ndarray, float]:
    """(energy weight, per-atom force weights (N,), stress weight) of a configuration (module docstring)."""
    label = f"training configuration {where}" if where != "" else "configuration"
    ew = atoms.info.get("energy_weight", 1.0)
    sw = atoms.info.get("stress_weight", 1.0)
    for name, v in (("energy_weight", ew), ("stress_weight", sw)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v < 0:
            raise InputError(f"{label}: info[{name!r}] = {v!r}; it must be a finite number >= 0")
    if "force_weight" in atoms.arrays:
        fw = np.asarray(atoms.arrays["force_weight"], dtype=float)
        if fw.shape != (len(atoms),) or not np.all(np.isfinite(fw)) or np.any(fw < 0):
            raise InputError(f"{label}: arrays['force_weight'] must hold one finite weight >= 0 per atom "
                             f"(shape ({len(atoms)},)), got shape {fw.shape}")
    else:
        fw = np.ones(len(atoms))
    return float(ew), fw, float(sw)


def errors(potential: Potential, atoms_list: Sequence[Atoms]) -> dict[str, float]:
    """RMSE of energy per atom (meV/atom), forces (meV/A) and stress (GPa) against the stored labels,
    over the labels that carry a non-zero training weight (all of them unless weights are set)."""
    de, df, ds = [], [], []
    for a in atoms_list:
        ew, fw, sw = config_weights(a)
        res = potential.calculate(a)
        if ew > 0:
            de.append((res["energy"] - a.get_potential_energy()) / len(a))
        df.append((res["forces"] - a.get_forces())[fw > 0].ravel())
        ref = _ref_stress(a)
        if ref is not None and sw > 0:
            ds.append(res["stress"] - ref)
    forces = np.concatenate(df)
    out = {"rmse_energy_mev_atom": 1e3 * float(np.sqrt(np.mean(np.square(de)))) if de else float("nan"),
           "rmse_forces_mev_a": 1e3 * float(np.sqrt(np.mean(np.square(forces)))) if forces.size else float("nan"),
           "n_configurations": float(len(atoms_list))}
    if ds:
        out["rmse_stress_gpa"] = EV_A3_TO_GPA * float(np.sqrt(np.mean(np.square(ds))))
    return out


def _ref_stress(a: Atoms) -> np.ndarray | None:
    if a.cell.rank != 3 or a.calc is None or a.calc.results.get("stress") is None:
        return None
    s = np.asarray(a.calc.results["stress"], dtype=float)
    return s if s.shape == (6,) and np.all(np.isfinite(s)) else None


def min_distance(atoms_list: Sequence[Atoms]) -> float:
    """Shortest interatomic distance in the data (1.5 A when no pair is closer than 3 A)."""
    from seilearn.mtp.potential import neighbour_pairs

    best = np.inf
    for a in atoms_list:
        i, j, shift = neighbour_pairs(a, 3.0)
        if i.size:
            best = min(best, float(np.linalg.norm(a.positions[j] + shift - a.positions[i], axis=1).min()))
    return best if np.isfinite(best) else 1.5


def _check(atoms_list: Sequence[Atoms], species: Sequence[str]) -> None:
    if not atoms_list:
        raise InputError("no training configurations; pass at least one labelled configuration")
    for k, a in enumerate(atoms_list):
        unknown = sorted(set(a.get_chemical_symbols()) - set(species))
        if unknown:
            raise InputError(f"training configuration {k}: species {unknown} not in {list(species)}; "
                             "add them to --species")
        if a.calc is None or "energy" not in a.calc.results or "forces" not in a.calc.results:
            raise InputError(f"training configuration {k} has no energy/forces labels; label it first")
        if not np.all(np.isfinite(a.calc.results["forces"])) or not np.isfinite(a.calc.results["energy"]):
            raise InputError(f"training configuration {k} has NaN/inf labels; relabel or drop it")
        config_weights(a, k)


class _Residuals:
    """Weighted residuals r(theta) and their Jacobian for a fixed list of labelled configurations.

    Parameter order (motep's): moment coefficients, species coefficients, radial coefficients.
    Rows per configuration: one energy row sqrt(w_E e_k) dE / N^(s/2); 3N force rows sqrt(w_F f_i) dF_i;
    six virial rows sqrt(w_S s_k) V dsigma / N^(s/2) when the configuration has a stress label, with
    w_* the global weights, e_k, f_i, s_k the per-configuration and per-atom weights (module docstring)
    and s MLIP's ``weight_scaling`` (default 1: MLIP's default for configurations sampled from MD; 2 fits
    energies per atom, which weights big cells' energies N times less and fits energies several times worse).
    Neighbour lists are built once (the configurations do not move) and evaluated by the compiled kernel.
    """

    def __init__(self, model: MTPModel, atoms_list: Sequence[Atoms], weights: dict[str, float],
                 weight_scaling: int = 1) -> None:
        self.model = model
        self.atoms = list(atoms_list)
        self.arrays = ModelArrays(model)
        self.kernels = [ConfigKernel(a, self.arrays, list(model.species)) for a in self.atoms]
        n = np.array([len(a) for a in self.atoms], dtype=float)
        escale = n ** (weight_scaling / 2.0)
        cfg_w = [config_weights(a, k) for k, a in enumerate(self.atoms)]
        self.e_ref = np.array([a.get_potential_energy() for a in self.atoms])
        self.f_ref = [np.asarray(a.calc.results["forces"], dtype=float) for a in self.atoms]
        self.s_ref = [_ref_stress(a) if weights["stress"] > 0 else None for a in self.atoms]
        self.vol = np.array([a.get_volume() if a.cell.rank == 3 else 0.0 for a in self.atoms])
        self.n_atoms = n
        # row scales: sqrt of the weights, with MLIP's N^(s/2) for energies and virials
        self.e_scale = np.sqrt(weights["energy"] * np.array([w[0] for w in cfg_w])) / escale
        self.f_scale = [np.repeat(np.sqrt(weights["forces"] * w[1]), 3) for w in cfg_w]
        self.s_scale = np.sqrt(weights["stress"] * np.array([w[2] for w in cfg_w])) * self.vol / escale
        # which labels the statistics count: those that carry weight
        self.e_used = np.array([w[0] > 0 for w in cfg_w])
        self.f_used = [np.repeat(w[1] > 0, 3) for w in cfg_w]
        self.rows = []
        row = 0
        for k, a in enumerate(self.atoms):
            has_s = self.s_ref[k] is not None
            self.rows.append((row, row + 1, row + 1 + 3 * len(a), has_s))
            row += 1 + 3 * len(a) + (6 if has_s else 0)
        self.n_res = row
        starts = [rw[0] for rw in self.rows]
        self._spans_cache = list(zip(starts, starts[1:] + [self.n_res]))
        # fixed work units: partial sums are added in chunk order, so results do not depend on the thread count
        n_cfg = len(self.atoms)
        self._chunks = [range(s, min(s + CHUNK, n_cfg)) for s in range(0, n_cfg, CHUNK)]
        self._max_rows = max((b - a for a, b in self._spans_cache), default=1)

    def _config(self, k: int, coeffs, r: np.ndarray, sq: dict, block: np.ndarray | None,
                jv: np.ndarray | None = None) -> None:
        """Residuals of configuration k into ``r`` (its own rows) and, when ``block`` is given (zeroed, its
        rows only), the weighted Jacobian rows (``jv``: a 9 x n_par scratch array); accumulates the statistics
        in ``sq``."""
        r0, r1, r2, has_s = self.rows[k]
        n3 = r2 - r1
        if block is not None:
            jv.fill(0.0)
            energy, forces, virial = self.kernels[k].evaluate(coeffs, block[0], block[1:1 + n3], jv)
        else:
            energy, forces, virial = self.kernels[k].evaluate(coeffs)
        de = energy - self.e_ref[k]
        r[r0] = self.e_scale[k] * de
        if self.e_used[k]:
            sq["e"] += (de / self.n_atoms[k]) ** 2
            sq["ne"] += 1
        df = (forces - self.f_ref[k]).ravel()
        r[r1:r2] = self.f_scale[k] * df
        used = self.f_used[k]
        sq["f"] += float(np.sum(np.square(df[used])))
        sq["nf"] += int(used.sum())
        if block is not None:
            block[0] *= self.e_scale[k]
            block[1:1 + n3] *= self.f_scale[k][:, None]
        if has_s:
            half = 0.5 / self.vol[k]
            stress = ((virial + virial.T) * half).ravel()[_VOIGT]
            ds = stress - self.s_ref[k]
            r[r2:r2 + 6] = self.s_scale[k] * ds
            if self.s_scale[k] > 0:
                sq["s"] += float(ds @ ds)
                sq["ns"] += 6
            if block is not None:
                jv3 = jv.reshape(3, 3, -1)
                block[1 + n3:7 + n3] = (jv3 + jv3.transpose(1, 0, 2)).reshape(9, -1)[_VOIGT] * (half * self.s_scale[k])

    @staticmethod
    def _stats(sq: dict) -> dict:
        stats = {"rmse_energy_mev_atom": 1e3 * np.sqrt(sq["e"] / max(sq["ne"], 1)),
                 "rmse_forces_mev_a": 1e3 * np.sqrt(sq["f"] / max(sq["nf"], 1))}
        if sq["ns"]:
            stats["rmse_stress_gpa"] = EV_A3_TO_GPA * np.sqrt(sq["s"] / sq["ns"])
        return stats

    def evaluate(self, theta: np.ndarray, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None, dict]:
        """(residuals, full Jacobian or None, statistics). The full Jacobian is n_res x n_par; the optimiser
        uses ``normal_equations``, which never holds more than one configuration's rows per thread."""
        coeffs = self.arrays.split(theta)
        r = np.empty(self.n_res)
        jac = np.zeros((self.n_res, self.arrays.n_par)) if jacobian else None
        if jacobian:
            sq = _zero_stats()
            jv = np.zeros((9, self.arrays.n_par))
            for k, (a, b) in enumerate(self._spans_cache):
                self._config(k, coeffs, r, sq, jac[a:b], jv)
            return r, jac, self._stats(sq)

        def work(chunk: range) -> dict:
            sq = _zero_stats()
            for k in chunk:
                self._config(k, coeffs, r, sq, None)
            return sq
        return r, None, self._stats(_sum_stats(_map_chunks(work, self._chunks)))

    def normal_equations(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """(residuals r, J^T J, J^T r, statistics), accumulated one configuration's Jacobian rows at a time (per
        thread: ``seilearn.mtp.kernel.threads``), so memory stays O(n_par^2) however large the training set."""
        coeffs = self.arrays.split(theta)
        p = self.arrays.n_par
        r = np.empty(self.n_res)

        def work(chunk: range) -> tuple[np.ndarray, np.ndarray, dict]:
            h, g, sq = np.zeros((p, p)), np.zeros(p), _zero_stats()
            buf, jv = np.empty((self._max_rows, p)), np.zeros((9, p))
            for k in chunk:
                a, b = self._spans_cache[k]
                block = buf[:b - a]
                block.fill(0.0)
                self._config(k, coeffs, r, sq, block, jv)
                h += block.T @ block
                g += block.T @ r[a:b]
            return h, g, sq
        parts = _map_chunks(work, self._chunks)
        h, g = np.zeros((p, p)), np.zeros(p)
        for hk, gk, _ in parts:
            h += hk
            g += gk
        return r, h, g, self._stats(_sum_stats([sq for _, _, sq in parts]))


# configurations per work unit of the residual and normal-equation sums
CHUNK = 16


def _zero_stats() -> dict:
    return {"e": 0.0, "ne": 0, "f": 0.0, "nf": 0, "s": 0.0, "ns": 0}


def _sum_stats(parts: Sequence[dict]) -> dict:
    total = _zero_stats()
    for sq in parts:
        for key, value in sq.items():
            total[key] += value
    return total


def _map_chunks(work: Callable, chunks: Sequence[range]) -> list:
    """``[work(c) for c in chunks]``, on ``kernel.default_threads()`` threads (the compiled kernel and NumPy's
    products release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from seilearn.mtp.kernel import default_threads

    n = min(default_threads(), len(chunks))
    if n <= 1:
        return [work(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="mtp-fit") as pool:
        return list(pool.map(work, chunks))


def _loss(r: np.ndarray, n_cfg: int) -> float:
    return float(r @ r) / n_cfg


def _initial_model(atoms_list, species, level, cutoff, min_dist, init, rng) -> MTPModel:
    if init is not None:
        model = copy.deepcopy(init)
        if model.species_count != len(species):
            raise InputError(f"the initial potential has {model.species_count} species but {len(species)} were "
                             f"given ({list(species)}); pass the species of the potential")
    else:
        md = min_dist if min_dist is not None else max(0.5, round(0.95 * min_distance(atoms_list), 2))
        if md >= cutoff:
            raise InputError(f"min_dist {md} must be below the cutoff {cutoff}; pass a larger --cutoff")
        model = make_template(level, len(species), md, cutoff)
        _random_start(model, rng)
    model.species = [atomic_numbers[s] for s in species]
    model.optimized = list(ALL_PARAMETERS)
    model.scaling = 1.0 if not model.scaling else model.scaling
    return model


def _random_start(model: MTPModel, rng: np.random.Generator) -> None:
    """Species-blind random start: the same random radial functions for every species pair, zero linear part."""
    spc, rfc, rbs = model.species_count, model.radial_funcs_count, model.radial_basis.size
    shared = rng.uniform(-0.1, 0.1, (rfc, rbs))
    model.radial_coeffs = np.broadcast_to(shared, (spc, spc, rfc, rbs)).copy()
    model.species_coeffs = np.zeros(spc)
    model.moment_coeffs = np.zeros(model.alpha_scalar_moments)


def _blind_map(model: MTPModel) -> np.ndarray:
    """Matrix P with theta_full = P theta_blind (radial coefficients shared by all species pairs)."""
    asm, spc = model.alpha_scalar_moments, model.species_count
    nr = model.radial_funcs_count * model.radial_basis.size
    lin = asm + spc
    p = np.zeros((lin + spc * spc * nr, lin + nr))
    p[:lin, :lin] = np.eye(lin)
    for pair in range(spc * spc):
        p[lin + pair * nr: lin + (pair + 1) * nr, lin:] = np.eye(nr)
    return p


def _lls_step(h: np.ndarray, g: np.ndarray, n_lin: int, ridge: float = 1e-10) -> np.ndarray:
    """Exact re-solve of the linear coefficients (they enter the residuals linearly), from the normal
    equations h = J^T J, g = J^T r."""
    a = h[:n_lin, :n_lin].copy()
    a[np.diag_indices_from(a)] += ridge * (np.trace(a) / n_lin + 1.0)
    step = np.zeros(h.shape[0])
    step[:n_lin] = -np.linalg.solve(a, g[:n_lin])
    return step


def _lm(res: _Residuals, theta: np.ndarray, p_map: np.ndarray | None, iters: int, it0: int, hist: TrainingLog,
        callback, resolve_at: Sequence[int], stage: str, tol: float, patience: int, val=None) -> np.ndarray:
    """Levenberg-Marquardt on theta_full = p_map @ x (p_map None: all parameters).

    Trial steps are judged on residuals alone; the normal equations are computed only at accepted points."""
    n_cfg = len(res.atoms)
    n_lin = res.model.alpha_scalar_moments + res.model.species_count
    r, h_full, g_full, stats = res.normal_equations(theta)
    loss = _loss(r, n_cfg)
    lam = 1e-3
    best_loss, stall = loss, 0
    best_val, best_val_theta, val_stall = np.inf, theta.copy(), 0
    for it in range(iters):
        if p_map is None:
            h, g = h_full, g_full
        else:
            h, g = p_map.T @ h_full @ p_map, p_map.T @ g_full
        d = np.diag(h).copy() + 1e-12 * (np.trace(h) / h.shape[0] + 1e-30)
        trials = []
        if (it0 + it) in resolve_at:
            trials.append(("lls", None))
        trials.append(("lm", None))
        accepted = None
        for kind, _ in trials:
            for _attempt in range(8 if kind == "lm" else 1):
                try:
                    if kind == "lls":
                        step = _lls_step(h_full, g_full, n_lin)
                    else:
                        x_step = -np.linalg.solve(h + lam * np.diag(d), g)
                        step = x_step if p_map is None else p_map @ x_step
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                r_new, _, st_new = res.evaluate(theta + step, jacobian=False)
                loss_new = _loss(r_new, n_cfg)
                if np.isfinite(loss_new) and loss_new < loss:
                    accepted = kind
                    theta, stats, loss = theta + step, st_new, loss_new
                    if kind == "lm":
                        lam = max(lam / 3.0, 1e-9)
                    break
                if kind == "lm":
                    lam *= 4.0
            if accepted:
                break
        if accepted:
            r, h_full, g_full, _ = res.normal_equations(theta)
        rec = {"iteration": it0 + it, "stage": stage, "loss": loss, "step": accepted or "rejected",
               "lambda": lam, **{k: float(v) for k, v in stats.items()}}
        if val is not None:
            rv, _, sv = val.evaluate(theta, jacobian=False)
            rec["val_loss"] = _loss(rv, len(val.atoms))
            rec.update({f"val_{k}": float(v) for k, v in sv.items()})
            if rec["val_loss"] < best_val * (1 - 1e-4):
                best_val, best_val_theta, val_stall = rec["val_loss"], theta.copy(), 0
            else:
                val_stall += 1
        hist.iterations.append(rec)
        if callback:
            callback(rec)
        if loss < best_loss * (1 - tol):
            best_loss, stall = loss, 0
        else:
            stall += 1
        if stall >= patience or lam > 1e10:
            break
        if val is not None and val_stall >= patience:
            res.model.parameters = best_val_theta
            return best_val_theta
    res.model.parameters = theta
    return theta


def train(atoms_list: Sequence[Atoms], species: Sequence[str], *, level: int = 8, cutoff: float = 5.0,
          init: MTPModel | None = None, mode: Literal["fresh", "warm"] | None = None,
          weights: dict[str, float] | None = None, max_iter: int = 200, seed: int = 0,
          min_dist: float | None = None, pretrain_iter: int = 75, restarts: int = 4, screen_iter: int = 30,
          validation: Sequence[Atoms] | float | None = None, tol: float | None = None, patience: int | None = None,
          callback: Callable[[dict], None] | None = None, weight_scaling: int = 1) -> tuple[MTPModel, TrainingLog]:
    """Fit an MTP to labelled ``atoms_list`` (energies, forces, stresses; weights as in the module
    docstring); returns (model, log).

    ``mode="fresh"`` (the default without ``init``) starts from random radial functions: ``restarts``
    random starts are each pre-trained species-blind (up to ``pretrain_iter`` iterations) and trained
    on all parameters for ``screen_iter`` iterations; the one with the lowest loss continues, so the
    chosen fit runs ``max_iter`` iterations in all and the others cost ``pretrain + screen_iter`` each
    (MTP losses have many local minima; a few cheap starts find a better one than one long run). With
    ``init``, a fresh fit keeps the parent's basis (level, cutoff, min_dist) and ignores its coefficients;
    in both modes ``level``, ``cutoff`` and ``min_dist`` then come from ``init``.
    ``mode="warm"`` (the default with ``init``) continues from ``init``'s coefficients (not modified):
    exact linear re-solve, then Levenberg-Marquardt until the loss stalls; for retraining after a few
    configurations were added.

    ``validation`` is a list of labelled configurations or a fraction of ``atoms_list`` held out
    (chosen with ``seed``) for early stopping: the parameters with the best validation loss are
    returned when it stops improving for ``patience`` iterations. Training also stops when the loss
    improves by less than ``tol`` (relative) for ``patience`` iterations (defaults: 1e-5 and 15 fresh,
    1e-3 and 5 warm). ``callback`` receives each iteration's record. ``weight_scaling`` is MLIP's
    (0, 1 or 2): energy and virial residuals divided by N^(s/2).
    """
    if weight_scaling not in (0, 1, 2):
        raise InputError(f"weight_scaling {weight_scaling!r} must be 0, 1 or 2 (MLIP's convention)")
    mode = mode or ("warm" if init is not None else "fresh")
    if mode not in MODES:
        raise InputError(f"training mode {mode!r}: use one of {', '.join(MODES)}")
    if mode == "warm" and init is None:
        raise InputError("mode 'warm' continues a potential; pass init=<parent MTP> (or use mode 'fresh')")
    if restarts < 1:
        raise InputError(f"restarts {restarts}: at least one start is needed")
    # a warm fit starts near a minimum: stop once five iterations gain less than 0.1 % together (a campaign may
    # loosen it, mtp.warm_tol / warm_patience: the next retrain continues from where a warm fit stops)
    tol = tol if tol is not None else (1e-3 if mode == "warm" else 1e-5)
    patience = patience if patience is not None else (5 if mode == "warm" else 15)
    species = list(species)
    _check(atoms_list, species)
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    rng = np.random.default_rng(seed)
    atoms_list = list(atoms_list)
    val_list: list[Atoms] | None = None
    if isinstance(validation, float):
        if not 0.0 < validation < 1.0:
            raise InputError(f"validation fraction {validation} must be between 0 and 1")
        n_val = max(1, int(round(validation * len(atoms_list))))
        if n_val >= len(atoms_list):
            raise InputError(f"{len(atoms_list)} configurations are too few for a validation split")
        order = rng.permutation(len(atoms_list))
        val_list = [atoms_list[i] for i in order[:n_val]]
        atoms_list = [atoms_list[i] for i in sorted(order[n_val:])]
    elif validation is not None:
        val_list = list(validation)
        _check(val_list, species)
    model = _initial_model(atoms_list, species, level, cutoff, min_dist, init, rng)
    if mode == "fresh" and init is not None:
        _random_start(model, rng)
    hist = TrainingLog()
    t0 = time.time()
    res = _Residuals(model, atoms_list, w, weight_scaling)
    val = _Residuals(model, val_list, w, weight_scaling) if val_list else None
    theta = np.array(model.parameters, dtype=float)
    it = 0
    if mode == "fresh":
        n_pre = min(pretrain_iter, max_iter // 3)
        n_screen = min(screen_iter, max(max_iter - n_pre, 0)) if restarts > 1 else 0
        best = None
        for k in range(restarts):
            if k:
                _random_start(model, rng)
                theta = np.array(model.parameters, dtype=float)
            start = len(hist.iterations)
            label = f"start {k} " if restarts > 1 else ""
            theta = _pretrain(res, theta, n_pre, hist, callback, label, tol, patience)
            n_it = len(hist.iterations) - start
            if n_screen:
                t = time.time()
                theta = _lm(res, theta, None, n_screen, n_it, hist, callback, RESOLVE_AT, f"{label}screen", tol,
                            patience)
                hist.stages.append({"stage": f"{label}screen", "iterations": len(hist.iterations) - start - n_it,
                                    "wall_s": time.time() - t})
                n_it = len(hist.iterations) - start
            loss = _loss(res.evaluate(theta, jacobian=False)[0], len(atoms_list))
            if best is None or loss < best[0]:
                best = (loss, theta, n_it)
        _, theta, it = best
    t = time.time()
    theta = _resolve_linear(res, theta)
    theta = _lm(res, theta, None, max(max_iter - it, 0), it, hist, callback, RESOLVE_AT if mode == "fresh" else (),
                "all", tol, patience, val)
    hist.stages.append({"stage": "all", "iterations": len(hist.iterations) - it, "wall_s": time.time() - t})
    model.parameters = theta
    model.optimized = list(ALL_PARAMETERS)  # motep 0.2.0 drops entries from `optimized`; keep them all
    pot = Potential(model, species)
    hist.final = errors(pot, atoms_list)
    hist.final["wall_s"] = time.time() - t0
    hist.final["iterations"] = float(len(hist.iterations))
    if val_list:
        hist.validation = errors(pot, val_list)
    log.info("trained (%s) level-%d MTP on %d configurations in %.1f s: %.2f meV/atom, %.1f meV/A", mode,
             level, len(atoms_list), hist.final["wall_s"], hist.final["rmse_energy_mev_atom"],
             hist.final["rmse_forces_mev_a"])
    return model, hist


def _resolve_linear(res: _Residuals, theta: np.ndarray) -> np.ndarray:
    """theta with the linear coefficients re-solved exactly, when that lowers the loss."""
    n_lin = res.model.alpha_scalar_moments + res.model.species_count
    r, h, g, _ = res.normal_equations(theta)
    step = _lls_step(h, g, n_lin)
    r2, _, _ = res.evaluate(theta + step, jacobian=False)
    return theta + step if _loss(r2, 1) < _loss(r, 1) else theta


def _pretrain(res: _Residuals, theta: np.ndarray, n_pre: int, hist: TrainingLog, callback, label: str, tol: float,
              patience: int) -> np.ndarray:
    """Fit the linear part to a random radial start, then Levenberg-Marquardt with species-blind radial functions."""
    n_lin = res.model.alpha_scalar_moments + res.model.species_count
    _, h, g, _ = res.normal_equations(theta)
    theta = theta + _lls_step(h, g, n_lin)
    if n_pre > 0:
        t = time.time()
        start = len(hist.iterations)
        theta = _lm(res, theta, _blind_map(res.model), n_pre, 0, hist, callback, (), f"{label}species-blind", tol,
                    patience)
        hist.stages.append({"stage": f"{label}species-blind", "iterations": len(hist.iterations) - start,
                            "wall_s": time.time() - t})
    return _resolve_linear(res, theta)


def model_text(model: MTPModel) -> str:
    """The .mtp text of a trained model."""
    return to_text(model)
