"""Generated MTP templates: MLIP's basis sizes, independent and rotation-invariant basis functions (checked
with a small NumPy evaluator of alpha_index_basic/times/mapping), unchanged low levels, engine use."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
from ase import Atoms

from seilearn.errors import InputError
from seilearn.mtp.mtpfile import read_mtp, to_text
from seilearn.mtp.potential import MTPCalculator, Potential
from seilearn.mtp.templates import MAX_LEVEL, make_template
from tests.selection.helpers import random_potential

# MLIP-3's MTP_templates/<level>.almtp: (alpha_scalar_moments, radial_funcs_count)
MLIP_SIZES = {6: (5, 2), 8: (9, 2), 10: (16, 3), 12: (29, 3), 14: (52, 4), 16: (92, 4), 18: (163, 5),
              20: (288, 5), 22: (500, 6), 24: (864, 6), 26: (1464, 6), 28: (2445, 6)}
FAST_LEVELS = [10, 12, 14, 16, 18, 20]
SLOW_LEVELS = [22, 24, 26, 28]

# sha256 of to_text(make_template(level, species, 2.0, 5.0)) before levels >= 10 were added (odd levels
# give the even level below)
LOW_LEVEL_SHA256 = {
    (2, 1): "17b77066adf6e8a03bd3923f35c1a5af42596b7320edca23b911d16840558d6d",
    (2, 4): "3702fb4bed0db200fbdb025a6e6ce462e419c3555429037d4b1f58d7ca60699d",
    (4, 1): "2c6631fd7a9dc1e51dcf063c2a648b0e294ad4c90fc23a46dc3fd6fd15614ad6",
    (4, 4): "489dd39ffa813c44cb8cb74fdab477afc6593c771ce2c84a127ee4532a7080e5",
    (6, 1): "36bb0e9b9d19cbd4374314e0f381d8bc369a64125cbca88b4f81728f5b41ef46",
    (6, 4): "6c82beefc7122f8267d8c1c906197f9debc512ad3f4f915cb0aff177655e8b7b",
    (8, 1): "512e2d22c8ed6530b6ddc96f29464654c70b5d0ad21dd75a9a40a6a23e1654d4",
    (8, 4): "56634141e30106fc47a885e10f13642191ceee2492a6d6bc1a5a1a045543947d",
}


# ---- a reference evaluator of the scalar basis functions -------------------------------------------------

def _neighbourhoods(rng, count: int, max_neighbours: int = 10):
    """``count`` neighbourhoods of 3..max_neighbours neighbours (padded; mask marks the real ones), r < 1."""
    sizes = rng.integers(3, max_neighbours + 1, size=count)
    v = rng.normal(size=(count, max_neighbours, 3))
    v /= np.linalg.norm(v, axis=2)[..., None]
    r = rng.uniform(0.3, 1.0, size=(count, max_neighbours))
    mask = (np.arange(max_neighbours)[None, :] < sizes[:, None]).astype(float)
    return v * r[..., None], mask


def _radial_functions(rng, count: int, degree: int = 8):
    coeffs = rng.normal(size=(count, degree))
    return lambda mu, r: np.polynomial.chebyshev.chebval(2 * r - 1, coeffs[mu]) * (1.0 - r) ** 2


def _basis_values(model, positions, mask, radial) -> np.ndarray:
    """(neighbourhoods, scalar basis functions): moment[basic (mu,a,b,c)] = sum_j f_mu(r_j) x^a y^b z^c,
    then moment[k] += mult * moment[i] * moment[j] for each alpha_index_times row, then the mapping."""
    basic = np.asarray(model.alpha_index_basic).reshape(-1, 4)
    times = np.asarray(model.alpha_index_times).reshape(-1, 4)
    moments = np.zeros((model.alpha_moments_count, positions.shape[0]))
    r = np.linalg.norm(positions, axis=2)
    f = {mu: radial(mu, r) * mask for mu in set(basic[:, 0].tolist())}
    for idx, (mu, a, b, c) in enumerate(basic):
        moments[idx] = np.sum(f[mu] * positions[..., 0] ** a * positions[..., 1] ** b * positions[..., 2] ** c,
                              axis=1)
    for i, j, mult, k in times:
        moments[k] += mult * moments[i] * moments[j]
    return moments[np.asarray(model.alpha_moment_mapping)].T


def _rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def _check_template(level: int) -> None:
    model = make_template(level, 1, 2.0, 5.0)
    n_scalar, n_radial = MLIP_SIZES[level]
    assert model.alpha_scalar_moments == len(model.alpha_moment_mapping) == n_scalar
    assert model.radial_funcs_count == n_radial
    assert len(set(np.asarray(model.alpha_moment_mapping).tolist())) == n_scalar
    basic = np.asarray(model.alpha_index_basic)
    times = np.asarray(model.alpha_index_times)
    assert model.alpha_index_basic_count == len(basic) and model.alpha_index_times_count == len(times)
    assert basic[:, 0].max() == n_radial - 1
    assert np.all(times[:, 3] >= len(basic)) and np.all(times[:, :2].max(axis=1) < times[:, 3])
    assert np.all(times[:, 3] < model.alpha_moments_count) and np.all(times[:, 2] != 0)
    rng = np.random.default_rng(level)
    positions, mask = _neighbourhoods(rng, int(1.5 * n_scalar) + 50)
    radial = _radial_functions(rng, n_radial)
    values = _basis_values(model, positions, mask, radial)
    # rotation invariance of every basis function
    rotated = _basis_values(model, positions @ _rotation(rng).T, mask, radial)
    scale = np.abs(values).max(axis=0)
    assert np.all(scale > 0)
    assert np.max(np.abs(rotated - values) / scale) < 1e-10
    # linear independence (columns normalised; the smallest singular value stays far from round-off)
    s = np.linalg.svd(values / np.linalg.norm(values, axis=0), compute_uv=False)
    assert s[-1] > 1e-9 * s[0], (level, s[-1] / s[0])


@pytest.mark.parametrize("level", FAST_LEVELS)
def test_template_matches_mlip_size_and_is_independent_and_invariant(level):
    _check_template(level)


@pytest.mark.slow
@pytest.mark.parametrize("level", SLOW_LEVELS)
def test_high_level_template_matches_mlip_size_and_is_independent_and_invariant(level):
    _check_template(level)


@pytest.mark.parametrize("level", SLOW_LEVELS)
def test_high_level_template_sizes(level):
    model = make_template(level, 1, 2.0, 5.0)
    assert (model.alpha_scalar_moments, model.radial_funcs_count) == MLIP_SIZES[level]


def test_odd_level_is_the_even_level_below():
    for level in (11, 17):
        a, b = make_template(level, 2, 2.0, 5.0), make_template(level - 1, 2, 2.0, 5.0)
        assert to_text(a) == to_text(b)


@pytest.mark.parametrize("species", [1, 4])
def test_levels_below_10_unchanged(species):
    for level in range(2, 10):
        text = to_text(make_template(level, species, 2.0, 5.0))
        assert hashlib.sha256(text.encode()).hexdigest() == LOW_LEVEL_SHA256[(level - level % 2, species)], level


def test_level_28_generation_is_fast():
    start = time.perf_counter()
    model = make_template(28, 4, 1.6, 5.0)
    assert time.perf_counter() - start < 10.0
    assert model.alpha_scalar_moments == 2445
    assert int(np.abs(np.asarray(model.alpha_index_times)[:, 2]).max()) < 2 ** 31


def test_template_text_round_trip():
    model = make_template(16, 3, 1.5, 5.5)
    back = read_mtp(to_text(model))
    for field in ("alpha_index_basic", "alpha_index_times", "alpha_moment_mapping"):
        assert np.array_equal(np.asarray(getattr(back, field)), np.asarray(getattr(model, field))), field
    assert back.alpha_moments_count == model.alpha_moments_count
    assert back.radial_funcs_count == model.radial_funcs_count


def test_template_rejects_unsupported_levels():
    with pytest.raises(InputError, match=f"levels 2..{MAX_LEVEL}"):
        make_template(MAX_LEVEL + 2, 1, 2.0, 5.0)
    with pytest.raises(InputError):
        make_template(0, 1, 2.0, 5.0)
    with pytest.raises(InputError):
        make_template(12, 1, 5.0, 2.0)


# ---- the engine evaluates the generated templates --------------------------------------------------------

def _random_potential(level: int, species: list[str], seed: int = 0) -> Potential:
    pot = random_potential(species, level=level, seed=seed)
    pot.model.moment_coeffs = pot.model.moment_coeffs * 1e-3  # keep high-level energies moderate
    return pot


def _cell(species: list[str], seed: int = 1) -> Atoms:
    rng = np.random.default_rng(seed)
    frac = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                     [.25, .25, .25], [.25, .75, .75], [.75, .25, .75], [.75, .75, .25]])
    cell = np.eye(3) * 5.4
    pos = frac @ cell + rng.normal(0.0, 0.1, size=frac.shape)
    return Atoms(symbols=[species[i % len(species)] for i in range(len(pos))], positions=pos, cell=cell, pbc=True)


@pytest.mark.parametrize("level,n_species", [(10, 1), (10, 4), (16, 2), (20, 4)])
def test_engine_forces_are_minus_energy_gradient(level, n_species):
    species = ["Li", "P", "S", "Cl"][:n_species]
    pot = _random_potential(level, species, seed=level)
    atoms = _cell(species)
    atoms.calc = MTPCalculator(pot)
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    assert np.isfinite(energy) and np.all(np.isfinite(forces))
    assert atoms.get_potential_energies().sum() == pytest.approx(energy)
    h = 1e-5
    for k in range(3):
        shifted = []
        for sign in (1, -1):
            a = atoms.copy()
            a.calc = MTPCalculator(pot)
            a.positions[2, k] += sign * h
            shifted.append(a.get_potential_energy())
        fd = -(shifted[0] - shifted[1]) / (2 * h)
        assert forces[2, k] == pytest.approx(fd, rel=1e-5, abs=1e-6 * max(1.0, np.abs(forces).max()))
