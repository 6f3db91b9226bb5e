"""Training: exact Jacobians, fit quality on a known teacher, continuation, reproducibility, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from seilearn.errors import InputError
from seilearn.mtp import training as T
from seilearn.mtp.mtpfile import read_mtp, to_text
from seilearn.mtp.potential import Potential
from seilearn.mtp.templates import make_template
from tests.training.conftest import SPECIES, cells, label


def _random_model(data, level=4, seed=1):
    rng = np.random.default_rng(seed)
    m = T._initial_model(data, SPECIES, level, 4.5, None, None, rng)
    m.radial_coeffs = rng.uniform(-0.1, 0.1, m.radial_coeffs.shape)
    m.moment_coeffs = rng.uniform(-1, 1, m.moment_coeffs.shape)
    m.species_coeffs = rng.uniform(-3, -2, m.species_coeffs.shape)
    return m


def test_jacobian_matches_finite_differences(emt_data):
    data = emt_data[:3]
    model = _random_model(data, level=4)
    res = T._Residuals(model, data, T.DEFAULT_WEIGHTS)
    theta = np.array(model.parameters)
    r, jac, stats = res.evaluate(theta)
    num = np.empty_like(jac)
    for j in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[j] += 1e-6
        tm[j] -= 1e-6
        num[:, j] = (res.evaluate(tp, False)[0] - res.evaluate(tm, False)[0]) / 2e-6
    assert np.abs(jac - num).max() < 1e-6 * max(1.0, np.abs(jac).max())
    # the optimiser's normal equations, accumulated per configuration, are those of the full Jacobian
    r2, h, g, _ = res.normal_equations(theta)
    np.testing.assert_array_equal(r2, r)
    np.testing.assert_allclose(h, jac.T @ jac, rtol=1e-12, atol=1e-12 * np.abs(h).max())
    np.testing.assert_allclose(g, jac.T @ r, rtol=1e-12, atol=1e-12 * np.abs(g).max())
    # the residual statistics agree with the potential evaluated the ordinary way
    model.parameters = theta
    ref = T.errors(Potential(model, SPECIES), data)
    assert stats["rmse_energy_mev_atom"] == pytest.approx(ref["rmse_energy_mev_atom"], rel=1e-9)
    assert stats["rmse_forces_mev_a"] == pytest.approx(ref["rmse_forces_mev_a"], rel=1e-9)
    assert stats["rmse_stress_gpa"] == pytest.approx(ref["rmse_stress_gpa"], rel=1e-9)


def test_teacher_student_recovers_a_known_mtp():
    raw = cells(10, seed=3)
    teacher = Potential(_random_model(raw, level=4, seed=7), SPECIES)
    data = label(raw, teacher.calculator)
    e_spread = 1e3 * np.std([a.get_potential_energy() / len(a) for a in data])
    model, log = T.train(data, SPECIES, level=4, cutoff=4.5, min_dist=teacher.min_dist, max_iter=120, seed=0)
    assert e_spread > 5.0  # the task is not trivial
    assert log.final["rmse_energy_mev_atom"] < 0.05 * e_spread
    assert log.final["rmse_energy_mev_atom"] < 2.0
    held_out = label(cells(4, seed=11), teacher.calculator)
    assert T.errors(Potential(model, SPECIES), held_out)["rmse_energy_mev_atom"] < 10.0
    losses = [rec["loss"] for rec in log.iterations if rec["stage"] == "all"]
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # steps are accepted only downhill


def test_emt_fit_and_log(emt_data):
    seen = []
    model, log = T.train(emt_data, SPECIES, level=4, cutoff=4.5, max_iter=60, seed=0, callback=seen.append)
    assert len(seen) == len(log.iterations) > 10
    assert {"loss", "rmse_energy_mev_atom", "rmse_forces_mev_a", "rmse_stress_gpa"} <= set(seen[-1])
    assert log.final["rmse_energy_mev_atom"] < 5.0
    assert log.final["rmse_forces_mev_a"] < 60.0
    assert [s["stage"] for s in log.stages] == [f"start {k} {part}" for k in range(4)
                                                for part in ("species-blind", "screen")] + ["all"]
    # the written potential reads back and predicts the same energies
    again = Potential(read_mtp(to_text(model)), SPECIES)
    pot = Potential(model, SPECIES)
    a = emt_data[0]
    assert again.calculate(a)["energy"] == pytest.approx(pot.calculate(a)["energy"], abs=1e-8)
    assert sorted(model.optimized) == sorted(T.ALL_PARAMETERS)


def test_restarts_continue_the_best_start(emt_data):
    """Each random start is pre-trained and screened; the lowest-loss one is the one that continues."""
    _, log = T.train(emt_data, SPECIES, level=4, cutoff=4.5, max_iter=40, seed=0, restarts=3, screen_iter=8)
    screened = [[r["loss"] for r in log.iterations if r["stage"] == f"start {k} screen"][-1] for k in range(3)]
    first_all = next(r["loss"] for r in log.iterations if r["stage"] == "all")
    assert len(set(screened)) == 3
    assert first_all <= min(screened) * (1 + 1e-12)
    _, single = T.train(emt_data, SPECIES, level=4, cutoff=4.5, max_iter=20, seed=0, restarts=1)
    assert [s["stage"] for s in single.stages] == ["species-blind", "all"]
    with pytest.raises(InputError, match="restarts"):
        T.train(emt_data, SPECIES, level=4, max_iter=1, restarts=0)


def test_continue_does_not_start_worse_and_leaves_init_alone(emt_data):
    first, log1 = T.train(emt_data, SPECIES, level=4, cutoff=4.5, max_iter=30, seed=0, restarts=1)
    frozen = np.array(first.parameters, copy=True)
    second, log2 = T.train(emt_data, SPECIES, init=first, max_iter=15, seed=0)
    np.testing.assert_array_equal(np.array(first.parameters), frozen)
    assert log2.iterations[0]["loss"] <= log1.iterations[-1]["loss"] * (1 + 1e-9)
    # the loss (energies, forces, stresses together) never rises; one component may trade a little
    assert log2.iterations[-1]["loss"] <= log1.iterations[-1]["loss"] * (1 + 1e-9)
    assert log2.final["rmse_energy_mev_atom"] <= 1.01 * log1.final["rmse_energy_mev_atom"] + 1e-6
    assert not any(s["stage"] == "species-blind" for s in log2.stages)


def test_warm_retrain_after_adding_configurations(emt_data):
    """mode="warm" (the default with init) starts at the parent's loss on the grown set and stops once the loss
    stalls; mode="fresh" with init keeps the parent's basis and draws new coefficients."""
    parent, _ = T.train(emt_data[:7], SPECIES, level=4, cutoff=4.5, max_iter=40, seed=0, restarts=1)
    grown = emt_data
    r0 = T._Residuals(T._initial_model(grown, SPECIES, 4, 4.5, None, parent, None), grown, T.DEFAULT_WEIGHTS)
    parent_loss = T._loss(r0.evaluate(np.array(parent.parameters), jacobian=False)[0], len(grown))
    warm, log = T.train(grown, SPECIES, init=parent, mode="warm", max_iter=200)
    assert log.iterations[0]["loss"] <= parent_loss
    assert log.iterations[-1]["loss"] < parent_loss
    assert len(log.iterations) < 200  # stopped on the stall criterion, not the budget
    assert [s["stage"] for s in log.stages] == ["all"]
    fresh, flog = T.train(grown, SPECIES, init=parent, mode="fresh", max_iter=20, restarts=2, screen_iter=4)
    assert fresh.radial_basis.min == parent.radial_basis.min
    assert flog.stages[0]["stage"] == "start 0 species-blind"
    with pytest.raises(InputError, match="pass init"):
        T.train(grown, SPECIES, mode="warm", max_iter=1)
    with pytest.raises(InputError, match="training mode"):
        T.train(grown, SPECIES, init=parent, mode="hot", max_iter=1)


def test_weight_scaling_follows_mlip(emt_data):
    """MLIP's weight_scaling: energy residuals divided by N^(s/2); 1 (MLIP's default) weights energies
    N times more than 2 (per-atom energies): better energies, slightly worse forces."""
    fits = {s: T.train(emt_data, SPECIES, level=4, cutoff=4.5, max_iter=25, seed=0, weight_scaling=s,
                             restarts=1)[1].final
            for s in (1, 2)}
    assert fits[1]["rmse_energy_mev_atom"] < 0.8 * fits[2]["rmse_energy_mev_atom"]
    assert fits[1]["rmse_forces_mev_a"] > fits[2]["rmse_forces_mev_a"]
    with pytest.raises(InputError, match="weight_scaling"):
        T.train(emt_data, SPECIES, level=4, max_iter=1, weight_scaling=3)


def test_same_seed_same_parameters(emt_data):
    data = emt_data[:5]
    a, _ = T.train(data, SPECIES, level=2, cutoff=4.5, max_iter=20, seed=5)
    b, _ = T.train(data, SPECIES, level=2, cutoff=4.5, max_iter=20, seed=5)
    c, _ = T.train(data, SPECIES, level=2, cutoff=4.5, max_iter=20, seed=6)
    np.testing.assert_array_equal(np.array(a.parameters), np.array(b.parameters))
    assert not np.array_equal(np.array(a.parameters), np.array(c.parameters))


def test_validation_split_early_stopping(emt_data):
    model, log = T.train(emt_data, SPECIES, level=2, cutoff=4.5, max_iter=40, seed=0, validation=0.2, patience=3)
    assert log.final["n_configurations"] == 8
    assert log.validation["n_configurations"] == 2
    assert all("val_loss" in rec for rec in log.iterations if rec["stage"] == "all")


def test_bad_input(emt_data):
    unlabelled = emt_data[0].copy()
    with pytest.raises(InputError, match="configuration 1 has no energy"):
        T.train([emt_data[0], unlabelled], SPECIES, level=2, max_iter=1)
    with pytest.raises(InputError, match="not in"):
        T.train(emt_data[:2], ["Cu"], level=2, max_iter=1)
    bad = emt_data[0].copy()
    f = emt_data[0].get_forces().copy()
    f[0, 0] = np.nan
    bad.calc = SinglePointCalculator(bad, energy=1.0, forces=f)
    with pytest.raises(InputError, match="configuration 0 has NaN"):
        T.train([bad], SPECIES, level=2, max_iter=1)
    with pytest.raises(InputError, match="no training configurations"):
        T.train([], SPECIES)
    with pytest.raises(InputError, match="species"):
        T.train(emt_data[:2], SPECIES, init=make_template(2, 3, 2.0, 4.5), max_iter=1)


def test_threaded_sums_do_not_depend_on_the_thread_count(emt_data, monkeypatch):
    """The normal equations are summed in fixed chunks of configurations, so 1 and 3 threads give the same bits
    (a campaign retrained on another machine reproduces its potentials)."""
    data = cells(2 * T.CHUNK + 3, seed=5)  # three chunks, the last one short
    teacher = Potential(_random_model(data, level=4, seed=2), SPECIES)
    data = label(data, teacher.calculator)
    model = _random_model(data, level=4, seed=4)
    res = T._Residuals(model, data, T.DEFAULT_WEIGHTS)
    theta = np.array(model.parameters)
    out = {}
    for n in ("1", "3"):
        monkeypatch.setenv("SEILEARN_THREADS", n)
        out[n] = (res.normal_equations(theta), res.evaluate(theta, jacobian=False))
    (r1, h1, g1, s1), (q1, _, t1) = out["1"]
    (r3, h3, g3, s3), (q3, _, t3) = out["3"]
    for a, b in ((r1, r3), (h1, h3), (g1, g3), (q1, q3)):
        np.testing.assert_array_equal(a, b)
    assert s1 == s3 and t1 == t3
    # and they are the full Jacobian's
    r, jac, _ = res.evaluate(theta)
    np.testing.assert_allclose(h1, jac.T @ jac, rtol=1e-12, atol=1e-12 * np.abs(h1).max())


def test_serial_step_threads(monkeypatch):
    from seilearn.mtp import kernel

    monkeypatch.setenv("SEILEARN_THREADS", "1")
    monkeypatch.delenv("SEILEARN_TRAIN_THREADS", raising=False)
    with kernel.serial_step_threads() as n:
        assert n == 1 and kernel.threads() == 1
    monkeypatch.setenv("SEILEARN_TRAIN_THREADS", "2")
    with kernel.serial_step_threads() as n:
        assert n == 2 and kernel.threads() == 2
    assert kernel.threads() == 1
    monkeypatch.setenv("SEILEARN_TRAIN_THREADS", "two")
    with pytest.raises(InputError, match="SEILEARN_TRAIN_THREADS"):
        with kernel.serial_step_threads():
            pass
