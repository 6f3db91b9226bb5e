"""Training benchmark: level-8 MTP on 60 CHGNet-labelled Li-P-S-Cl structures.

Ours (seilearn.mtp.training.train) beside motep 0.2.0's default path (Trainer: LLS, L-BFGS-B, LLS)
measured in the same run, and MLIP-3's ``mlp train`` (default settings, from its own untrained
level-8 template, on the same split) when mlp is on PATH or $SEILEARN_MLP -- else DESIGN.md 4b's
figures. Errors of every potential are computed by the same code (ours, which reproduces
``mlp calculate_efs``). The labelled set is cached in benchmarks/data/lpsc60.cfg so reruns skip CHGNet.
Run: python benchmarks/training.py [--max-iter N]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlip3_cli import MLP, find_mlp  # noqa: E402
from seilearn.mtp.cfg import read_cfg, write_cfg
from seilearn.mtp.potential import Potential
from seilearn.mtp.training import errors, min_distance, train
from seilearn.mtp.templates import make_template

SPECIES = ["Li", "P", "S", "Cl"]
CACHE = Path(__file__).parent / "data" / "lpsc60.cfg"
MLIP3 = {"wall_s": 46.0, "train_e": 1.2, "train_f": 60.0, "val_e": 1.4, "val_f": 69.0}


def dataset(n: int = 60):
    if CACHE.exists():
        return read_cfg(CACHE, SPECIES)
    from ase.calculators.singlepoint import SinglePointCalculator
    from chgnet.model.dynamics import CHGNetCalculator

    from seilearn.structures.seeds import seed_set

    calc = CHGNetCalculator(use_device="cpu")
    out = []
    for a in seed_set(n=n, seed=0, max_atoms=64):
        a = a.copy()
        a.calc = calc
        e, f, s = a.get_potential_energy(), a.get_forces(), a.get_stress()
        a.calc = SinglePointCalculator(a, energy=e, forces=f, stress=s)
        out.append(a)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    write_cfg(CACHE, out, SPECIES)
    return read_cfg(CACHE, SPECIES)


def motep_default(train_set, md, max_iter):
    from ase.data import atomic_numbers
    from motep.loss import LossSetting
    from motep.train import Trainer

    model = make_template(8, 4, md, 5.0)
    model.species = [atomic_numbers[s] for s in SPECIES]
    steps = [{"method": "LLS"}, {"method": "minimize", "kwargs": {"method": "L-BFGS-B", "options": {"maxiter": max_iter}}},
             {"method": "LLS"}]
    cwd = os.getcwd()
    t = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            logging.getLogger("motep").setLevel(logging.WARNING)
            with contextlib.redirect_stdout(io.StringIO()):
                Trainer(model, seed=1, engine="cext", loss=LossSetting(energy_weight=1.0, forces_weight=0.01,
                                                                        stress_weight=0.001), steps=steps).train(train_set)
        finally:
            os.chdir(cwd)
    wall = time.time() - t
    model.optimized = ["species_coeffs", "moment_coeffs", "radial_coeffs"]
    return model, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--motep-iter", type=int, default=1000)
    ap.add_argument("--skip-motep", action="store_true")
    ap.add_argument("--skip-mlp", action="store_true")
    args = ap.parse_args()
    data = dataset()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data))
    n_val = len(data) // 10
    val = [data[i] for i in order[:n_val]]
    tr = [data[i] for i in order[n_val:]]
    print(f"{len(tr)} training ({sum(map(len, tr))} atoms) + {len(val)} validation structures, level 8, cutoff 5.0")
    md = max(0.5, round(0.95 * min_distance(data), 2))
    t = time.time()
    model, log = train(tr, SPECIES, level=8, cutoff=5.0, max_iter=args.max_iter, seed=0, min_dist=md)
    ours_wall = time.time() - t
    pot = Potential(model, SPECIES)
    ours = {"wall_s": ours_wall, **_fmt(errors(pot, tr), errors(pot, val))}
    rows = [("seilearn (ours)", ours)]
    print(f"ours: {ours_wall:.1f} s, train {ours['train_e']:.2f} meV/atom {ours['train_f']:.1f} meV/A, "
          f"validation {ours['val_e']:.2f} meV/atom {ours['val_f']:.1f} meV/A", flush=True)
    if not args.skip_motep:
        mm, mw = motep_default(tr, md, args.motep_iter)
        mp = Potential(mm, SPECIES)
        rows.append(("motep 0.2.0 default", {"wall_s": mw, **_fmt(errors(mp, tr), errors(mp, val))}))
    exe = find_mlp()
    if exe and not args.skip_mlp:
        lm, lw = mlp_train(exe, tr, md)
        lp = Potential(lm, SPECIES)
        rows.append(("MLIP-3 mlp train", {"wall_s": lw, **_fmt(errors(lp, tr), errors(lp, val))}))
    else:
        rows.append(("MLIP-3 (DESIGN.md 4b)", MLIP3))
    print(f"\n{'trainer':24s} {'wall s':>8s} {'train E':>9s} {'train F':>9s} {'val E':>8s} {'val F':>8s}"
          f" {'time/ours':>9s}")
    print(f"{'':24s} {'':8s} {'meV/atom':>9s} {'meV/A':>9s} {'meV/atom':>8s} {'meV/A':>8s}")
    for name, r in rows:
        print(f"{name:24s} {r['wall_s']:8.1f} {r['train_e']:9.2f} {r['train_f']:9.1f} {r['val_e']:8.2f} "
              f"{r['val_f']:8.1f} {r['wall_s'] / ours_wall:9.2f}")
    print(f"ours: {len(log.iterations)} iterations; stages {log.stages}")


def mlp_train(exe: str, train_set, md: float):
    """``mlp train`` from the untrained level-8 template (our generator's, equal to MLIP's 08.almtp)
    with MLIP-3's defaults; saved as .almtp (its active set built too, as in MLIP-3's workflow)."""
    from seilearn.mtp.mtpfile import read_mtp, to_text

    m = MLP(exe, SPECIES)
    try:
        text = to_text(make_template(8, 4, md, 5.0)).replace("scaling = 1.000000000000000e+00\n", "")
        Path(m.path("untrained.mtp")).write_text(text)
        train_cfg = m.write_cfg("train.cfg", train_set)
        wall = m.run("train", m.path("untrained.mtp"), train_cfg, f"--save_to={m.path('trained.almtp')}")
        return read_mtp(m.path("trained.almtp")), wall
    finally:
        m.close()


def _fmt(tr: dict, val: dict) -> dict:
    return {"train_e": tr["rmse_energy_mev_atom"], "train_f": tr["rmse_forces_mev_a"],
            "val_e": val["rmse_energy_mev_atom"], "val_f": val["rmse_forces_mev_a"]}


if __name__ == "__main__":
    main()
