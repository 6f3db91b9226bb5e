"""``seilearn cut``: inputs as ``seilearn grade`` reads them, provenance in the output, bad input exits 2."""

import numpy as np
import pytest

from seilearn.cli import main
from seilearn.cutting.records import from_features
from seilearn.mtp.cfg import read_cfg, write_cfg
from seilearn.mtp.mtpfile import to_text, write_mtp
from tests.selection.helpers import SPECIES, frame_of_size


@pytest.fixture(scope="module")
def files(tmp_path_factory, pot, aset, lpsc_frame):
    d = tmp_path_factory.mktemp("cut")
    write_mtp(d / "pot.mtp", pot.model)
    aset.write(d / "pot.almtp", to_text(pot.model), SPECIES)
    write_cfg(d / "train.cfg", [frame_of_size(35, seed=s) for s in range(24)], SPECIES)
    bare = lpsc_frame.copy()
    del bare.arrays["nbh_grades"]
    write_cfg(d / "frames.cfg", [bare], SPECIES)
    write_cfg(d / "graded.cfg", [lpsc_frame], SPECIES)
    return d


def test_cut_writes_cuts_with_provenance(files, lpsc_frame, capsys):
    out = files / "out.cfg"
    assert main(["cut", str(files / "pot.almtp"), str(files / "frames.cfg"), str(out), "--per-frame", "3",
                 "--threshold", "1.0", "--max-atoms", "150"]) == 0
    text = capsys.readouterr().out
    assert "3 box cuts from 1 frames" in text and "Li_sv 3, P 5, S 6, Cl 7" in text
    cuts = [from_features(a) for a in read_cfg(out, SPECIES)]
    assert len(cuts) == 3 and all(len(c) <= 150 for c in cuts)
    top = int(np.argmax(lpsc_frame.arrays["nbh_grades"]))
    assert cuts[0].info["cut"]["centre"] == top
    assert cuts[0].info["cut"]["grade"] == pytest.approx(lpsc_frame.arrays["nbh_grades"][top], rel=1e-5)
    for c in cuts:
        assert c.arrays["core"][0] and c.arrays["core"].sum() == c.info["cut"]["n_core"]
        assert c.info["cut"]["parent_hash"] and c.info["cut"]["mode"] == "box"
        assert c.info["odd_electrons"] == (c.info["cut"]["electrons"] % 2 == 1)


def test_cut_builds_the_active_set_from_train_or_uses_stored_grades(files, capsys):
    out = files / "out2.cfg"
    assert main(["cut", str(files / "pot.mtp"), str(files / "train.cfg"), str(files / "frames.cfg"), str(out),
                 "--mode", "cluster", "--threshold", "1.0"]) == 0
    c = from_features(read_cfg(out, SPECIES)[0])
    assert not c.pbc.any() and c.info["cut"]["mode"] == "cluster"
    assert main(["cut", str(files / "pot.mtp"), str(files / "graded.cfg"), str(out), "--threshold", "1.0"]) == 0
    assert "1 box cuts" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--radius", "3.0"], "below the MTP cutoff"),
    (["--max-atoms", "10"], "smaller than one neighbourhood"),
    (["--radius", "10", "--max-atoms", "100"], "lower --radius or raise --max-atoms"),
])
def test_bad_settings_exit_2_and_write_nothing(files, capsys, args, message):
    out = files / "bad.cfg"
    assert main(["cut", str(files / "pot.almtp"), str(files / "frames.cfg"), str(out), "--threshold", "1.0",
                 *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_frame_without_grades_and_no_active_set(files, capsys):
    out = files / "bad.cfg"
    assert main(["cut", str(files / "pot.mtp"), str(files / "frames.cfg"), str(out)]) == 2
    err = capsys.readouterr().err
    assert "frames.cfg: frame 0 has no per-atom grades" in err and "seilearn grade --mode nbh" in err
    assert not out.exists()
