"""Selection-matrix rows: one per configuration (cfg mode) or one per atom (nbh mode).

Rows are in MLIP's parameter order (radial coefficients, species coefficients, moment coefficients),
the order of the A and A^-1 stored in an ``.almtp``; ``Potential`` returns its Jacobians in motep's
order (moment, species, radial), so they are permuted here.

The weights are those of MLIP's ``#MVS_v1.1`` header:

- ``energy_weight`` w_E: one row per configuration, w_E * dE/dtheta / N^(weight_scaling/2)
  (weight_scaling 2 divides by N: a per-atom energy; 1 divides by sqrt(N); 0 not at all);
- ``force_weight``, ``stress_weight``: rows per force/stress component (MLIP-3's "all equations"
  selection; not supported here, a clear error says so);
- ``site_en_weight``: one row per atom, dV_i/dtheta (the neighbourhood, "nbh" mode).

An MLIP equation index (stored in an ``.almtp`` beside each active row) is 0 for the energy row and
1 + 3N + 9 + i for the site energy of atom i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from seilearn.errors import InputError
from seilearn.mtp import kernel
from seilearn.species import type_indices

MODES = ("cfg", "nbh")


@dataclass(frozen=True)
class SelectionWeights:
    """MLIP's selection weights (``#MVS_v1.1`` header)."""

    energy_weight: float = 0.0
    force_weight: float = 0.0
    stress_weight: float = 0.0
    site_en_weight: float = 1.0
    weight_scaling: int = 2

    @classmethod
    def for_mode(cls, mode: str, weight_scaling: int = 2) -> SelectionWeights:
        """cfg: energy rows only; nbh: site-energy rows only (MLIP's two common settings)."""
        if mode == "cfg":
            return cls(energy_weight=1.0, site_en_weight=0.0, weight_scaling=weight_scaling)
        if mode == "nbh":
            return cls(energy_weight=0.0, site_en_weight=1.0, weight_scaling=weight_scaling)
        raise InputError(f"selection mode {mode!r} must be cfg or nbh")

    @property
    def mode(self) -> str:
        if self.force_weight != 0.0 or self.stress_weight != 0.0:
            raise InputError("selection by force or stress equations (force_weight/stress_weight != 0) is not "
                             "supported; use energy_weight (cfg mode) or site_en_weight (nbh mode)")
        if self.energy_weight != 0.0 and self.site_en_weight != 0.0:
            raise InputError("selection with both energy_weight and site_en_weight set is not supported; "
                             "set one of them to 0")
        if self.energy_weight != 0.0:
            return "cfg"
        if self.site_en_weight != 0.0:
            return "nbh"
        raise InputError("all selection weights are 0; set energy_weight (cfg) or site_en_weight (nbh)")

    def to_dict(self) -> dict:
        return asdict(self)


def _as_weights(mode_or_weights: str | SelectionWeights) -> SelectionWeights:
    if isinstance(mode_or_weights, SelectionWeights):
        return mode_or_weights
    return SelectionWeights.for_mode(mode_or_weights)


def mlip_order(potential, jac: np.ndarray) -> np.ndarray:
    """Permute Jacobian columns from motep's order (moment, species, radial) to MLIP's (radial, species, moment)."""
    model = potential.model
    nm, ns = int(model.alpha_scalar_moments), int(model.species_count)
    return np.concatenate([jac[..., nm + ns:], jac[..., nm:nm + ns], jac[..., :nm]], axis=-1)


def rows_of(potential, atoms: Atoms, mode: str | SelectionWeights) -> np.ndarray:
    """The selection rows of one configuration (MLIP parameter order).

    cfg: ``energy_weight * dE/dtheta / N**(weight_scaling/2)`` (1 row); nbh: ``dV_i/dtheta`` (N rows).
    """
    w = _as_weights(mode)
    centres = centre_mask(atoms)
    n = int(centres.sum())
    if n == 0:
        raise InputError("a configuration with no (non-ghost) atoms cannot be graded")
    sel = None if n == len(atoms) else centres
    if w.mode == "cfg":  # E = sum of the site energies of the centres (ghost atoms are neighbours only)
        energy = site_energy_rows(potential, atoms, sel, total=True)
        return energy[None, :] * (w.energy_weight / n ** (w.weight_scaling / 2.0))
    return site_energy_rows(potential, atoms, sel)


def centre_mask(atoms: Atoms) -> np.ndarray:
    """Atoms that own a neighbourhood: all but MLIP's ghost atoms (``atoms.arrays['ghost']``)."""
    ghost = atoms.arrays.get("ghost")
    return np.ones(len(atoms), bool) if ghost is None else ~np.asarray(ghost, bool)


def equation_indices(n_atoms: int, mode: str | SelectionWeights) -> np.ndarray:
    """MLIP's equation index of each row of a configuration of ``n_atoms`` atoms."""
    if _as_weights(mode).mode == "cfg":
        return np.zeros(1, dtype=np.int64)
    return 1 + 3 * n_atoms + 9 + np.arange(n_atoms, dtype=np.int64)


def stack_rows(potential, atoms_list: Sequence[Atoms], mode: str | SelectionWeights,
               progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, configuration index of each row, MLIP equation index of each row)."""
    w = _as_weights(mode)
    masks = []
    for atoms in atoms_list:
        m = centre_mask(atoms)
        if not m.any():
            raise InputError("a configuration with no (non-ghost) atoms cannot be graded")
        masks.append(None if m.all() else m)
    if not atoms_list:
        return np.zeros((0, potential.n_params)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sizes = [len(atoms) if m is None else int(m.sum()) for atoms, m in zip(atoms_list, masks)]
    owners = np.repeat(np.arange(len(atoms_list), dtype=np.int64), sizes if w.mode == "nbh" else 1)
    eqns = np.concatenate([equation_indices(n, mode) for n in sizes])
    if w.mode == "nbh":  # straight into one matrix: a training set's rows are 100s of MB, a second copy costs
        rows = np.empty((sum(sizes), potential.n_params))
        ends = np.cumsum(sizes)
        batch_site_rows(potential, atoms_list, masks, progress=progress,
                        out=[rows[e - n:e] for n, e in zip(sizes, ends)])
        return rows, owners, eqns
    sums = [site.sum(axis=0) * (w.energy_weight / len(site) ** (w.weight_scaling / 2.0))
            for site in batch_site_rows(potential, atoms_list, masks, progress=progress)]
    return np.array(sums), owners, eqns


# -- site-energy Jacobian ---------------------------------------------------------------------------
# Grading needs dV_i/dtheta only (motep's training engine also builds the force and stress Jacobians, 10x the
# work): the compiled kernel (seilearn.mtp.kernel) computes the rows directly, threaded over atoms.


def _types_of(potential, atoms: Atoms) -> np.ndarray:
    return type_indices(atoms, potential.species, "configuration (the potential's species)")


def _site_rows(potential, arrays: kernel.ModelArrays, atoms: Atoms, centres: np.ndarray | None,
               out: np.ndarray | None = None) -> np.ndarray:
    nl = kernel.neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, float(potential.model.radial_basis.max))
    idx = None if centres is None else np.flatnonzero(centres)
    return kernel.site_rows(arrays, atoms.positions, _types_of(potential, atoms), nl, idx, out)


def site_energy_rows(potential, atoms: Atoms, centres: np.ndarray | None = None, total: bool = False) -> np.ndarray:
    """dV_i/dtheta for the atoms in ``centres`` (default all), MLIP parameter order, shape (n, n_params);
    with ``total`` their sum (the energy Jacobian of those atoms), shape (n_params,)."""
    rows = _site_rows(potential, kernel.ModelArrays(potential.model), atoms, centres)
    return rows.sum(axis=0) if total else rows


def batch_site_rows(potential, atoms_list: Sequence[Atoms], centres_list: Sequence[np.ndarray | None],
                    progress: bool = False, out: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """``site_energy_rows`` of many configurations (``centres_list[k]``: the centres of configuration k, None
    for all), into ``out[k]`` when given."""
    arrays = kernel.ModelArrays(potential.model)
    outs = out if out is not None else [None] * len(atoms_list)
    it = zip(atoms_list, centres_list, outs)
    if progress and len(atoms_list) > 20:
        from tqdm import tqdm

        it = tqdm(it, total=len(atoms_list), desc="selection rows", unit="cfg", leave=False)
    return [_site_rows(potential, arrays, atoms, centres, o) for atoms, centres, o in it]
