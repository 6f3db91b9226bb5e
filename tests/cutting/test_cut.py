"""Neighbourhood cutting: exact centre neighbourhoods, whole PS4 units, contacts, sizes, provenance."""

import numpy as np
import pytest

from seilearn.cutting import CutSettings, CutWeights, apply_cut_weights, choose_centres, cut_frames
from seilearn.cutting.chemistry import electron_count, min_contact
from seilearn.cutting.records import cut_record, from_features, restore, to_features
from seilearn.errors import InputError
from seilearn.selection import grade_configurations
from seilearn.store.hashing import structure_hash


def centre_grades(cuts, pot, aset):
    return np.array([grade_configurations(pot, aset, [c], mode="nbh")[0].arrays["nbh_grades"][0] for c in cuts])


def check_invariant(frame, pot, aset, mode, k=6, max_atoms=200):
    cuts = cut_frames([frame], potential=pot, active_set=aset, settings=CutSettings(max_atoms=max_atoms, mode=mode),
                      per_frame=k, threshold=1.0)
    assert len(cuts) == k
    parent = frame.arrays["nbh_grades"][[c.info["cut"]["centre"] for c in cuts]]
    assert np.abs(centre_grades(cuts, pot, aset) - parent).max() < 1e-8
    assert parent.max() > 1.5  # the grades are non-trivial
    for c in cuts:
        assert len(c) <= max_atoms and c.info["cut"]["radius"] >= pot.cutoff
    return cuts


@pytest.mark.parametrize("mode", ["box", "cluster"])
def test_centre_grade_is_the_parents(lpsc_frame, pot, aset, mode):
    check_invariant(lpsc_frame, pot, aset, mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["box", "cluster"])
def test_centre_grade_is_the_parents_model_one(model_one, pot, aset, mode):
    assert len(model_one) == 7956
    cuts = check_invariant(model_one, pot, aset, mode, k=10)
    for c in cuts:
        check_ps4_whole(model_one, c)
        check_exact_region(model_one, c)


def parent_vectors(parent, cut):
    """Minimum-image displacements in the parent from the centre to each cut atom's parent atom."""
    i0 = cut.info["cut"]["centre"]
    return parent.get_distances(i0, cut.arrays["parent_index"], mic=True, vector=True)


def check_exact_region(parent, cut):
    """Atoms within the radius are the parent's, at the parent's displacements; no image intrudes."""
    radius = cut.info["cut"]["radius"]
    rel = cut.positions - cut.positions[0]
    d = np.linalg.norm(rel, axis=1)
    inner = d <= radius
    assert np.allclose(rel[inner], parent_vectors(parent, cut)[inner], atol=1e-9)
    dp = parent.get_distances(cut.info["cut"]["centre"], np.arange(len(parent)), mic=True)
    assert inner.sum() == (dp <= radius).sum()  # no parent atom missing from the exact region
    if cut.pbc.all():  # nothing else (no periodic image) comes within the radius
        from ase.neighborlist import neighbor_list

        i, j, dist = neighbor_list("ijd", cut, radius)
        assert (i == 0).sum() == inner.sum() - 1
    core = cut.arrays["core"]
    assert np.array_equal(core, d <= pot_cutoff(cut) + 1e-9)


def pot_cutoff(cut):
    return cut.info["cut"]["cutoff"]


def check_ps4_whole(parent, cut):
    """Every P in the cut has the same S neighbours (within 3 A) as in the parent."""
    from ase.neighborlist import neighbor_list

    sym = np.array(cut.get_chemical_symbols())
    psym = np.array(parent.get_chemical_symbols())
    if "_ps_pairs" not in parent.info:  # one neighbour list per parent frame
        parent.info["_ps_pairs"] = neighbor_list("ij", parent, 3.0)
    pi, pj = parent.info["_ps_pairs"]
    i, j = neighbor_list("ij", cut, 3.0)
    pidx = cut.arrays["parent_index"]
    for p in np.flatnonzero(sym == "P"):
        mine = sorted(pidx[j[(i == p) & (sym[j] == "S")]])
        theirs = sorted(pj[(pi == pidx[p]) & (psym[pj] == "S")])
        assert mine == theirs


def test_units_whole_contacts_and_provenance(lpsc_frame, pot, aset):
    cuts = cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(max_atoms=150),
                      per_frame=4, threshold=1.0)
    from ase.neighborlist import neighbor_list

    for c in cuts:
        check_ps4_whole(lpsc_frame, c)
        check_exact_region(lpsc_frame, c)
        # contacts the box faces created are no shorter than the species' minimum contact
        i, j, D = neighbor_list("ijD", c, 2.0)
        pv = parent_vectors(lpsc_frame, c)
        new = np.linalg.norm(pv[j] - pv[i] - D, axis=1) > 1e-6
        sym = c.get_chemical_symbols()
        for a, b, v in zip(i[new], j[new], D[new]):
            assert np.linalg.norm(v) >= min_contact(sym[a], sym[b], pot.min_dist) - 1e-9
        info = c.info["cut"]
        assert info["parent_hash"] == structure_hash(lpsc_frame) and info["parent_frame"] == 0
        assert info["mode"] == "box" and np.allclose(info["box"], c.cell[:])
        assert info["composition"] == {s: c.get_chemical_symbols().count(s) for s in info["composition"]}
        assert info["electrons"] == electron_count(c.get_chemical_symbols())
        assert c.info["odd_electrons"] == (info["electrons"] % 2 == 1)
        assert info["n_atoms"] == len(c) <= 150
    assert {c.info["odd_electrons"] for c in cuts} <= {True, False}


def test_electron_count_and_odd_flag():
    assert electron_count(["Li"] * 6 + ["P"] + ["S"] * 5 + ["Cl"]) == 6 * 3 + 5 + 30 + 7
    assert electron_count(["Li"]) == 3 and electron_count(["Fe"]) is None


def test_centres_highest_first_spaced(lpsc_frame):
    g = lpsc_frame.arrays["nbh_grades"]
    picked = choose_centres(lpsc_frame, g, 8, 1.0, 10.0)
    assert picked[0] == int(np.argmax(g))
    assert list(g[picked]) == sorted(g[picked], reverse=True) and (g[picked] > 1.0).all()
    for a in range(len(picked)):
        for b in range(a):
            assert lpsc_frame.get_distance(picked[a], picked[b], mic=True) >= 10.0
    assert choose_centres(lpsc_frame, g, 8, g.max(), 10.0) == []
    assert len(choose_centres(lpsc_frame, g, 3, 0.0, 0.0)) == 3


def test_radius_search_and_size_errors(lpsc_frame, pot, aset):
    with pytest.raises(InputError, match="below the MTP cutoff"):
        cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(radius=4.0))
    with pytest.raises(InputError, match="smaller than one neighbourhood"):
        cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(max_atoms=20), threshold=1.0)
    with pytest.raises(InputError, match="lower --radius or raise --max-atoms"):
        cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(radius=10.0, max_atoms=100),
                   threshold=1.0)
    small = cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(max_atoms=100),
                       threshold=1.0)[0]
    big = cut_frames([lpsc_frame], potential=pot, active_set=aset, settings=CutSettings(max_atoms=250),
                     threshold=1.0)[0]
    assert len(small) <= 100 < len(big) <= 250
    assert small.info["cut"]["radius"] < big.info["cut"]["radius"]


def test_frame_without_grades_needs_a_potential(lpsc_frame):
    bare = lpsc_frame.copy()
    del bare.arrays["nbh_grades"]
    with pytest.raises(InputError, match="no per-atom grades"):
        cut_frames([bare], cutoff=5.0)
    # frames that carry their grades are cut without a potential
    assert len(cut_frames([lpsc_frame], cutoff=5.0, threshold=1.0)) == 1


def test_record_round_trip_and_weights(lpsc_frame, pot, aset):
    cut = cut_frames([lpsc_frame], potential=pot, active_set=aset, threshold=1.0)[0]
    rec = cut_record(cut)
    assert rec["centre"] == cut.info["cut"]["centre"] and len(rec["parent_index"]) == len(cut)
    back = from_features(to_features(cut).copy())
    assert np.array_equal(back.arrays["core"], cut.arrays["core"])
    bare = cut.copy()
    for key in ("core", "parent_index"):
        del bare.arrays[key]
    bare.info = {}
    restore(bare, rec)
    assert np.array_equal(bare.arrays["parent_index"], cut.arrays["parent_index"])
    w = apply_cut_weights(cut.copy(), CutWeights(core=2.0, buffer=0.0, energy=0.5))
    assert np.array_equal(w.arrays["force_weight"], np.where(cut.arrays["core"], 2.0, 0.0))
    assert w.info["energy_weight"] == 0.5
    plain = lpsc_frame.copy()
    assert "force_weight" not in apply_cut_weights(plain, CutWeights()).arrays
    with pytest.raises(InputError, match="cut_weights.buffer"):
        CutWeights(buffer=-1.0)
    with pytest.raises(InputError, match="unknown key"):
        CutWeights.from_mapping({"centre": 1.0})
