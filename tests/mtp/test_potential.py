"""Templates, the motep-backed Potential (vesin neighbour list) and `seilearn mtp calc-efs`."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from ase.build import bulk

from seilearn.cli import main
from seilearn.errors import InputError
from seilearn.mtp.cfg import read_cfg, write_cfg
from seilearn.mtp.mtpfile import read_mtp
from seilearn.mtp.potential import MTPCalculator, Potential
from seilearn.mtp.templates import make_template

# sha256 of _basis_key(read_mtp(f"MTP_templates/{level:02d}.almtp")) of MLIP-3 (tests/data/mlip3/README.md);
# higher levels span the same functions in another order (tests/mtp/test_templates.py)
MLIP3_TEMPLATE_SHA256 = {6: "3bb54e1af4dacf008fa966c7e087c67317122bf4da7a9b3d41983d083c7f4119",
                         8: "f2c72afa17fd8b4582f068780211d5f739e359d57369794dc89e641bcf55269e"}


def _basis_key(model) -> str:
    fields = {f: np.asarray(getattr(model, f)).reshape(-1).tolist()
              for f in ("alpha_index_basic", "alpha_index_times", "alpha_moment_mapping")}
    fields |= {"alpha_moments_count": int(model.alpha_moments_count), "radial_funcs_count": int(model.radial_funcs_count)}
    return json.dumps(fields, sort_keys=True)


@pytest.mark.parametrize("level", sorted(MLIP3_TEMPLATE_SHA256))
def test_low_level_templates_equal_mlip3(level):
    ours = make_template(level, 1, 2.0, 5.0)
    assert hashlib.sha256(_basis_key(ours).encode()).hexdigest() == MLIP3_TEMPLATE_SHA256[level]


def test_template_rejects_bad_arguments():
    with pytest.raises(InputError):
        make_template(1, 1, 2.0, 5.0)
    with pytest.raises(InputError):
        make_template(8, 1, 5.0, 2.0)


@pytest.fixture()
def pot(golden):
    return Potential(read_mtp(golden / "li" / "pot.almtp"), ["Li"])


@pytest.fixture()
def li():
    atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.08, seed=3)
    atoms.set_cell(atoms.cell.array @ np.array([[1.0, 0.02, 0.0], [0.0, 0.98, 0.01], [0.0, 0.0, 1.01]]),
                   scale_atoms=True)
    return atoms


def test_forces_are_minus_energy_gradient(pot, li):
    li.calc = MTPCalculator(pot)
    forces = li.get_forces()
    h = 1e-5
    for i, k in [(0, 0), (3, 1), (9, 2)]:
        a = li.copy()
        a.calc = MTPCalculator(pot)
        a.positions[i, k] += h
        ep = a.get_potential_energy()
        a.positions[i, k] -= 2 * h
        em = a.get_potential_energy()
        assert forces[i, k] == pytest.approx(-(ep - em) / (2 * h), abs=1e-6)
    assert li.get_potential_energies().sum() == pytest.approx(li.get_potential_energy())


def test_stress_is_strain_derivative(pot, li):
    li.calc = MTPCalculator(pot)
    stress = li.get_stress(voigt=False)
    h = 1e-6
    for a_, b_ in [(0, 0), (1, 2), (0, 1)]:
        es = []
        for sign in (1, -1):
            eps = np.eye(3)
            eps[a_, b_] += sign * h / 2
            eps[b_, a_] += sign * h / 2
            a = li.copy()
            a.set_cell(li.cell.array @ eps, scale_atoms=True)
            a.calc = MTPCalculator(pot)
            es.append(a.get_potential_energy())
        assert stress[a_, b_] == pytest.approx((es[0] - es[1]) / (2 * h) / li.get_volume(), abs=1e-7)


def test_reused_neighbour_list_matches_fresh(pot, li):
    calc = MTPCalculator(pot)
    li.calc = calc
    li.get_potential_energy()
    for step in range(3):  # small moves reuse the skin list, a large one rebuilds it
        li.positions += np.random.default_rng(step).normal(scale=0.02 if step < 2 else 0.3, size=li.positions.shape)
        fresh = Potential(pot.model, ["Li"]).calculate(li)
        assert li.get_potential_energy() == pytest.approx(float(fresh["energy"]), abs=1e-10)
        assert np.allclose(li.get_forces(), fresh["forces"], atol=1e-10)


@pytest.mark.parametrize("pbc", [True, (True, True, False), False])
def test_matches_motep_ase_path(pot, li, pbc):
    from motep.potentials.mtp.cext.engine import CExtMTPEngine

    li.pbc = pbc

    ref = CExtMTPEngine(pot.model, mode="run").calculate(li)
    ours = pot.calculate(li)
    assert float(ours["energy"]) == pytest.approx(float(ref["energy"]), abs=1e-10)
    assert np.allclose(ours["forces"], ref["forces"], atol=1e-10)
    assert np.allclose(ours["stress"], ref["stress"], atol=1e-12, equal_nan=True)


def test_species_outside_potential_rejected(pot):
    with pytest.raises(InputError, match="Na"):
        pot.calculate(bulk("Na", "bcc", a=4.2))


def test_calc_efs_cli(golden, tmp_path, capsys):
    src = golden / "li"
    short = read_cfg(src / "probe.cfg", ["Li"])[:1]
    short[0].positions[1] = short[0].positions[0] + [2.0, 0.0, 0.0]  # below the potential's min_dist 2.12 A
    write_cfg(tmp_path / "short.cfg", short, ["Li"])
    out = tmp_path / "out.cfg"
    rc = main(["mtp", "calc-efs", str(src / "pot.mtp"), str(tmp_path / "short.cfg"), str(out), "--species", "Li"])
    assert rc == 2 and not out.exists()
    assert "short.cfg: configuration 0" in capsys.readouterr().err
    rc = main(["mtp", "calc-efs", "--allow-short", str(src / "pot.mtp"), str(tmp_path / "short.cfg"), str(out),
               "--species", "Li"])
    assert rc in (0, None)
    got = read_cfg(out, ["Li"])
    pot = Potential(read_mtp(src / "pot.mtp"), ["Li"])
    for atoms, inp in zip(got, short):
        ref = pot.calculate(inp)
        assert atoms.get_potential_energy() == pytest.approx(float(ref["energy"]), abs=1e-9)
        assert np.allclose(atoms.get_forces(), ref["forces"], atol=1e-6)
        assert np.allclose(atoms.get_stress() * atoms.get_volume(), ref["stress"] * inp.get_volume(), atol=1e-4)


@pytest.mark.parametrize("name, species, cfg", [("li", ["Li"], "probe.cfg"),
                                                ("lpscl", ["Li", "P", "S", "Cl"], "candidates.cfg")])
def test_calc_efs_reproduces_mlip3(golden, tmp_path, name, species, cfg):
    """``seilearn mtp calc-efs`` against ``mlp calculate_efs`` on the same inputs (tests/data/mlip3/README.md)."""
    src = golden / name
    out = tmp_path / "calculated.cfg"
    rc = main(["mtp", "calc-efs", str(src / "pot.mtp"), str(src / cfg), str(out), "--species", ",".join(species)])
    assert rc in (0, None)
    got, ref = read_cfg(out, species), read_cfg(src / "efs.cfg", species)
    assert len(got) == len(ref) >= 2
    for a, b in zip(got, ref):
        n = len(b)
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        assert a.get_potential_energy() / n == pytest.approx(b.get_potential_energy() / n, abs=1e-6)
        fa, fb = a.get_forces(), b.get_forces()
        assert np.abs(fa - fb).max() <= 5.01e-7  # .cfg forces carry 6 decimals
        va, vb = a.get_stress(voigt=False) * a.get_volume(), b.get_stress(voigt=False) * b.get_volume()
        assert np.abs(va - vb).max() <= 5.01e-6  # PlusStress, 5 decimals
        assert b.info["mlip_features"]["EFS_by"] == "MultiMTP10"
        assert a.info["mlip_features"]["EFS_by"] == "seilearn_MTP10"


def test_site_energy_rows_equal_mlip3_active_set_rows(golden):
    """The A matrix stored by MLIP-3 in the golden .almtp holds dV_i/dtheta of the selected
    neighbourhoods: ours must give the same rows (an exact check of the functional form)."""
    from seilearn.selection.active_set import ActiveSet
    from seilearn.selection.features import rows_of

    src = golden / "li"
    pot = Potential(read_mtp(src / "pot.almtp"), ["Li"])
    aset = ActiveSet.read(src / "pot.almtp", ["Li"])
    checked = 0
    for r, (ci, eq) in enumerate(aset.links):
        if ci < 0:
            continue
        atoms = aset.configurations[ci]
        row = rows_of(pot, atoms, aset.weights)[eq - (1 + 3 * len(atoms) + 9)]
        assert np.allclose(row, aset.A[r], rtol=1e-9, atol=1e-12 * np.abs(aset.A[r]).max())
        checked += 1
    assert checked == aset.filled > 10


def test_jacobians_match_finite_differences(pot, li):
    import copy

    jac = pot.energy_jacobian(li)
    site = pot.site_energy_jacobian(li)
    assert jac.shape == (pot.n_params,) and site.shape == (len(li), pot.n_params)
    assert np.allclose(site.sum(axis=0), jac, atol=1e-8)
    # order: moment coeffs, species coeffs, radial coeffs (flattened C-order)
    n_mom = pot.model.alpha_scalar_moments
    h = 1e-6
    for field, k, col in [("moment_coeffs", 2, 2), ("species_coeffs", 0, n_mom), ("radial_coeffs", 5, n_mom + 1 + 5)]:
        es = []
        for sign in (1, -1):
            model = copy.deepcopy(pot.model)
            flat = np.asarray(getattr(model, field), dtype=float).copy()
            flat.reshape(-1)[k] += sign * h
            setattr(model, field, flat)
            es.append(float(Potential(model, ["Li"]).calculate(li)["energy"]))
        assert jac[col] == pytest.approx((es[0] - es[1]) / (2 * h), rel=1e-5, abs=1e-6), field
