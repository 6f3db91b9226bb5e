"""Properties MaxVol selection must have, on a level-8, 4-species MTP (269 parameters)."""

import numpy as np
import pytest
from ase.build import make_supercell

from seilearn.errors import InputError
from seilearn.selection.active_set import ActiveSet, build_active_set
from seilearn.selection.features import mlip_order, rows_of, site_energy_rows
from seilearn.selection.maxvol import MaxVolState, grades, maxvol
from seilearn.selection.select_add import select_add, select_add_details
from tests.selection.helpers import random_frame


def test_fast_site_jacobian_equals_motep(pot4, frames):
    a = frames[0]
    ours = site_energy_rows(pot4, a)
    ref = mlip_order(pot4, pot4.site_energy_jacobian(a))
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())
    energy = mlip_order(pot4, pot4.energy_jacobian(a))
    np.testing.assert_allclose(rows_of(pot4, a, "cfg")[0] * len(a), energy, rtol=1e-9, atol=1e-9 * np.abs(energy).max())


@pytest.mark.parametrize("mode", ["nbh", "cfg"])
def test_training_rows_grade_below_threshold_after_build(pot4, frames, mode):
    aset = build_active_set(pot4, frames, mode)
    assert aset.n == 269
    if mode == "cfg":
        assert aset.filled == len(frames)  # fewer configurations than parameters is fine
    else:
        assert 0 < aset.filled < 269  # rank deficient: the rest stay eps rows
    for a in frames:
        g, _ = aset.grade(pot4, a)
        assert g <= 1.001 + 1e-8
    # eps rows (1e-6) beside O(100) data rows: A A^-1 = I holds to ~1e-5 only
    np.testing.assert_allclose(aset.A @ aset.A_inv, np.eye(269), atol=1e-3)
    # rows of A that came from data are exactly those configurations' rows
    for (k, eqn), row in zip(aset.links, aset.A):
        if k >= 0:
            rows = rows_of(pot4, aset.configurations[k], mode)
            idx = 0 if mode == "cfg" else eqn - (1 + 3 * len(aset.configurations[k]) + 9)
            np.testing.assert_allclose(row, rows[idx], rtol=1e-12, atol=1e-12)


def test_det_never_decreases_and_matches_slogdet():
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(400, 30)) * rng.uniform(0.01, 10, size=30)
    rows[:, 25:] = rows[:, :5] @ rng.normal(size=(5, 5))  # rank 25 of 30
    state = maxvol(MaxVolState.identity(30), rows, np.arange(400), track_det=True)
    hist = np.array(state.det_history)
    assert state.swaps == len(hist) > 25
    assert np.all(np.diff(hist) > np.log(1.001) - 1e-12)
    assert state.log_abs_det == pytest.approx(np.linalg.slogdet(state.A)[1], abs=1e-6)
    assert grades(rows, state.A_inv).max() <= 1.001 + 1e-9
    np.testing.assert_allclose(state.A @ state.A_inv, np.eye(30), atol=1e-6)
    # a second pass finds nothing to swap; a swap limit is honoured
    assert maxvol(state, rows, np.arange(400)).swaps == len(hist)
    limited = maxvol(MaxVolState.identity(30), rows, np.arange(400), max_swaps=7)
    assert limited.swaps == 7


def test_maxvol_threshold_validation():
    with pytest.raises(ValueError):
        maxvol(MaxVolState.identity(3), np.eye(3), np.arange(3), threshold=0.5)


@pytest.mark.parametrize("mode", ["nbh", "cfg"])
def test_grades_invariant_to_order_translation_and_replication(pot4, frames, mode):
    aset = build_active_set(pot4, frames[:6], mode)
    probe = random_frame(1, seed=99, rattle=0.3)
    g0, per0 = aset.grade(pot4, probe)
    assert g0 > 1.0  # an unseen configuration extrapolates a little
    perm = np.random.default_rng(0).permutation(len(probe))
    g1, per1 = aset.grade(pot4, probe[perm])
    assert g1 == pytest.approx(g0, rel=1e-9)
    moved = probe.copy()
    moved.translate([0.37, -1.2, 2.9])
    moved.wrap()
    g2, per2 = aset.grade(pot4, moved)
    assert g2 == pytest.approx(g0, rel=1e-8)
    big = make_supercell(probe, np.diag([2, 1, 2]))
    g3, per3 = aset.grade(pot4, big)
    if mode == "cfg":
        assert g3 == pytest.approx(g0, rel=1e-8)
    else:
        np.testing.assert_allclose(np.sort(per3), np.sort(np.tile(per0, 4)), rtol=1e-8)
        np.testing.assert_allclose(per1, per0[perm], rtol=1e-9)


def test_active_set_file_round_trip(pot4, frames, tmp_path):
    aset = build_active_set(pot4, frames[:5], "cfg")
    path = tmp_path / "pot.almtp"
    aset.write(path, species=pot4.species)
    back = ActiveSet.read(path, pot4.species)
    assert back.mode == "cfg" and back.weights == aset.weights
    assert np.array_equal(back.A, aset.A) and np.array_equal(back.A_inv, aset.A_inv)
    assert np.array_equal(back.links, aset.links)
    assert [a.get_chemical_formula() for a in back.configurations] == \
        [a.get_chemical_formula() for a in aset.configurations]
    probe = random_frame(1, seed=42)
    assert back.grade(pot4, probe)[0] == pytest.approx(aset.grade(pot4, probe)[0], rel=1e-12)
    assert ActiveSet.from_bytes(aset.to_bytes()).to_bytes() == aset.to_bytes()


def test_active_set_file_errors(golden, tmp_path):
    plain = tmp_path / "plain.mtp"
    raw = (golden / "li" / "pot.almtp").read_bytes()
    plain.write_bytes(raw[: raw.index(b"#MVS_v1.1")])
    with pytest.raises(InputError, match="no active set"):
        ActiveSet.read(plain)
    cut = tmp_path / "cut.almtp"
    cut.write_bytes(raw[: raw.index(b"#MVS_v1.1") + 400])
    with pytest.raises(InputError, match="26 x 26"):
        ActiveSet.read(cut)


def test_select_add_dedupes_and_limits(pot4, frames):
    train = frames[:4]
    new = [random_frame(1, seed=200 + s, rattle=0.3) for s in range(4)]
    cands = [new[0], new[0].copy(), train[1].copy(), new[1], new[2], new[3]]
    res = select_add_details(pot4, train, cands, mode="cfg")
    assert 1 not in res.indices and 2 not in res.indices  # a repeat and a training configuration
    assert set(res.indices) <= {0, 3, 4, 5} and res.indices
    assert res.grades[1] == -1.0 and res.grades[2] == -1.0
    limited = select_add(pot4, train, cands, mode="cfg", limit=1)
    assert len(limited) == 1 and limited[0] == max(res.indices, key=lambda k: res.grades[k])
    assert select_add(pot4, train, cands, mode="cfg", limit=0) == []
    # candidates already represented by the training set are not selected
    assert select_add(pot4, train, [f.copy() for f in train], mode="nbh", dedupe=False) == []


def test_eps_fill_phase_matches_pure_greedy(monkeypatch):
    """The first phase (greedy among eps columns only) ends where MLIP's all-column greedy ends."""
    import importlib

    mv = importlib.import_module("seilearn.selection.maxvol")

    rng = np.random.default_rng(11)
    rows = rng.normal(size=(1500, 40)) * rng.uniform(0.05, 20, size=40)
    rows[:, 35:] = rows[:, :5] @ rng.normal(size=(5, 5))
    fast = maxvol(MaxVolState.identity(40), rows, np.arange(1500), track_det=True)
    monkeypatch.setattr(mv, "FILL_SWITCH", np.inf)
    pure = maxvol(MaxVolState.identity(40), rows, np.arange(1500), track_det=True)
    assert sorted(fast.source) == sorted(pure.source)
    assert fast.log_abs_det == pytest.approx(pure.log_abs_det, rel=1e-8)
    assert np.all(np.diff(fast.det_history) > 0)


def test_stored_active_set_gives_the_same_selection(pot4, frames):
    """The workflow stores the active set as .almtp bytes and passes it back to select_add."""
    train = frames[:6]
    cands = [random_frame(1, seed=300 + s, rattle=0.3) for s in range(5)]
    stored = ActiveSet.from_bytes(build_active_set(pot4, train, "nbh").to_bytes())
    assert stored.species is None and stored.configurations[0].get_chemical_symbols()[0] == "X"
    with_set = select_add(pot4, train, cands, mode="nbh", active_set=stored)
    assert with_set == select_add(pot4, train, cands, mode="nbh") and with_set
    g, per_atom = stored.grade(pot4, stored.configurations[0])  # X symbols: types from mtp_type
    assert g <= 1.001 + 1e-8 and len(per_atom) == len(stored.configurations[0])


def test_batched_rows_with_ghosts_equal_centre_rows(pot4, frames):
    from seilearn.selection.features import batch_site_rows

    masks = [None, np.arange(len(frames[1])) % 3 == 0, None]
    batched = batch_site_rows(pot4, frames[:3], masks)
    full = [mlip_order(pot4, pot4.site_energy_jacobian(a)) for a in frames[:3]]  # motep's engine, all atoms
    for rows, ref, mask in zip(batched, full, masks):
        ref = ref if mask is None else ref[mask]
        np.testing.assert_allclose(rows, ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())


def test_rows_do_not_depend_on_thread_count(pot4, monkeypatch):
    from tests.selection.helpers import frame_of_size

    big = frame_of_size(600, seed=5)
    monkeypatch.setenv("SEILEARN_THREADS", "1")
    one = site_energy_rows(pot4, big)
    monkeypatch.setenv("SEILEARN_THREADS", "2")
    two = site_energy_rows(pot4, big)
    assert np.array_equal(one, two)
