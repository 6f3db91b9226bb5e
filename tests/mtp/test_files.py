"""MLIP .cfg and .mtp files: round trips, golden files, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from seilearn.errors import InputError
from seilearn.mtp.cfg import format_cfg, iread_cfg, read_cfg, write_cfg
from seilearn.mtp.mtpfile import n_params, read_mtp, to_text, write_mtp
from seilearn.mtp.templates import make_template


def _same(a, b):
    assert len(a) == len(b)
    assert np.allclose(a.positions, b.positions, atol=1e-7)
    assert np.allclose(a.cell.array, b.cell.array, atol=1e-7)
    assert list(a.arrays["mtp_type"]) == list(b.arrays["mtp_type"])
    assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), abs=1e-9)
    assert np.allclose(a.get_forces(), b.get_forces(), atol=1e-6)


def test_cfg_round_trip_golden(golden, tmp_path):
    src = golden / "li" / "graded.cfg"  # written by MLIP-3's calculate_grade
    first = read_cfg(src, ["Li"])
    assert first and all("nbh_grades" in a.arrays for a in first)
    assert all(isinstance(a.info["mv_grade"], float) for a in first)
    write_cfg(tmp_path / "out.cfg", first, ["Li"])
    second = read_cfg(tmp_path / "out.cfg", ["Li"])
    for a, b in zip(first, second):
        _same(a, b)
        assert np.allclose(a.arrays["nbh_grades"], b.arrays["nbh_grades"], rtol=1e-4)
        assert b.info["mv_grade"] == pytest.approx(a.info["mv_grade"], rel=1e-6)
        assert np.allclose(a.get_stress(), b.get_stress(), atol=1e-5 / a.get_volume())


def test_cfg_plus_stress_convention(golden):
    path = golden / "li" / "efs.cfg"  # written by MLIP-3's calculate_efs
    atoms = read_cfg(path, ["Li"])[0]
    lines = path.read_text().splitlines()
    plus_xx = float(lines[next(i for i, ln in enumerate(lines) if ln.startswith(" PlusStress")) + 1].split()[0])
    # PlusStress is -stress * volume in eV (ASE's sign convention for the stress)
    assert atoms.get_stress()[0] * atoms.get_volume() == pytest.approx(-plus_xx, abs=1e-12)
    assert atoms.info["mlip_features"]["EFS_by"] == "MultiMTP10"  # MLIP-3: "MultiMTP" + alpha_scalar_moments + 1
    assert next(iter(iread_cfg(path))).get_chemical_symbols()[0] == "X"


def test_cfg_types_without_species_survive(golden, tmp_path):
    atoms = read_cfg(golden / "lpscl" / "train.cfg")
    assert {int(t) for a in atoms for t in a.arrays["mtp_type"]} == {0, 1, 2, 3}
    write_cfg(tmp_path / "x.cfg", atoms, ["Li"])
    assert [list(a.arrays["mtp_type"]) for a in read_cfg(tmp_path / "x.cfg")] == \
        [list(a.arrays["mtp_type"]) for a in atoms]


GOOD = """BEGIN_CFG
 Size
    2
 Supercell
    5.0 0.0 0.0
    0.0 5.0 0.0
    0.0 0.0 5.0
 AtomData:  id type cartes_x cartes_y cartes_z fx fy fz
    1 0 0.0 0.0 0.0 0.1 0.0 0.0
    2 1 2.5 2.5 2.5 -0.1 0.0 0.0
 Energy
    -3.0
 PlusStress:  xx yy zz yz xz xy
    1.0 2.0 3.0 0.0 0.0 0.0
 Feature   note	hello
END_CFG
"""


@pytest.mark.parametrize("text, needle", [
    (GOOD.replace("    2\n", "    3\n", 1), "fix the Size line"),
    (GOOD.replace("    2 1 2.5", "    2 5 2.5"), "type 5 is outside"),
    (GOOD.replace("-0.1 0.0 0.0", "nan 0.0 0.0"), "non-finite forces"),
    (GOOD.replace("-3.0", "nan"), "non-finite energy"),
    (GOOD.replace(" Supercell\n    5.0 0.0 0.0\n    0.0 5.0 0.0\n    0.0 0.0 5.0\n", ""), "without a Supercell"),
    (GOOD.replace("END_CFG\n", ""), "missing END_CFG"),
])
def test_cfg_bad_input_names_file_and_index(tmp_path, text, needle):
    path = tmp_path / "bad.cfg"
    path.write_text(GOOD + "\n" + text)
    with pytest.raises(InputError) as err:
        read_cfg(path, ["Li", "P"])
    msg = str(err.value)
    assert needle in msg and str(path) in msg and "configuration 1" in msg


def test_cfg_good_fixture_and_unknown_species(tmp_path):
    path = tmp_path / "good.cfg"
    path.write_text(GOOD)
    (atoms,) = read_cfg(path, ["Li", "P"])
    assert atoms.get_chemical_symbols() == ["Li", "P"] and atoms.pbc.all()
    assert atoms.info["mlip_features"] == {"note": "hello"}
    text = format_cfg(atoms, ["Li", "P"])
    assert "PlusStress" in text and "Feature   note\thello" in text
    with pytest.raises(InputError, match="not in the species list"):
        format_cfg(atoms, ["Li"])
    with pytest.raises(InputError, match="unknown species"):
        read_cfg(path, ["Li", "Qq"])


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "good.cfg"
    path.write_text(GOOD)
    atoms = read_cfg(path, ["Li", "P"])
    with pytest.raises(InputError):
        write_cfg(tmp_path / "out.cfg", atoms, ["Li"])
    assert not (tmp_path / "out.cfg").exists() and len(list(tmp_path.iterdir())) == 1


def test_mtp_round_trip_from_almtp(golden, tmp_path):
    model = read_mtp(golden / "li" / "pot.almtp")  # MLIP-3 writes no scaling line when it is 1
    assert model.species_count == 1 and model.alpha_scalar_moments == 9 and model.scaling == 1.0
    write_mtp(tmp_path / "pot.mtp", model)
    again = read_mtp(tmp_path / "pot.mtp")
    assert to_text(again) == to_text(model)
    assert np.array_equal(again.moment_coeffs, model.moment_coeffs)
    assert np.array_equal(again.radial_coeffs, model.radial_coeffs)
    assert n_params(model) == 1 * 1 * 2 * 8 + 1 + 9
    assert read_mtp(to_text(model)).scaling == model.scaling


def test_mtp_level8_four_species_has_269_params():
    assert n_params(make_template(8, 4, 2.0, 5.0)) == 269


def test_mtp_rejects_other_versions(golden, tmp_path):
    text = (golden / "li" / "pot.almtp").read_bytes().split(b"#MVS_v1.1")[0].decode()
    bad = tmp_path / "old.mtp"
    bad.write_text(text.replace("version = 1.1.0", "version = 2.0.0"))
    with pytest.raises(InputError, match=r"old\.mtp.*version '2\.0\.0'"):
        read_mtp(bad)
    (tmp_path / "junk.mtp").write_text("hello\n")
    with pytest.raises(InputError, match="not an MLIP .mtp file"):
        read_mtp(tmp_path / "junk.mtp")
