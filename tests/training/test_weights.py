"""Per-atom force weights and per-configuration energy/stress weights carried on the Atoms."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from seilearn.errors import InputError
from seilearn.mtp import training as T
from seilearn.mtp.potential import Potential
from tests.training.conftest import SPECIES


def _relabel(a, energy=None, forces=None, stress=None):
    b = a.copy()
    r = a.calc.results
    b.calc = SinglePointCalculator(b, energy=r["energy"] if energy is None else energy,
                                   forces=r["forces"] if forces is None else forces,
                                   stress=r["stress"] if stress is None else stress)
    return b


def _weighted(data, rng):
    out = []
    for k, a in enumerate(data):
        b = _relabel(a)
        w = np.ones(len(b))
        w[rng.choice(len(b), 5, replace=False)] = 0.0
        w[rng.choice(len(b), 3, replace=False)] = 0.5
        b.arrays["force_weight"] = w
        if k == 1:
            b.info["energy_weight"] = 0.0
        if k == 2:
            b.info["stress_weight"] = 0.0
        out.append(b)
    return out


def _garbage(data, rng):
    """The same configurations with nonsense labels wherever the weight is zero."""
    out = []
    for a in data:
        f = a.get_forces().copy()
        zero = a.arrays["force_weight"] == 0
        f[zero] = rng.normal(0, 50.0, (zero.sum(), 3))
        e = a.get_potential_energy() + (1e3 if a.info.get("energy_weight", 1.0) == 0 else 0.0)
        s = a.calc.results["stress"] + (rng.normal(0, 5.0, 6) if a.info.get("stress_weight", 1.0) == 0 else 0.0)
        b = _relabel(a, energy=e, forces=f, stress=s)
        b.arrays["force_weight"] = a.arrays["force_weight"].copy()
        b.info.update(a.info)
        out.append(b)
    return out


def test_zero_weights_leave_the_fit_unchanged(emt_data):
    rng = np.random.default_rng(0)
    clean = _weighted(emt_data[:6], rng)
    dirty = _garbage(clean, rng)
    assert not np.allclose(clean[0].get_forces(), dirty[0].get_forces())
    kw = dict(level=4, cutoff=4.5, min_dist=2.0, max_iter=40, seed=0)
    a, log_a = T.train(clean, SPECIES, **kw)
    b, log_b = T.train(dirty, SPECIES, **kw)
    assert len(log_a.iterations) == len(log_b.iterations) > 10
    np.testing.assert_allclose(np.array(b.parameters), np.array(a.parameters), rtol=0, atol=1e-10)
    # what is reported counts only weighted labels, so the garbage does not show there either
    for key in ("rmse_energy_mev_atom", "rmse_forces_mev_a", "rmse_stress_gpa"):
        assert log_b.final[key] == pytest.approx(log_a.final[key], rel=1e-9)


def test_rows_scale_with_the_square_root_of_the_weights(emt_data):
    rng = np.random.default_rng(1)
    data = emt_data[:3]
    weighted = _weighted(data, rng)
    weighted[0].info["energy_weight"] = 4.0
    weighted[0].info["stress_weight"] = 9.0
    model = T._initial_model(data, SPECIES, 4, 4.5, 2.0, None, rng)
    model.moment_coeffs = rng.uniform(-1, 1, model.moment_coeffs.shape)
    theta = np.array(model.parameters)
    r1, j1, _ = T._Residuals(model, data, T.DEFAULT_WEIGHTS).evaluate(theta)
    j1 = j1.copy()
    rw, jw, _ = T._Residuals(model, weighted, T.DEFAULT_WEIGHTS).evaluate(theta)
    scale = []
    for a in weighted:
        ew, fw, sw = T.config_weights(a)
        scale += [np.sqrt(ew)] + list(np.repeat(np.sqrt(fw), 3)) + [np.sqrt(sw)] * 6
    scale = np.array(scale)
    assert scale.size == r1.size
    np.testing.assert_allclose(rw, scale * r1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(jw, scale[:, None] * j1, rtol=1e-12, atol=0)
    assert np.count_nonzero(scale == 0) > 0 and np.all(jw[scale == 0] == 0)


def test_errors_count_only_weighted_labels(emt_data):
    rng = np.random.default_rng(2)
    data = _weighted(emt_data[:3], rng)
    model, _ = T.train(emt_data[:3], SPECIES, level=2, cutoff=4.5, max_iter=5, seed=0)
    pot = Potential(model, SPECIES)
    full = T.errors(pot, emt_data[:3])
    masked = T.errors(pot, data)
    sq = [np.square(pot.calculate(a)["forces"] - a.get_forces())[a.arrays["force_weight"] > 0] for a in data]
    assert masked["rmse_forces_mev_a"] == pytest.approx(1e3 * np.sqrt(np.mean(np.concatenate(sq))), rel=1e-12)
    assert masked["rmse_forces_mev_a"] != pytest.approx(full["rmse_forces_mev_a"], rel=1e-6)


@pytest.mark.parametrize("setter, match", [
    (lambda a: a.arrays.__setitem__("force_weight", -np.ones(len(a))), "force_weight"),
    (lambda a: a.set_array("force_weight", np.full(len(a), np.nan)), "force_weight"),
    (lambda a: a.info.__setitem__("energy_weight", -1.0), "energy_weight"),
    (lambda a: a.info.__setitem__("stress_weight", "high"), "stress_weight"),
])
def test_bad_weights_are_refused(emt_data, setter, match):
    a = _relabel(emt_data[0])
    setter(a)
    with pytest.raises(InputError, match=f"configuration 0.*{match}"):
        T.train([a], SPECIES, level=2, max_iter=1)
