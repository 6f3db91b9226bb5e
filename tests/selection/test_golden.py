"""Against MLIP-3's own outputs on our inputs (tests/data/mlip3): calculate_grade in nbh and cfg mode,
the active sets ``mlp`` builds, select_add (with ghost atoms) and the .almtp layout."""

import numpy as np
import pytest

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg
from seilearn.mtp.mtpfile import read_mtp
from seilearn.mtp.potential import Potential
from seilearn.selection.active_set import ActiveSet, build_active_set
from seilearn.selection.cfgio import read_cfg_for_selection
from seilearn.selection.grading import grade_configurations

SPECIES = {"li": ["Li"], "lpscl": ["Li", "P", "S", "Cl"]}
PROBE = {"li": "probe.cfg", "lpscl": "candidates.cfg"}  # what run_mlp.sh grades
GRADED = {"nbh": "graded.cfg", "cfg": "graded_cfg.cfg"}
SELECTED = {"nbh": "selected.cfg", "cfg": "selected_cfg.cfg"}
CASES = [(s, m) for s in ("li", "lpscl") for m in ("nbh", "cfg")]


def _potential(golden, name):
    return Potential(read_mtp(golden / name / "pot.mtp"), SPECIES[name])


def _mlp_active_set(golden, name, mode):
    """MLIP-3's active set where it is kept (li), else ours built from the same training set, as
    ``mlp select`` does (lpscl: the grades below then check the build as well)."""
    if name == "li":
        return ActiveSet.read(golden / name / ("pot.almtp" if mode == "nbh" else "pot_cfg.almtp"), SPECIES[name])
    train = read_cfg(golden / name / "train.cfg", SPECIES[name])
    return build_active_set(_potential(golden, name), train, mode)


@pytest.mark.parametrize("name, mode", CASES)
def test_grades_reproduce_mlip3(golden, name, mode):
    d, species = golden / name, SPECIES[name]
    ours = grade_configurations(_potential(golden, name), _mlp_active_set(golden, name, mode),
                                read_cfg(d / PROBE[name], species), mode)
    ref = read_cfg(d / GRADED[mode], species)
    assert len(ours) == len(ref) >= 2
    for a, b in zip(ours, ref):
        # MLIP-3 prints MV_grade with 6 decimals (every grade here is above 0.7) and nbh_grades with 5
        assert a.info["mv_grade"] == pytest.approx(b.info["mv_grade"], rel=1e-6)
        np.testing.assert_allclose(a.get_positions(), b.get_positions(), atol=5.1e-7)
        if mode == "nbh":
            ga, gb = a.arrays["nbh_grades"], b.arrays["nbh_grades"]
            assert np.all(np.abs(ga - gb) <= np.maximum(1e-6 * np.abs(gb), 5.01e-6))
        else:
            assert "nbh_grades" not in b.arrays and "nbh_grades" not in a.arrays


@pytest.mark.parametrize("name, mode", CASES)
def test_grade_cli_reproduces_mlip3(golden, tmp_path, name, mode):
    """``seilearn grade POT TRAIN IN OUT`` builds the active set from TRAIN as ``mlp select`` did."""
    d, species = golden / name, SPECIES[name]
    out = tmp_path / "graded.cfg"
    assert main(["grade", str(d / "pot.mtp"), str(d / "train.cfg"), str(d / PROBE[name]), str(out),
                 "--mode", mode, "--species", ",".join(species)]) == 0
    ours, ref = read_cfg(out, species), read_cfg(d / GRADED[mode], species)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        # ours prints 7 significant digits, MLIP-3 6 decimals
        assert a.info["mv_grade"] == pytest.approx(b.info["mv_grade"], rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("mode, file", [("nbh", "pot.almtp"), ("cfg", "pot_cfg.almtp")])
def test_active_set_equals_mlip3(golden, mode, file):
    """MaxVol over the training set picks MLIP-3's rows, in MLIP-3's order, with its matrices."""
    ref = ActiveSet.read(golden / "li" / file, ["Li"])
    ours = build_active_set(_potential(golden, "li"), read_cfg(golden / "li" / "train.cfg", ["Li"]), mode)
    assert ours.weights == ref.weights and ours.mode == ref.mode == mode
    assert ours.n == ref.n == 26 and ours.filled == ref.filled
    assert np.array_equal(ours.links, ref.links)
    np.testing.assert_allclose(ours.A, ref.A, rtol=0, atol=1e-12 * np.abs(ref.A).max())
    np.testing.assert_allclose(ours.A_inv, ref.A_inv, rtol=0, atol=1e-9 * np.abs(ref.A_inv).max())
    assert [len(a) for a in ours.configurations] == [len(a) for a in ref.configurations]


def test_grade_saves_and_reuses_active_set(golden, tmp_path):
    d = golden / "li"
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


@pytest.mark.parametrize("name, mode", CASES)
def test_select_add_reproduces_mlip3(golden, tmp_path, name, mode):
    d, species = golden / name, SPECIES[name]
    out = tmp_path / "selected.cfg"
    assert main(["select-add", str(d / "pot.mtp"), str(d / "train.cfg"), str(d / "candidates.cfg"), str(out),
                 "--mode", mode, "--species", ",".join(species)]) == 0
    ours, ref = read_cfg_for_selection(out, species), read_cfg_for_selection(d / SELECTED[mode], species)
    assert len(ours) == len(ref) >= 1
    for a, b in zip(ours, ref):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        np.testing.assert_allclose(a.get_positions(), b.get_positions(), atol=5.1e-7)
        assert a.info["mlip_features"]["selected_eqn_inds"] == b.info["mlip_features"]["selected_eqn_inds"]


def test_li_candidates_carry_ghost_atoms(golden):
    """The li candidates are cut like LAMMPS subdomains (local atoms plus ghosts, non-periodic): MLIP-3
    numbers the equations of the N local atoms only (site energy of atom i: 1 + 3N + 9 + i)."""
    cands = read_cfg_for_selection(golden / "li" / "candidates.cfg", ["Li"])
    for a in cands:
        assert not a.pbc.any() and 0 < (~a.arrays["ghost"]).sum() < len(a)
    for a in read_cfg_for_selection(golden / "li" / "selected.cfg", ["Li"]):
        local = int((~a.arrays["ghost"]).sum())
        eqns = [int(i) for i in a.info["mlip_features"]["selected_eqn_inds"].split(",")]
        assert all(0 <= e - (1 + 3 * local + 9) < local for e in eqns)


@pytest.mark.parametrize("file, mode", [("pot.almtp", "nbh"), ("pot_cfg.almtp", "cfg")])
def test_almtp_round_trip(golden, tmp_path, file, mode):
    path = golden / "li" / file
    raw = path.read_bytes()
    aset = ActiveSet.read(path, ["Li"])
    assert aset.mode == mode and aset.weights.weight_scaling == 2
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
