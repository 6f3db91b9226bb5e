"""``seilearn label``: .cfg and extxyz in/out, per-configuration failures, exit codes, LabelResult round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk

from seilearn.cli import main
from seilearn.labelling import LabelResult
from seilearn.mtp.cfg import read_cfg, write_cfg


def _cells():
    li = bulk("Li", "bcc", a=3.44, cubic=True).repeat((2, 1, 1))
    li.rattle(0.05, seed=1)
    bad = li.copy()
    bad.positions[1] = bad.positions[0] + [0.2, 0, 0]
    li2s = bulk("Li2S", "fluorite", a=5.71)
    return [li, bad, li2s]


def test_label_cfg_partial_failure(tmp_path, capsys):
    inp, out = tmp_path / "in.cfg", tmp_path / "out.cfg"
    write_cfg(inp, _cells(), ["Li", "P", "S", "Cl"])
    rc = main(["label", str(inp), str(out), "--labeller", "chgnet", "--batch-size", "2", "--no-progress"])
    assert rc == 0
    got = read_cfg(out, species=["Li", "P", "S", "Cl"])
    assert len(got) == 2 and got[1].get_chemical_formula() == "Li2S"
    e, f, s = got[0].get_potential_energy(), got[0].get_forces(), got[0].get_stress()
    assert np.isfinite(e) and f.shape == (4, 3) and np.abs(f.sum(axis=0)).max() < 1e-3 and s.shape == (6,)
    failed = json.loads((tmp_path / "out.cfg.failed.json").read_text())
    assert [f["index"] for f in failed["failed"]] == [1] and "overlapping" in failed["failed"][0]["reason"]
    assert failed["labeller"]["name"] == "chgnet"
    err = capsys.readouterr()
    assert "labelled 2 of 3" in err.out and "overlapping" in err.err


def test_label_extxyz_all_fail_exit_1(tmp_path, capsys):
    from ase.io import write

    inp, out = tmp_path / "in.xyz", tmp_path / "out.xyz"
    bad = _cells()[1]
    write(inp, [bad, bad], format="extxyz")
    assert main(["label", str(inp), str(out), "--no-progress"]) == 1
    assert not out.exists() and "no configuration" in capsys.readouterr().err


def test_missing_input_is_one_line_error(tmp_path, capsys):
    assert main(["label", str(tmp_path / "nope.cfg"), str(tmp_path / "o.cfg")]) == 2
    assert "nope.cfg" in capsys.readouterr().err


def test_label_result_round_trip():
    r = LabelResult(status="ok", energy=-1.5, forces=np.zeros((2, 3)), stress=np.arange(6.0), settings={"a": 1})
    d = json.loads(json.dumps(r.to_dict()))
    back = LabelResult.from_dict(d)
    assert back.energy == -1.5 and back.forces.shape == (2, 3) and back.settings == {"a": 1}
    with pytest.raises(ValueError):
        LabelResult(status="maybe")


def test_gpaw_missing_is_clear(tmp_path):
    from seilearn.errors import ConfigError
    from seilearn.labelling import get_labeller
    from seilearn.labelling.gpaw import gpaw_available

    if gpaw_available() is None:
        pytest.skip("GPAW is installed here; the labelling test is tests/labelling/test_gpaw.py")
    with pytest.raises(ConfigError, match="GPAW is not importable"):
        get_labeller("gpaw")
