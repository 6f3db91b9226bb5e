"""Cross-validation folds and the `seilearn mtp train` / `cross-validate` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seilearn.cli import main
from seilearn.errors import InputError
from seilearn.mtp.cfg import write_cfg
from seilearn.mtp.crossval import cross_validate, fold_indices, table
from seilearn.mtp.mtpfile import read_mtp
from seilearn.mtp.potential import Potential
from tests.training.conftest import SPECIES


def test_folds_partition_the_data():
    folds = fold_indices(23, 5, seed=1)
    assert len(folds) == 5
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(23))
    assert {len(f) for f in folds} <= {4, 5}
    assert [f.tolist() for f in fold_indices(23, 5, seed=1)] == [f.tolist() for f in folds]
    with pytest.raises(InputError, match="too few"):
        fold_indices(3, 5)
    with pytest.raises(InputError, match="at least 2"):
        fold_indices(10, 1)


def test_cross_validate(emt_data):
    summary = cross_validate(emt_data, SPECIES, folds=3, train_kwargs={"level": 2, "cutoff": 4.5, "max_iter": 15})
    assert summary["folds"] == 3
    tests = sorted(i for f in summary["per_fold"] for i in f["test_indices"])
    assert tests == list(range(len(emt_data)))
    for part in ("train", "test"):
        for m in ("rmse_energy_mev_atom", "rmse_forces_mev_a", "rmse_stress_gpa"):
            vals = [f[part][m] for f in summary["per_fold"]]
            assert summary[part][m]["mean"] == pytest.approx(np.mean(vals))
            assert summary[part][m]["std"] == pytest.approx(np.std(vals))
    json.dumps(summary)
    assert "rmse_energy_mev_atom [meV/atom]" in table(summary)


def test_cli_train_continue_and_crossvalidate(tmp_path, emt_data, capsys):
    cfg = tmp_path / "train.cfg"
    write_cfg(cfg, emt_data, SPECIES)
    out, log = tmp_path / "pot.mtp", tmp_path / "log.jsonl"
    rc = main(["mtp", "train", str(cfg), "--species", "Cu,Ag", "--level", "2", "--cutoff", "4.5",
               "--max-iter", "20", "--out", str(out), "--log", str(log)])
    assert rc == 0
    assert "meV/atom" in capsys.readouterr().out
    model = read_mtp(out)
    assert Potential(model, SPECIES).calculate(emt_data[0])["forces"].shape == (16, 3)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert "final" in lines[-1] and all("loss" in x for x in lines[:-1])
    first_final = lines[-1]["final"]["rmse_energy_mev_atom"]
    out2 = tmp_path / "pot2.mtp"
    assert main(["mtp", "train", str(cfg), "--species", "Cu,Ag", "--init", str(out), "--max-iter", "5",
                 "--out", str(out2)]) == 0
    assert out2.exists()
    # a fresh refit keeps the parent's basis (same min_dist and cutoff), not its coefficients
    out3 = tmp_path / "pot3.mtp"
    assert main(["mtp", "train", str(cfg), "--species", "Cu,Ag", "--init", str(out), "--mode", "fresh",
                 "--restarts", "2", "--max-iter", "12", "--out", str(out3)]) == 0
    refit = read_mtp(out3)
    assert refit.radial_basis.min == model.radial_basis.min and refit.radial_basis.max == model.radial_basis.max
    assert not np.allclose(refit.radial_coeffs, model.radial_coeffs)
    capsys.readouterr()
    js = tmp_path / "cv.json"
    assert main(["mtp", "cross-validate", str(cfg), "--species", "Cu,Ag", "--folds", "2", "--level", "2",
                 "--cutoff", "4.5", "--max-iter", "5", "--json", str(js)]) == 0
    assert "2-fold cross-validation" in capsys.readouterr().out
    assert json.loads(js.read_text())["folds"] == 2
    assert first_final < 1e4


def test_cli_bad_input(tmp_path, capsys, emt_data):
    cfg = tmp_path / "empty.cfg"
    cfg.write_text("")
    assert main(["mtp", "train", str(cfg), "--out", str(tmp_path / "p.mtp")]) == 2
    assert "no configurations" in capsys.readouterr().err
    write_cfg(cfg, emt_data[:2], SPECIES)
    assert main(["mtp", "train", str(cfg), "--species", "Cu,Ag", "--mode", "warm", "--out", str(tmp_path / "p.mtp")]) == 2
    assert "--init PARENT.mtp" in capsys.readouterr().err
    assert main(["mtp", "train", str(cfg), "--species", "Cu,Ag", "--restarts", "0", "--out", str(tmp_path / "p.mtp")]) == 2
    assert "--restarts 0" in capsys.readouterr().err
    assert not (tmp_path / "p.mtp").exists()
