"""CLI behaviour beyond the golden examples: cfg mode, errors, ghost atoms."""

import numpy as np

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg
from seilearn.selection.cfgio import read_cfg_for_selection


def test_grade_cfg_mode_from_training_set(golden, tmp_path, capsys):
    d = golden / "li"
    out = tmp_path / "g.cfg"
    assert main(["grade", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "train.cfg"), str(out),
                 "--mode", "cfg"]) == 0
    graded = read_cfg(out, ["Li"])
    assert all("nbh_grades" not in a.arrays for a in graded)
    assert max(a.info["mv_grade"] for a in graded) <= 1.001  # its own training set
    assert "cfg mode" in capsys.readouterr().out


def test_grade_without_active_set_needs_training_set(golden, tmp_path, capsys):
    mtp = tmp_path / "pot.mtp"
    raw = (golden / "li" / "pot.almtp").read_bytes()
    mtp.write_bytes(raw[: raw.index(b"#MVS_v1.1")])
    cfg = golden / "li" / "train.cfg"
    assert main(["grade", str(mtp), str(cfg), str(tmp_path / "o.cfg")]) == 2
    assert "pass TRAIN.cfg" in capsys.readouterr().err
    assert not (tmp_path / "o.cfg").exists()
    assert main(["grade", str(tmp_path / "missing.mtp"), str(cfg), str(cfg), str(tmp_path / "o.cfg")]) == 2
    assert "no such potential" in capsys.readouterr().err


def test_select_add_limit_and_species_error(golden, tmp_path, capsys):
    d = golden / "li"
    out = tmp_path / "sel.cfg"
    assert main(["select-add", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "candidates.cfg"), str(out),
                 "--limit", "1"]) == 0
    sel = read_cfg_for_selection(out, ["Li"])
    first = read_cfg_for_selection(d / "selected.cfg", ["Li"])[0]  # MLIP-3 selects both; the first grades higher
    assert len(sel) == 1 and len(sel[0]) == len(first)
    assert sel[0].info["mlip_features"]["selected_eqn_inds"] == first.info["mlip_features"]["selected_eqn_inds"]
    assert main(["select-add", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "candidates.cfg"), str(out),
                 "--species", "Qq"]) == 2
    assert "species" in capsys.readouterr().err


def test_ghost_column_is_read(golden):
    atoms = read_cfg_for_selection(golden / "li" / "candidates.cfg", ["Li"])
    assert [len(a) for a in atoms] == [136, 161]
    assert [int((~a.arrays["ghost"]).sum()) for a in atoms] == [23, 26]
    for a in atoms:  # make_inputs.py writes the local atoms first, then the ghosts
        local = int((~a.arrays["ghost"]).sum())
        assert not a.arrays["ghost"][:local].any() and a.arrays["ghost"][local:].all()
        assert np.all(a.arrays.get("nbh_grades", np.zeros(len(a)))[a.arrays["ghost"]] == 0)
