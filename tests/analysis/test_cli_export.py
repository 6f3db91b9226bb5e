"""The analyze command, LAMMPS-dump reading, Li consumed and the classified structure export."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from ase import Atoms
from ase.io import read, write

from seilearn.analysis.export import classify_atoms, export_classified
from seilearn.analysis.trajectory import frames, li_consumed
from seilearn.cli import main
from seilearn.species import DEFAULT_SPECIES
from seilearn.structures import lpsc
from seilearn.structures.phases import antifluorite_solid_solution


def _dump(atoms_list, steps) -> str:
    """A LAMMPS ``dump custom id type x y z`` text, types 1-based in DEFAULT_SPECIES order."""
    out = []
    for atoms, step in zip(atoms_list, steps):
        lx, ly, lz = atoms.cell.lengths()
        out += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(len(atoms)),
                "ITEM: BOX BOUNDS pp pp pp", f"0.0 {lx}", f"0.0 {ly}", f"0.0 {lz}", "ITEM: ATOMS id type x y z"]
        for i, (s, p) in enumerate(zip(atoms.get_chemical_symbols(), atoms.positions)):
            out.append(f"{i + 1} {DEFAULT_SPECIES.index(s) + 1} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}")
    return "\n".join(out) + "\n"


def test_lammps_dump_stream_maps_types_and_time(tmp_path):
    a = lpsc()
    path = tmp_path / "dump.lammpstrj"
    path.write_text(_dump([a, a, a], [0, 1000, 2000]))
    got = list(frames(path, "lammps-dump", every=2, dt_ps=0.002))
    assert [k for k, _ in got] == [0, 2]
    assert [f.info["time_ps"] for _, f in got] == pytest.approx([0.0, 4.0])
    assert got[0][1].get_chemical_formula() == a.get_chemical_formula()


def test_li_consumed_counts_anion_coordinated_li_beyond_six_per_p():
    # one PS4 unit with 6 ionic Li (as in LPSC), 2 more Li bonded to S (consumed) and a metal cluster far away
    ps4 = np.array([[0, 0, 0], [1.2, 1.2, 1.2], [-1.2, -1.2, 1.2], [-1.2, 1.2, -1.2], [1.2, -1.2, -1.2]]) + 5
    s = ps4[1:]
    li_ionic = [s[k % 4] + d for k, d in enumerate(np.eye(3).tolist() * 2 + [[0, 0, -1.0], [0, -1.0, 0]])]
    li_ionic = [p + 1.3 * (p - 5) / np.linalg.norm(p - 5) for p in li_ionic]  # outside the unit, ~2.4 A from S
    metal = np.array([[15 + 3 * i, 15 + 3 * j, 15] for i in range(2) for j in range(2)], float)
    atoms = Atoms(["P", "S", "S", "S", "S"] + ["Li"] * 8 + ["Li"] * 4,
                  positions=np.vstack([ps4, li_ionic, metal]), cell=[25, 25, 25], pbc=True)
    assert li_consumed(atoms) == 2
    cls = classify_atoms(atoms)
    assert (cls[-4:] == "li_metal").all() and (cls[:5] == "ps4").all()


def test_export_classifies_crystal_and_pristine(tmp_path):
    af = antifluorite_solid_solution(reps=(7, 2, 2), seed=1)
    counts = export_classified(af, tmp_path / "af.extxyz")
    n_anion = sum(s != "Li" for s in af.get_chemical_symbols())
    assert counts["crystalline"] == pytest.approx(n_anion, abs=0.02 * n_anion)
    back = read(tmp_path / "af.extxyz")
    assert back.arrays["color"].shape == (len(af), 3) and "class" in back.arrays
    pristine = classify_atoms(lpsc())
    assert set(pristine) == {"ps4", "cl", "li_ionic"} or set(pristine) == {"ps4", "cl", "li_ionic", "amorphous"}
    sym = np.array(lpsc().get_chemical_symbols())
    assert (pristine[np.isin(sym, ("P", "S"))] != "crystalline").all()
    assert (pristine[sym == "P"] == "ps4").all()


def test_cli_analyze_plot_and_missing_species(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frames_ = []
    for k in range(6):
        a = lpsc()
        sym = np.array(a.get_chemical_symbols())
        drop = set(rng.choice(np.where(sym == "S")[0], size=2 * k, replace=False).tolist())
        a = a[[i for i in range(len(a)) if i not in drop]]
        a.info["time"] = float(k + 1)
        frames_.append(a)
    frames_.insert(3, Atoms("Li4", positions=rng.uniform(0, 5, (4, 3)), cell=[5, 5, 5], pbc=True))
    traj = tmp_path / "run.extxyz"
    write(traj, frames_, format="extxyz")
    assert main(["analyze", str(traj), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "frame 3 has no P or S" in printed and "6 frames" in printed
    rows = list(csv.DictReader(open(tmp_path / "out" / "run.csv")))
    assert [float(r["time_ps"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert float(rows[0]["alpha"]) == 0.0 and float(rows[-1]["alpha"]) > 0
    summary = json.loads((tmp_path / "out" / "run.json").read_text())
    assert summary["frames"] == 6 and "alpha" in summary["fits"] and "stages" in summary
    fig = tmp_path / "fig.png"
    assert main(["analyze", "plot", str(tmp_path / "out" / "run.csv"), str(tmp_path / "out" / "run.csv"),
                 "--labels", "400 K", "500 K", "--out", str(fig)]) == 0
    assert fig.stat().st_size > 1000 and fig.with_suffix(".svg").exists()
    assert main(["analyze", "plot", "missing.csv", "--out", str(fig)]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert main(["analyze", "export", str(traj), "--frame", "0", "--out", str(tmp_path / "c.extxyz")]) == 0
    assert "ps4" in capsys.readouterr().out


@pytest.mark.timeout(180)
def test_workers_give_the_same_rows_in_order(tmp_path):
    from seilearn.analysis import analyze_trajectory

    rng = np.random.default_rng(2)
    traj = tmp_path / "w.extxyz"
    out = []
    for k in range(4):
        a = lpsc()
        sym = np.array(a.get_chemical_symbols())
        drop = set(rng.choice(np.where(sym == "S")[0], size=3 * k, replace=False).tolist())
        a = a[[i for i in range(len(a)) if i not in drop]]
        a.info["time"] = float(k)
        out.append(a)
    write(traj, out, format="extxyz")
    one = analyze_trajectory(traj, tmp_path / "a", label="w")
    two = analyze_trajectory(traj, tmp_path / "b", label="w", workers=2)
    assert (tmp_path / "a" / "w.csv").read_text() == (tmp_path / "b" / "w.csv").read_text()
    assert one["final"]["N_PS4"] == two["final"]["N_PS4"] < 4
