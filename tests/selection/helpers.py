"""Synthetic potentials and structures for selection tests and benchmarks (reproducible)."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from seilearn.mtp.potential import Potential
from seilearn.mtp.templates import make_template

SPECIES = ("Li", "P", "S", "Cl")


def random_potential(species=SPECIES, level: int = 8, seed: int = 0, min_dist: float = 1.6,
                     max_dist: float = 5.0) -> Potential:
    """An untrained level-``level`` MTP from the generated template with random, reproducible coefficients."""
    rng = np.random.default_rng(seed)
    model = make_template(level, len(species), min_dist, max_dist)
    s, r, b = model.species_count, model.radial_funcs_count, model.radial_basis.size
    # magnitudes like a trained MLIP potential's (scaling ~ 1/(max-min)^2, O(1) coefficients), so the
    # Jacobian entries are O(1)-O(100) as in real active sets
    model.radial_coeffs = rng.normal(0.0, 0.5, size=(s, s, r, b))
    model.species_coeffs = rng.normal(-2.0, 0.5, size=s)
    model.moment_coeffs = rng.normal(0.0, 0.5, size=model.alpha_scalar_moments)
    model.scaling = 1.0 / (max_dist - min_dist) ** 2
    return Potential(model, list(species))


def random_frame(n_cells: int = 2, species=SPECIES, seed: int = 0, a: float = 5.2, rattle: float = 0.15) -> Atoms:
    """A rattled fcc-like crystal of ``4 * 2 * n_cells**3`` sites (two interpenetrating fcc lattices)
    with random species; 416 atoms for ``cells=(4,4,...)`` style use :func:`frame_of_size`."""
    rng = np.random.default_rng(seed)
    base = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                     [.25, .25, .25], [.25, .75, .75], [.75, .25, .75], [.75, .75, .25]])
    cells = np.array([[i, j, k] for i in range(n_cells) for j in range(n_cells) for k in range(n_cells)])
    frac = (cells[:, None, :] + base[None]).reshape(-1, 3) / n_cells
    cell = np.eye(3) * a * n_cells
    pos = frac @ cell + rng.normal(0.0, rattle, size=frac.shape)
    symbols = rng.choice(list(species), size=len(pos))
    return Atoms(symbols=list(symbols), positions=pos, cell=cell, pbc=True)


def frame_of_size(n_atoms: int, species=SPECIES, seed: int = 0, density: float = 0.0571) -> Atoms:
    """A random periodic frame of ``n_atoms`` atoms (no pair closer than 1.8 A) at ``density`` atoms/A^3."""
    rng = np.random.default_rng(seed)
    length = (n_atoms / density) ** (1 / 3)
    grid = int(np.ceil(n_atoms ** (1 / 3)))
    sites = np.array([[i, j, k] for i in range(grid) for j in range(grid) for k in range(grid)], float)
    sites = sites[rng.permutation(len(sites))[:n_atoms]] * (length / grid)
    pos = sites + rng.normal(0.0, 0.12, size=sites.shape)
    symbols = rng.choice(list(species), size=n_atoms, p=[0.46, 0.08, 0.38, 0.08][: len(species)] / np.sum(
        [0.46, 0.08, 0.38, 0.08][: len(species)]))
    return Atoms(symbols=list(symbols), positions=pos, cell=np.eye(3) * length, pbc=True)
