"""Against MLIP-3's own outputs (golden/mlip3): calculate_grade, select_add, the .almtp layout."""

import numpy as np
import pytest

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg
from seilearn.selection.active_set import ActiveSet
from seilearn.selection.cfgio import read_cfg_for_selection


def test_grade_reproduces_mlip3(golden, tmp_path):
    d = golden / "04.calculate_grade"
    out = tmp_path / "graded.cfg"
    assert main(["grade", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "train.cfg"), str(out)]) == 0
    ours, ref = read_cfg(out, ["Li"]), read_cfg(d / "sample_out" / "graded.cfg.0", ["Li"])
    assert len(ours) == len(ref) == 2
    for a, b in zip(ours, ref):
        assert a.info["mv_grade"] == pytest.approx(b.info["mv_grade"], rel=1e-4)
        np.testing.assert_allclose(a.arrays["nbh_grades"], b.arrays["nbh_grades"], rtol=1e-4)
        np.testing.assert_allclose(a.get_positions(), b.get_positions(), atol=1e-6)
        np.testing.assert_allclose(a.get_forces(), b.get_forces(), atol=1e-6)


def test_grade_saves_and_reuses_active_set(golden, tmp_path):
    d = golden / "04.calculate_grade"
    aset = tmp_path / "built.almtp"
    out1, out2 = tmp_path / "g1.cfg", tmp_path / "g2.cfg"
    # build from the training file itself: every training neighbourhood then grades <= 1.001
    assert main(["grade", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "train.cfg"), str(out1),
                 "--rebuild", "--active-set", str(aset)]) == 0
    assert aset.is_file()
    graded = read_cfg(out1, ["Li"])
    assert max(a.info["mv_grade"] for a in graded) <= 1.001 + 1e-9
    assert main(["grade", str(d / "pot.almtp"), str(d / "train.cfg"), str(out2), "--active-set", str(aset)]) == 0
    again = read_cfg(out2, ["Li"])
    for a, b in zip(graded, again):
        np.testing.assert_allclose(a.arrays["nbh_grades"], b.arrays["nbh_grades"], rtol=1e-5)


def test_select_add_reproduces_mlip3(golden, tmp_path):
    d = golden / "06.select_add"
    out = tmp_path / "selected.cfg"
    assert main(["select-add", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "preselected.cfg"),
                 str(out)]) == 0
    ours, ref = read_cfg(out, ["Li"]), read_cfg_for_selection(d / "sample_out" / "selected.cfg", ["Li"])
    assert len(ours) == len(ref) == 2
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.get_positions(), b.get_positions(), atol=1e-6)
        assert a.info["mlip_features"]["MV_grade"] and "selected_eqn_inds" in a.info["mlip_features"]


@pytest.mark.parametrize("example", ["04.calculate_grade", "06.select_add"])
def test_almtp_round_trip(golden, tmp_path, example):
    path = golden / example / "pot.almtp"
    raw = path.read_bytes()
    aset = ActiveSet.read(path, ["Li"])
    assert aset.mode == "nbh" and aset.weights.weight_scaling == 2
    np.testing.assert_allclose(aset.A @ aset.A_inv, np.eye(aset.n), atol=1e-6)
    assert aset.to_bytes() == raw  # byte-identical
    out = tmp_path / "copy.almtp"
    aset.cfg_text = None  # now the configurations are written by our own full-precision writer
    aset.write(out, species=["Li"])
    back = ActiveSet.read(out, ["Li"])
    assert np.array_equal(back.A, aset.A) and np.array_equal(back.A_inv, aset.A_inv)
    assert np.array_equal(back.links, aset.links)
    assert len(back.configurations) == len(aset.configurations)
    for a, b in zip(back.configurations, aset.configurations):
        assert np.array_equal(a.get_positions(), b.get_positions())
        assert np.array_equal(a.get_forces(), b.get_forces())
        assert a.get_potential_energy() == b.get_potential_energy()
        assert a.info["mlip_features"]["selected_eqn_inds"] == b.info["mlip_features"]["selected_eqn_inds"]
    # layout up to the configurations is byte-identical to MLIP-3's
    cut = raw.index(b"\n#\nBEGIN_CFG") if b"\n#\nBEGIN_CFG" in raw else raw.rindex(b"#\n")
    assert out.read_bytes()[:cut] == raw[:cut]
