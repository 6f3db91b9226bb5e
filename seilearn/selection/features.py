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

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from ase import Atoms

from seilearn.errors import InputError

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
    def for_mode(cls, mode: str, weight_scaling: int = 2) -> "SelectionWeights":
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
    blocks, owners, eqns = [], [], []
    w = _as_weights(mode)
    masks = []
    for atoms in atoms_list:
        m = centre_mask(atoms)
        if not m.any():
            raise InputError("a configuration with no (non-ghost) atoms cannot be graded")
        masks.append(None if m.all() else m)
    for k, (atoms, site) in enumerate(zip(atoms_list, batch_site_rows(potential, atoms_list, masks,
                                                                                 progress=progress))):
        n = len(site)
        r = site if w.mode == "nbh" else site.sum(axis=0)[None, :] * (w.energy_weight / n ** (w.weight_scaling / 2.0))
        blocks.append(r)
        owners.append(np.full(len(r), k, dtype=np.int64))
        eqns.append(equation_indices(n, mode))
    if not blocks:
        return np.zeros((0, potential.n_params)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.vstack(blocks), np.concatenate(owners), np.concatenate(eqns)


# -- fast site-energy Jacobian ------------------------------------------------------------------
# Grading needs dV_i/dtheta only; motep's training engine also builds the force and stress Jacobians
# (10x the work). Every row follows from one per-atom tensor G[i, t, a, k] = sum over neighbours j of
# type t of Q_k(r_ij) * (angular part a of r_ij/|r_ij|): the basic moments are M_a = c . G and their
# radial-coefficient derivatives are G itself, chained through the moment contractions.


def _types_of(potential, atoms: Atoms) -> np.ndarray:
    symbols = atoms.get_chemical_symbols()
    if "mtp_type" in atoms.arrays and all(s == "X" for s in symbols):
        return np.asarray(atoms.arrays["mtp_type"], dtype=np.int64)
    index = {s: k for k, s in enumerate(potential.species)}
    try:
        return np.array([index[s] for s in symbols], dtype=np.int64)
    except KeyError as exc:
        raise InputError(f"species {exc.args[0]} not in the potential's {list(potential.species)}") from exc


def _pairs(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, r_ij vectors) of all ordered pairs closer than ``cutoff`` (compiled neighbour list)."""
    from vesin import NeighborList

    pbc = np.asarray(atoms.pbc, bool)
    if pbc.any() and not pbc.all():
        from ase.neighborlist import neighbor_list

        i, j, d = neighbor_list("ijD", atoms, cutoff)
        return i, j, d
    box = np.asarray(atoms.cell) if pbc.all() else np.zeros((3, 3))
    nl = NeighborList(cutoff=cutoff, full_list=True)
    i, j, d = nl.compute(points=atoms.get_positions(), box=box, periodic=bool(pbc.all()), quantities="ijD")
    return np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(d, float)


def _centre_pairs(potential, atoms: Atoms, centres: np.ndarray | None):
    """(centre slot of each pair, neighbour type of each pair, pair vectors, type of each centre)."""
    types = _types_of(potential, atoms)
    centre_idx = np.arange(len(atoms)) if centres is None else np.flatnonzero(centres)
    slot = np.full(len(atoms), -1, dtype=np.int64)
    slot[centre_idx] = np.arange(len(centre_idx))
    i, j, d = _pairs(atoms, float(potential.model.radial_basis.max))
    keep = slot[i] >= 0
    return slot[i[keep]], types[j[keep]], d[keep], types[centre_idx]


def site_energy_rows(potential, atoms: Atoms, centres: np.ndarray | None = None, total: bool = False) -> np.ndarray:
    """dV_i/dtheta for the atoms in ``centres`` (default all), MLIP parameter order, shape (n, n_params);
    with ``total`` their sum (the energy Jacobian of those atoms), shape (n_params,)."""
    return _rows_from_pairs(potential, *_centre_pairs(potential, atoms, centres), total=total)


def batch_site_rows(potential, atoms_list: Sequence[Atoms], centres_list: Sequence[np.ndarray | None],
                    max_atoms: int = 4000, progress: bool = False) -> list[np.ndarray]:
    """``site_energy_rows`` of many configurations, computed in chunks of about ``max_atoms`` centres
    (one vectorised pass per chunk instead of one per configuration: small frames are overhead-bound)."""
    out: list[np.ndarray] = []
    bar = None
    if progress and len(atoms_list) > 20:
        from tqdm import tqdm

        bar = tqdm(total=len(atoms_list), desc="selection rows", unit="cfg", leave=False)
    k = 0
    while k < len(atoms_list):
        parts, count = [], 0
        while k < len(atoms_list) and (not parts or count + len(atoms_list[k]) <= max_atoms):
            parts.append(_centre_pairs(potential, atoms_list[k], centres_list[k]))
            count += len(parts[-1][3])
            k += 1
        sizes = [len(p[3]) for p in parts]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rows = _rows_from_pairs(potential, np.concatenate([p[0] + o for p, o in zip(parts, offsets)]),
                                np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                                np.concatenate([p[3] for p in parts]))
        out.extend(np.split(rows, np.cumsum(sizes)[:-1]))
        if bar is not None:
            bar.update(len(parts))
    if bar is not None:
        bar.close()
    return out


def _rows_from_pairs(potential, c: np.ndarray, tj: np.ndarray, d: np.ndarray, ti: np.ndarray,
                     total: bool = False) -> np.ndarray:
    """Site-energy Jacobian rows of ``len(ti)`` centres from their pairs (centre slot ``c``, neighbour type
    ``tj``, vector ``d``)."""
    from scipy.sparse import csr_matrix

    model = potential.model
    S, R = int(model.species_count), int(model.radial_funcs_count)
    rb = model.radial_basis
    K, rmin, rmax = int(rb.size), float(rb.min), float(rb.max)
    scaling = float(model.scaling) if model.scaling is not None else 1.0
    basic = np.asarray(model.alpha_index_basic, dtype=np.int64).reshape(-1, 4)
    times = np.asarray(model.alpha_index_times, dtype=np.int64).reshape(-1, 4)
    mapping = np.asarray(model.alpha_moment_mapping, dtype=np.int64)
    n_mom = int(model.alpha_moments_count)
    coeffs = np.asarray(model.radial_coeffs, dtype=float).reshape(S, S, R, K)
    nb = len(basic)
    n = len(ti)
    r = np.sqrt(np.einsum("pk,pk->p", d, d))
    u = d / r[:, None]
    # Chebyshev radial basis times the smooth cutoff scaling * (rmax - r)^2
    x = 2.0 * (r - rmin) / (rmax - rmin) - 1.0
    Q = np.empty((len(r), K))
    Q[:, 0] = scaling * np.clip(rmax - r, 0.0, None) ** 2
    if K > 1:
        Q[:, 1] = x * Q[:, 0]
    for k in range(2, K):
        Q[:, k] = 2.0 * x * Q[:, k - 1] - Q[:, k - 2]
    # angular parts u_x^p u_y^q u_z^s of every basic moment
    maxp = int(basic[:, 1:].max()) if nb else 0
    pw = np.ones((maxp + 1, len(r), 3))
    for p in range(1, maxp + 1):
        pw[p] = pw[p - 1] * u
    U = pw[basic[:, 1], :, 0] * pw[basic[:, 2], :, 1] * pw[basic[:, 3], :, 2]  # (nb, P)
    X = np.empty((len(r), nb, K))  # C order, so the reshape below is free
    np.multiply(U.T[:, :, None], Q[:, None, :], out=X)
    X = X.reshape(len(r), nb * K)
    W = csr_matrix((np.ones(len(r)), (c * S + tj, np.arange(len(r)))), shape=(n * S, len(r)))
    G = np.asarray(W @ X).reshape(n, S, nb, K)

    mu = basic[:, 0]
    Cmu = coeffs[ti][:, :, mu, :]  # (n, S, nb, K)
    M = np.zeros((n, n_mom))
    M[:, :nb] = np.einsum("ctak,ctak->ca", G, Cmu)
    for a, b, mult, out in times:
        M[:, out] += mult * M[:, a] * M[:, b]
    dM = np.zeros((n, n_mom))
    dM[:, mapping] += np.asarray(model.moment_coeffs, dtype=float)
    for a, b, mult, out in times[::-1]:
        dM[:, a] += mult * dM[:, out] * M[:, b]
        dM[:, b] += mult * dM[:, out] * M[:, a]
    onehot_mu = np.zeros((nb, R))
    onehot_mu[np.arange(nb), mu] = 1.0
    H = np.einsum("ca,ctak,am->ctmk", dM[:, :nb], G, onehot_mu, optimize=True).reshape(n, S * R * K)
    if total:
        by_type = np.zeros((S, n))
        by_type[ti, np.arange(n)] = 1.0
        return np.concatenate([(by_type @ H).ravel(), by_type.sum(axis=1), M[:, mapping].sum(axis=0)])
    out = np.zeros((n, S * S * R * K + S + len(mapping)))
    radial = out[:, : S * S * R * K].reshape(n, S, S * R * K)
    radial[np.arange(n), ti] = H
    out[np.arange(n), S * S * R * K + ti] = 1.0
    out[:, S * S * R * K + S:] = M[:, mapping]
    return out
