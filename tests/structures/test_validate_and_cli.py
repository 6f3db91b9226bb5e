"""validate_structure, the LPSC checks, the 24g model, seed MD snapshots and `seilearn build`."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.lj import LennardJones
from ase.io import read

from seilearn.cli import main
from seilearn.errors import InputError, SeilearnError
from seilearn.structures import build_interface, lpsc, seed_set
from seilearn.structures.phases import bulk, check_lpsc
from seilearn.structures.validate import charge, ps4_coordination, shortest_contacts, validate_structure


def test_validate_structure_names_the_problem():
    ok = bulk("li2s")
    assert validate_structure(ok) is ok
    with pytest.raises(SeilearnError, match="empty structure"):
        validate_structure(Atoms(), name="cfg 3")
    with pytest.raises(InputError, match="unknown species Fe"):
        validate_structure(Atoms("LiFe", positions=[[0, 0, 0], [2, 0, 0]]))
    with pytest.raises(InputError, match="overlapping atoms 0 and 1"):
        validate_structure(Atoms("LiS", positions=[[0, 0, 0], [0.1, 0, 0]], cell=[5, 5, 5], pbc=True))
    # overlap across the periodic boundary is caught too
    with pytest.raises(InputError, match="overlapping"):
        validate_structure(Atoms("LiS", positions=[[0.05, 0, 0], [4.95, 0, 0]], cell=[5, 5, 5], pbc=True))


def test_lpsc_checks_and_24g_model():
    a = lpsc()
    check_lpsc(a)
    assert charge(a) == 0 and list(ps4_coordination(a)) == [4, 4, 4, 4]
    g = lpsc(li_model="24g")
    check_lpsc(g)
    assert g.get_chemical_formula() == "Cl4Li24P4S20"
    broken = a.copy()
    p = int(np.where(broken.numbers == 15)[0][0])
    broken.positions[p] += [0.2, 0, 0]
    with pytest.raises(InputError, match="S neighbours"):
        check_lpsc(broken)
    with pytest.raises(InputError, match="not a multiple of Li6PS5Cl"):
        check_lpsc(a[1:])
    with pytest.raises(InputError, match="Li model"):
        lpsc(li_model="96i")


def test_recipe_geometry_matches_design():
    """The 16e x formula gives P-S = d exactly; the 48h pairs are ~1.96 A apart at a = 10.28 A."""
    from pymatgen.core import Lattice

    from seilearn.structures.phases import LI_48H, _from_spacegroup

    sites = _from_spacegroup("F-43m", Lattice.cubic(10.28), ["Li"], [list(LI_48H)])
    assert len(sites) == 48
    assert shortest_contacts(sites, 2.2)["Li-Li"] == pytest.approx(1.96, abs=0.01)
    for a in (9.9, 10.28):
        assert shortest_contacts(lpsc(a, li_model="24g"), 2.2)["P-S"] == pytest.approx(2.05, abs=1e-6)


def test_interface_rejects_bad_sizes_and_reports_strain():
    with pytest.raises(InputError, match="unknown interface model"):
        build_interface("III")
    with pytest.raises(InputError, match="even"):
        build_interface("mini", lpsc_cells=(3, 1))
    strained = build_interface("mini", a_li=3.44)
    assert strained.info["li_strain"][0] == pytest.approx(10.28 / 3 / 3.44 - 1, abs=1e-9)
    with pytest.raises(InputError, match="shorter than"):
        build_interface("mini", gap=0.8)


def test_seed_set_md_snapshots_and_size_cap():
    lj = LennardJones(sigma=2.0, epsilon=0.005, rc=4.5)
    s = seed_set(12, seed=1, md_calculator=lj, md_fraction=1.0, md_steps=3)
    assert all(k.info["seed_kind"].endswith(" MD") for k in s)
    assert all(a.calc is None for a in s)
    small = seed_set(16, seed=2, max_atoms=16)
    assert max(len(a) for a in small if a.info["seed_kind"] in ("Li bcc", "Li2S", "LiCl", "Li3P")) <= 16
    with pytest.raises(InputError):
        seed_set(-1)


@pytest.mark.parametrize("ext", [".extxyz", ".data", ".cfg"])
def test_cli_build_interface_round_trip(tmp_path, capsys, ext):
    out = tmp_path / f"mini{ext}"
    assert main(["build", "interface", "--model", "mini", "--out", str(out)]) in (0, None)
    text = capsys.readouterr().out
    assert "248 atoms" in text and "149.45 A^2" in text and "P-S 2.05 A" in text
    if ext == ".data":
        back = read(out, format="lammps-data", atom_style="atomic")
        # types 1-4 are Li, P, S, Cl; ase maps them back to elements through the Masses section
        assert back.get_chemical_formula() == "Cl8Li192P8S40"
        text = out.read_text()
        for t, el in enumerate(["Li", "P", "S", "Cl"], start=1):
            assert re.search(rf"^{t}\s+\S+ # {el}$", text, re.M)
    elif ext == ".cfg":
        from seilearn.mtp.cfg import read_cfg

        back = read_cfg(out, species=["Li", "P", "S", "Cl"])[0]
        assert back.get_chemical_formula() == "Cl8Li192P8S40"
    else:
        back = read(out)
        assert back.get_chemical_formula() == "Cl8Li192P8S40"
        assert np.allclose(back.cell.lengths(), build_interface("mini").cell.lengths())


def test_cli_build_custom_bulk_seeds_and_errors(tmp_path, capsys):
    out = tmp_path / "c.extxyz"
    assert main(["build", "interface", "--nx", "4", "--lpsc-layers", "4", "--li-layers", "4", "--out", str(out)]) in (0, None)
    assert read(out).get_chemical_formula() == "Cl32Li336P32S160"
    b = tmp_path / "b.xyz"
    assert main(["build", "bulk", "licl", "--supercell", "2,2,2", "--out", str(b)]) in (0, None)
    assert len(read(b)) == 64
    s = tmp_path / "s.extxyz"
    assert main(["build", "seeds", "--n", "10", "--seed", "3", "--out", str(s)]) in (0, None)
    frames = read(s, index=":")
    assert len(frames) == 10 and all("seed_kind" in f.info for f in frames)
    capsys.readouterr()
    assert main(["build", "bulk", "unobtainium", "--out", str(b)]) == 2
    assert "unknown bulk phase" in capsys.readouterr().err
    assert main(["build", "bulk", "li", "--supercell", "2,2", "--out", str(b)]) == 2
    assert main(["build", "interface", "--out", str(tmp_path / "x.pdb")]) == 2
    assert not (tmp_path / "x.pdb").exists()
