"""Reduced fraction, crystallinity, growth laws and stages on frames and series the tests construct."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from seilearn.analysis import analyze_trajectory
from seilearn.analysis.crystallinity import crystalline_fraction
from seilearn.analysis.growth import fit_log, fit_power, stages
from seilearn.analysis.reduction import ps_counts, reduced_fraction
from seilearn.structures import lpsc
from seilearn.structures.phases import antifluorite_solid_solution


def test_pristine_lpsc_is_unreduced_and_amorphous_free():
    a = lpsc().repeat(2)
    counts = ps_counts(a)
    assert counts.tolist() == [0, 0, 0, 0, 32]
    assert reduced_fraction(counts) == 0.0
    assert crystalline_fraction(a)["c"] == 0.0


def test_known_reduction_gives_exact_alpha():
    """Remove S from chosen P: one PS3, one PS2, one PS and one bare P out of 32 units."""
    a = lpsc().repeat(2)
    sym = np.array(a.get_chemical_symbols())
    p_idx = np.where(sym == "P")[0][:4]
    remove = []
    for k, p in enumerate(p_idx):
        d = a.get_distances(p, np.where(sym == "S")[0], mic=True)
        s_near = np.where(sym == "S")[0][np.argsort(d)[:4]]
        remove.extend(s_near[: k + 1])  # 1, 2, 3, 4 S removed
    b = a[[i for i in range(len(a)) if i not in set(remove)]]
    counts = ps_counts(b)
    assert counts.tolist() == [1, 1, 1, 1, 28]
    assert reduced_fraction(counts) == pytest.approx((8 + 6 + 4 + 2) / (8 * 32))


def _af_cell(rattle: float = 0.0) -> Atoms:
    a = antifluorite_solid_solution(reps=(7, 2, 2), seed=1)
    if rattle:
        a.rattle(rattle, seed=2)
    return a


def test_antifluorite_is_crystalline_and_random_packing_is_not():
    assert crystalline_fraction(_af_cell())["c"] == pytest.approx(1.0, abs=0.02)
    assert crystalline_fraction(_af_cell(0.2))["c"] > 0.9
    rng = np.random.default_rng(0)
    ref = _af_cell()
    rand = Atoms(symbols=ref.get_chemical_symbols(), positions=rng.uniform(0, 1, (len(ref), 3)) @ ref.cell,
                 cell=ref.cell, pbc=True)
    assert crystalline_fraction(rand)["c"] < 0.02


def test_growth_laws_recover_parameters():
    t = np.linspace(1, 200, 60)
    fit = fit_log(t, 0.1 + 0.12 * np.log(t))
    assert fit["a"] == pytest.approx(0.1, abs=1e-6) and fit["b"] == pytest.approx(0.12, abs=1e-6)
    rng = np.random.default_rng(1)
    sqrt_series = 0.02 * np.clip(t - 10, 0, None) ** 0.5 + rng.normal(0, 1e-3, t.size)
    best = fit_power(t, sqrt_series)[0]
    assert best["law"] in ("k (t - t0)^0.5", "k (t - t0)^n") and best["n"] == pytest.approx(0.5, abs=0.1)
    lin = 0.001 * np.clip(t - 5, 0, None) + rng.normal(0, 1e-3, t.size)
    best = fit_power(t, lin)[0]
    assert best["n"] == pytest.approx(1.0, abs=0.1)


def test_stages():
    t = np.arange(1, 11, dtype=float)
    alpha = np.array([0, .02, .05, .2, .5, .7, .8, .9, .99, 1.0])
    c = np.array([0, 0, .006, .01, .02, .05, .2, .5, .8, .95])
    s = stages(t, alpha, c)
    assert s["amorphous_layer_ps"] == 2.0 and s["nucleation_ps"] == 3.0 and s["full_reduction_ps"] == 9.0
    assert s["amorphous_max_ps"] == 6.0 and s["alpha_at_amorphous_max"] == 0.7


def test_trajectory_with_truncated_last_frame(tmp_path):
    frames = []
    for k in range(4):
        a = lpsc()
        a.info["time_ps"] = float(k + 1)
        frames.append(a)
    path = tmp_path / "traj.extxyz"
    write(path, frames, format="extxyz")
    text = path.read_text()
    path.write_text(text[: len(text) - 300])  # the last frame is cut mid-way
    with pytest.warns(UserWarning, match="could not be read"):
        out = analyze_trajectory(path, tmp_path / "out", label="t")
    assert out["frames"] == 3 and (tmp_path / "out" / "t.csv").exists()
    assert all(p.endswith((".png", ".svg")) for p in out["plots"])
