"""Seed training sets for Li-P-S-Cl: rattled and strained bulk phases, the antifluorite solid solution,
partially reduced LPSC and small Li/LPSC interfaces; reproducible by seed."""

from __future__ import annotations

import functools

import numpy as np
from ase import Atoms
from ase.geometry import get_distances
from ase.neighborlist import neighbor_list

from seilearn.errors import InputError
from seilearn.structures import phases as b
from seilearn.structures.interface import build_interface


def _perturb(atoms: Atoms, rng: np.random.Generator, rattle: float, strain: float) -> Atoms:
    a = atoms.copy()
    eps = rng.uniform(-strain, strain, (3, 3))
    eps = 0.5 * (eps + eps.T)
    a.set_cell(a.cell @ (np.eye(3) + eps), scale_atoms=True)
    a.positions += rng.normal(0.0, rattle, a.positions.shape)
    return a


def _free_spot(atoms: Atoms, centre: np.ndarray, rng: np.random.Generator, min_dist: float,
               tries: int = 400) -> np.ndarray | None:
    """A point near ``centre`` (the centre itself first, then up to 2.8 A away) at least
    ``min_dist`` from every atom, or None."""
    for k in range(tries):
        v = rng.normal(size=3)
        trial = centre if k == 0 else centre + v / np.linalg.norm(v) * rng.uniform(0.5, 2.8)
        _, d = get_distances(trial, atoms.positions, cell=atoms.cell, pbc=True)
        if d.min() >= min_dist:
            return trial
    return None


def reduced_lpsc(rng: np.random.Generator, a: float = b.A_LPSC, min_dist: float = 1.9) -> Atoms:
    """LPSC with 1-4 S removed from random PS4 units and two Li added near each removed S
    (the two electrons of a broken P-S bond), so P has 0-4 S neighbours. A removal is skipped
    if no free spots (``min_dist`` from every atom) are found for its two Li."""
    atoms = b.lpsc(a)
    sym = np.array(atoms.get_chemical_symbols())
    i, j = neighbor_list("ij", atoms, 2.3)
    chosen = []
    for p in rng.choice(np.where(sym == "P")[0], size=int(rng.integers(1, 5)), replace=False):
        bonded = [k for k in j[i == p] if sym[k] == "S"]
        chosen += [int(k) for k in rng.choice(bonded, size=int(rng.integers(1, len(bonded) + 1)), replace=False)]
    out = atoms[[k for k in range(len(atoms)) if k not in set(chosen)]]
    removed = 0
    for k in chosen:
        trial = out.copy()
        for _ in range(2):
            spot = _free_spot(trial, atoms.positions[k], rng, min_dist)
            if spot is None:
                break
            trial += Atoms("Li", positions=[spot])
        else:
            out, removed = trial, removed + 1
            continue
        out += Atoms("S", positions=[atoms.positions[k]])  # no room for its Li: put the S back
    out.wrap()
    out = out[np.argsort(out.numbers, kind="stable")]
    out.info["s_removed"] = removed
    return out


@functools.lru_cache(maxsize=1)
def _li3p_cached() -> Atoms:
    return b.li3p()


def _li3p() -> Atoms:
    return _li3p_cached().copy()


def _recipes(max_atoms: int):
    yield "Li bcc", lambda rng: b.li_bcc().repeat(2 if max_atoms >= 16 else 1), 0.10, 0.04
    yield "Li6PS5Cl", lambda rng: b.lpsc(), 0.08, 0.03
    yield "Li2S", lambda rng: b.li2s(), 0.08, 0.04
    yield "Li3P", lambda rng: _li3p(), 0.08, 0.04
    yield "LiCl", lambda rng: b.licl(), 0.08, 0.04
    yield "5Li2S.Li3P.LiCl", lambda rng: b.antifluorite_solid_solution(seed=int(rng.integers(1 << 30))), 0.10, 0.03
    yield "reduced Li6PS5Cl", reduced_lpsc, 0.06, 0.02
    yield "Li/LPSC interface", lambda rng: _small_interface(), 0.06, 0.0


@functools.lru_cache(maxsize=1)
def _cached_interface() -> Atoms:
    return build_interface("mini", lpsc_cells=(2, 1), lpsc_periods=2, li_layers=2)


def _small_interface() -> Atoms:
    """A 140-atom Li/LPSC sandwich (8 f.u. + 36 Li), cached: the seed set draws it many times."""
    return _cached_interface().copy()


def _md_snapshot(atoms: Atoms, calc, rng: np.random.Generator, steps: int, temperature: float) -> Atoms:
    """The last frame of a short Langevin run of ``atoms`` with ``calc`` (no results attached)."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    work = atoms.copy()
    work.calc = calc
    MaxwellBoltzmannDistribution(work, temperature_K=temperature, rng=rng)
    Langevin(work, 1.0 * units.fs, temperature_K=temperature, friction=0.02, fixcm=False,
             rng=np.random.RandomState(int(rng.integers(1 << 31)))).run(steps)
    out = Atoms(work.numbers, positions=work.positions, cell=work.cell, pbc=work.pbc, info=dict(atoms.info))
    out.wrap()
    return out


def seed_set(n: int = 100, seed: int = 0, max_atoms: int = 64, md_calculator=None, md_fraction: float = 0.25,
             md_steps: int = 20, md_temperature: float = 1000.0) -> list[Atoms]:
    """``n`` diverse configurations, cycling through the recipes (interfaces only when allowed by size).

    Each gets ``info["seed_kind"]``; the same ``seed`` gives the same set. Bulk cells are kept
    small (``max_atoms``; LPSC and the interface cells are at least one unit, up to 150 atoms).
    With an ASE ``md_calculator``, a fraction ``md_fraction`` of them are replaced by the last frame
    of a ``md_steps``-step Langevin run at ``md_temperature`` K (kind gets " MD" appended).
    """
    if n < 0 or max_atoms < 1:
        raise InputError(f"seed set needs n >= 0 and max_atoms >= 1, got n={n}, max_atoms={max_atoms}")
    rng = np.random.default_rng(seed)
    recipes = list(_recipes(max_atoms))
    out: list[Atoms] = []
    k = 0
    while len(out) < n:
        kind, make, rattle, strain = recipes[k % len(recipes)]
        k += 1
        base = make(rng)
        if len(base) > max(max_atoms, 150):
            continue
        atoms = _perturb(base, rng, rattle * rng.uniform(0.3, 1.0), strain)
        d = neighbor_list("d", atoms, 1.2)
        if d.size:  # a rattle too strong for this draw: skip rather than store a collision
            continue
        atoms.info["seed_kind"] = kind
        if md_calculator is not None and rng.random() < md_fraction:
            atoms = _md_snapshot(atoms, md_calculator, rng, md_steps, md_temperature)
            if neighbor_list("d", atoms, 1.2).size:
                continue
            atoms.info["seed_kind"] = kind + " MD"
        out.append(atoms)
    return out
