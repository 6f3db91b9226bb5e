"""Retraining benchmark: add 5 configurations to the training set and retrain from the parent potential.

The parent is our level-8 fit on benchmarks/training.py's 54 training configurations (same split). Five
new CHGNet-labelled structures of the same families (seed set drawn with another seed, cached in
benchmarks/data/lpsc_extra5.cfg) join them; the 59 are then fitted twice, each timed in this run on one
thread: ``train(..., init=parent, mode="warm")`` (what a campaign iteration does with
``mtp.retrain: warm``) and a fresh fit (``mode="fresh"``, the same settings as the parent's). Target
(issue 14): the warm retrain in at most 20 % of the fresh fit's time at equal final errors (train,
validation and the new configurations alone).
Run: python benchmarks/retraining.py [--max-iter N]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SEILEARN_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.training import SPECIES, dataset, labelled_seeds, split, timed  # noqa: E402
from seilearn.mtp.potential import Potential  # noqa: E402
from seilearn.mtp.training import errors, min_distance, train  # noqa: E402

EXTRA = Path(__file__).parent / "data" / "lpsc_extra5.cfg"


def extra(n: int = 5):
    """``n`` new labelled configurations (cached after the first CHGNet labelling)."""
    return labelled_seeds(EXTRA, n, seed=1)


def _errs(model, tr, val, new) -> dict[str, float]:
    pot = Potential(model, SPECIES)
    e_tr, e_val, e_new = errors(pot, tr), errors(pot, val), errors(pot, new)
    return {"train_e": e_tr["rmse_energy_mev_atom"], "train_f": e_tr["rmse_forces_mev_a"],
            "val_e": e_val["rmse_energy_mev_atom"], "val_f": e_val["rmse_forces_mev_a"],
            "new_e": e_new["rmse_energy_mev_atom"], "new_f": e_new["rmse_forces_mev_a"]}


def run(max_iter: int = 200) -> dict[str, dict]:
    data = dataset()
    tr, val = split(data)
    new = extra()
    md = max(0.5, round(0.95 * min_distance(data + new), 2))
    kw = {"level": 8, "cutoff": 5.0, "max_iter": max_iter, "seed": 0, "min_dist": md}
    (parent, _), p_wall, p_cpu = timed(lambda: train(tr, SPECIES, **kw))
    grown = tr + new
    out = {"parent": {"wall_s": p_wall, "cpu_s": p_cpu, "iterations": None, **_errs(parent, grown, val, new)}}
    for mode in ("fresh", "warm"):
        init = parent if mode == "warm" else None
        (model, log), wall, cpu = timed(lambda i=init, m=mode: train(grown, SPECIES, init=i, mode=m, **kw))
        out[mode] = {"wall_s": wall, "cpu_s": cpu, "iterations": len(log.iterations),
                     **_errs(model, grown, val, new)}
    return out


def results(quick: bool) -> list[dict]:
    """Rows for benchmarks/run_all.py: the warm retrain against the fresh fit ("ours" is warm, "motep"
    column holds the fresh fit for the ratio; there is no mlp counterpart here)."""
    from benchmarks.table import row

    res = run(60 if quick else 200)
    w, f = res["warm"], res["fresh"]
    task = "retrain 54+5 cfgs, warm vs fresh"
    rows = [row("retrain", f"{task}: wall time", "s", w["wall_s"], f["wall_s"], note="motep column: our fresh fit"),
            row("retrain", f"{task}: CPU time", "s", w["cpu_s"], f["cpu_s"])]
    for key, label, unit in (("train_e", "train E", "meV/atom"), ("train_f", "train F", "meV/A"),
                             ("val_e", "validation E", "meV/atom"), ("val_f", "validation F", "meV/A"),
                             ("new_e", "new cfgs E", "meV/atom"), ("new_f", "new cfgs F", "meV/A")):
        rows.append(row("retrain", f"{task}: {label}", unit, w[key], f[key]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-iter", type=int, default=200)
    args = ap.parse_args()
    res = run(args.max_iter)
    print(f"\n{'fit':30s} {'wall s':>8s} {'CPU s':>7s} {'iters':>6s} {'train E':>8s} {'train F':>8s} {'val E':>7s} "
          f"{'val F':>7s} {'new E':>7s} {'new F':>7s}")
    names = {"parent": "parent (54 cfgs), on the 59", "fresh": "fresh fit on 59", "warm": "warm from parent on 59"}
    for key, r in res.items():
        its = "" if r["iterations"] is None else str(r["iterations"])
        print(f"{names[key]:30s} {r['wall_s']:8.1f} {r['cpu_s']:7.1f} {its:>6s} {r['train_e']:8.2f} "
              f"{r['train_f']:8.1f} {r['val_e']:7.2f} {r['val_f']:7.1f} {r['new_e']:7.2f} {r['new_f']:7.1f}")
    w, f = res["warm"], res["fresh"]
    print(f"warm/fresh: wall {w['wall_s'] / f['wall_s']:.2f}, CPU {w['cpu_s'] / f['cpu_s']:.2f} (target <= 0.20); "
          "errors warm/fresh: " + ", ".join(f"{k} {w[k] / f[k]:.2f}" for k in
                                            ("train_e", "train_f", "val_e", "val_f", "new_e", "new_f")))


if __name__ == "__main__":
    main()
