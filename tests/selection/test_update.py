"""update_active_set: MaxVol after a warm retrain, started from the parent potential's active rows."""

import copy

import numpy as np
import pytest

from seilearn.mtp.potential import Potential
from seilearn.selection.active_set import ActiveSet, build_active_set, update_active_set
from seilearn.selection.features import rows_of
from tests.selection.helpers import random_frame, random_potential


def _retrained(pot: Potential, scale: float, seed: int = 5) -> Potential:
    """``pot`` with every coefficient moved a little, as a warm retrain moves it."""
    model = copy.deepcopy(pot.model)
    rng = np.random.default_rng(seed)
    model.radial_coeffs = model.radial_coeffs * (1 + scale * rng.normal(size=model.radial_coeffs.shape))
    model.moment_coeffs = model.moment_coeffs * (1 + scale * rng.normal(size=model.moment_coeffs.shape))
    return Potential(model, list(pot.species))


def _through_file(aset: ActiveSet, species) -> ActiveSet:
    """The parent as the train firework gets it: the .almtp bytes from the store."""
    return ActiveSet.from_bytes(aset.to_bytes(species=species), species=species)


def _assert_is_active_set_of(aset: ActiveSet, pot: Potential, frames, mode: str) -> None:
    assert max(aset.grade(pot, a)[0] for a in frames) <= 1.001 + 1e-8
    for (k, eqn), row in zip(aset.links, aset.A):
        if k >= 0:  # data rows of A are exactly that configuration's rows under this potential
            rows = rows_of(pot, aset.configurations[k], mode)
            idx = 0 if mode == "cfg" else eqn - (1 + 3 * len(aset.configurations[k]) + 9)
            np.testing.assert_allclose(row, rows[idx], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aset.A @ aset.A_inv, np.eye(aset.n), atol=1e-3)


@pytest.mark.parametrize("mode", ["nbh", "cfg"])
def test_update_from_own_active_set_swaps_nothing(pot4, frames, mode):
    built = build_active_set(pot4, frames, mode)
    parent = _through_file(built, pot4.species)
    up = update_active_set(pot4, frames, parent)
    assert up.seeded == built.filled and up.state.swaps == 0
    assert np.array_equal(up.links, built.links)
    np.testing.assert_array_equal(up.A, built.A)


@pytest.mark.parametrize("mode", ["nbh", "cfg"])
def test_update_after_retrain_and_new_data_is_an_active_set_with_fewer_swaps(pot4, frames, mode):
    parent = _through_file(build_active_set(pot4, frames[:8], mode), pot4.species)
    child = _retrained(pot4, 0.02)
    data = frames + [random_frame(1, seed=50 + s, rattle=0.3) for s in range(3)]
    up = update_active_set(child, data, parent)
    fresh = build_active_set(child, data, mode)
    assert up.mode == mode and up.seeded == parent.filled
    _assert_is_active_set_of(up, child, data, mode)
    assert up.state.swaps < fresh.state.swaps / 2
    assert up.filled == fresh.filled  # the same rank is reached
    # both are local maxima of |det A|: the update's is not far below the build's
    assert up.state.log_abs_det == pytest.approx(np.linalg.slogdet(up.A)[1], abs=1e-6)
    assert up.state.log_abs_det > fresh.state.log_abs_det - 0.05 * abs(fresh.state.log_abs_det)


def test_parent_configurations_missing_from_the_training_set_start_as_eps_rows(pot4, frames):
    parent = _through_file(build_active_set(pot4, frames, "nbh"), pot4.species)
    kept = frames[6:]  # half of the parent's configurations are gone (a user pruned the training set)
    up = update_active_set(pot4, kept, parent)
    from_kept = sum(1 for k, _ in parent.links if k >= 0 and any(
        np.array_equal(parent.configurations[k].positions, a.positions) for a in kept))
    assert 0 < up.seeded == from_kept < parent.filled
    _assert_is_active_set_of(up, pot4, kept, "nbh")


def test_update_falls_back_to_a_build_when_the_parent_cannot_seed(pot4, frames):
    other_level = random_potential(level=6, seed=2)
    parent = _through_file(build_active_set(other_level, frames[:4], "nbh"), other_level.species)
    up = update_active_set(pot4, frames[:6], parent)  # 269 parameters vs the parent's
    assert up.seeded == 0
    built = build_active_set(pot4, frames[:6], "nbh")
    assert np.array_equal(up.links, built.links) and up.state.swaps == built.state.swaps
    unrelated = _through_file(build_active_set(pot4, frames[:4], "nbh"), pot4.species)
    up2 = update_active_set(pot4, frames[6:], unrelated)  # none of its configurations are in the data
    assert up2.seeded == 0
    _assert_is_active_set_of(up2, pot4, frames[6:], "nbh")
