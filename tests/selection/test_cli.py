"""CLI behaviour beyond the golden examples: cfg mode, errors, ghost atoms."""

import numpy as np
import pytest

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg
from seilearn.selection.cfgio import read_cfg_for_selection


def test_grade_cfg_mode_from_training_set(golden, tmp_path, capsys):
    d = golden / "04.calculate_grade"
    out = tmp_path / "g.cfg"
    assert main(["grade", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "train.cfg"), str(out),
                 "--mode", "cfg"]) == 0
    graded = read_cfg(out, ["Li"])
    assert all("nbh_grades" not in a.arrays for a in graded)
    assert max(a.info["mv_grade"] for a in graded) <= 1.001  # its own training set
    assert "cfg mode" in capsys.readouterr().out


def test_grade_without_active_set_needs_training_set(golden, tmp_path, capsys):
    mtp = tmp_path / "pot.mtp"
    raw = (golden / "04.calculate_grade" / "pot.almtp").read_bytes()
    mtp.write_bytes(raw[: raw.index(b"#MVS_v1.1")])
    cfg = golden / "04.calculate_grade" / "train.cfg"
    assert main(["grade", str(mtp), str(cfg), str(tmp_path / "o.cfg")]) == 2
    assert "pass TRAIN.cfg" in capsys.readouterr().err
    assert not (tmp_path / "o.cfg").exists()
    assert main(["grade", str(tmp_path / "missing.mtp"), str(cfg), str(cfg), str(tmp_path / "o.cfg")]) == 2
    assert "no such potential" in capsys.readouterr().err


def test_select_add_limit_and_species_error(golden, tmp_path, capsys):
    d = golden / "06.select_add"
    out = tmp_path / "sel.cfg"
    assert main(["select-add", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "preselected.cfg"), str(out),
                 "--limit", "1"]) == 0
    sel = read_cfg(out, ["Li"])
    assert len(sel) == 1 and sel[0].info["mv_grade"] == pytest.approx(1e6)  # the higher-grade candidate
    assert main(["select-add", str(d / "pot.almtp"), str(d / "train.cfg"), str(d / "preselected.cfg"), str(out),
                 "--species", "Qq"]) == 2
    assert "species" in capsys.readouterr().err


def test_ghost_column_is_read(golden):
    atoms = read_cfg_for_selection(golden / "06.select_add" / "preselected.cfg", ["Li"])
    assert len(atoms) == 2 and len(atoms[0]) == 1679
    assert atoms[0].arrays["ghost"].sum() + (~atoms[0].arrays["ghost"]).sum() == 1679
    assert (~atoms[0].arrays["ghost"]).sum() == 540
    assert np.all(atoms[0].arrays["nbh_grades"][atoms[0].arrays["ghost"]] == 0)
