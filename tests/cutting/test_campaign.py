"""Cutting in campaigns: large frames become cuts before select_add; stored cuts carry provenance and weights."""

import numpy as np

from seilearn.cutting.campaign import cut_large_frames, weigh_cuts
from seilearn.cutting.weights import CutWeights
from seilearn.mtp.mtpfile import to_text
from seilearn.selection import build_active_set, select_add
from seilearn.store import Store
from seilearn.store.hashing import structure_hash
from seilearn.store.provenance import configuration_lineage, format_configuration_lineage
from tests.selection.helpers import SPECIES, frame_of_size


def pool_of(lpsc_frame):
    big = lpsc_frame.copy()
    del big.arrays["nbh_grades"]  # frames come back from exploration without grades
    big.info["source"] = {"kind": "exploration", "campaign_id": "c", "exploration_run_id": "run-1", "md_step": 40,
                          "threshold_save": 1.0}
    small = frame_of_size(35, seed=99)
    small.info["source"] = {"kind": "exploration", "campaign_id": "c", "exploration_run_id": "run-2", "md_step": 8}
    return [small, big]


def test_large_frames_become_cuts_and_select_add_chooses_among_them(pot, aset, lpsc_frame):
    pool = pool_of(lpsc_frame)
    train = [frame_of_size(35, seed=s) for s in range(24)]  # the nbh active set of the fixture
    out = cut_large_frames(pool, mtp_text=to_text(pot.model), almtp=aset.to_bytes(to_text(pot.model), SPECIES),
                           species=SPECIES, train_atoms=train, max_atoms=150, per_frame=3)
    assert out[0] is pool[0] and len(out) == 4
    for c in out[1:]:
        cut = c.info["source"]["cut"]
        assert len(c) <= 150 and c.info["source"]["exploration_run_id"] == "run-1"
        assert cut["parent_hash"] == structure_hash(pool[1]) and cut["md_step"] == 40
        assert cut["exploration_run_id"] == "run-1" and len(cut["parent_index"]) == len(c)
        assert cut["grade"] > 1.0 and cut["core_atoms"][0] == 0
    chosen = select_add(pot, train, out, mode="nbh", active_set=aset)
    assert chosen and all(0 <= k < len(out) for k in chosen)
    # a cfg-mode campaign grades the atoms with an nbh active set of its training set
    cfg = build_active_set(pot, train, "cfg")
    again = cut_large_frames(pool, mtp_text=to_text(pot.model), almtp=cfg.to_bytes(to_text(pot.model), SPECIES),
                             species=SPECIES, train_atoms=train, max_atoms=150, per_frame=3)
    assert [structure_hash(a) for a in again] == [structure_hash(a) for a in out]


def test_stored_cuts_show_provenance_and_get_weights(settings, pot, aset, lpsc_frame):
    store = Store.open(settings)
    pool = pool_of(lpsc_frame)
    cuts = cut_large_frames(pool, mtp_text=to_text(pot.model), almtp=aset.to_bytes(to_text(pot.model), SPECIES),
                            species=SPECIES, train_atoms=[], max_atoms=150, per_frame=2)
    ids = [store.add_configuration(a, a.info["source"])[0] for a in cuts]
    lin = configuration_lineage(store, ids[1])
    assert lin["source"]["cut"]["parent_index"] == [int(i) for i in cuts[1].arrays["parent_index"]]
    text = format_configuration_lineage(lin)
    assert "cut: box of radius" in text and "run run-1, step 40" in text
    atoms = store.get_atoms(ids)
    assert weigh_cuts(store, ids, atoms, CutWeights(core=1.0, buffer=0.25, energy=0.5)) == 2
    assert "force_weight" not in atoms[0].arrays and "energy_weight" not in atoms[0].info
    for a, c in zip(atoms[1:], cuts[1:]):
        assert np.array_equal(a.arrays["force_weight"], np.where(c.arrays["core"], 1.0, 0.25))
        assert a.info["energy_weight"] == 0.5
