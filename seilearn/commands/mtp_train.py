"""`seilearn mtp train` and `seilearn mtp cross-validate`."""

from __future__ import annotations

import argparse
import json
import sys

from seilearn.cli import command_group
from seilearn.errors import InputError
from seilearn.species import DEFAULT_SPECIES


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "mtp", "Moment tensor potentials: evaluate, train, cross-validate")
    p = grp.add_parser("train", help="train an MTP on a .cfg training set (MLIP-like: LLS, then Levenberg-Marquardt)")
    p.add_argument("train_cfg", metavar="TRAIN.cfg")
    _common(p)
    p.add_argument("--out", required=True, help="the trained potential (.mtp, MLIP 1.1.0 layout)")
    p.add_argument("--init", help="retrain from this parent .mtp (warm by default; see --mode)")
    p.add_argument("--mode", choices=("fresh", "warm"), default=None,
                   help="warm: continue from --init's coefficients until the loss stalls (default with --init); "
                        "fresh: random restarts from the level template (default without --init; with --init "
                        "it keeps the parent's level, cutoff and min_dist)")
    p.add_argument("--log", help="write one JSON line per iteration to this file")
    p.add_argument("--validation", type=float, default=None,
                   help="hold out this fraction of the set for early stopping (e.g. 0.1)")
    p.set_defaults(func=_train)
    c = grp.add_parser("cross-validate", help="k-fold cross-validation: RMSE of E/atom, F, stress on train and test folds")
    c.add_argument("train_cfg", metavar="TRAIN.cfg")
    _common(c)
    c.add_argument("--folds", type=int, default=10)
    c.add_argument("--json", help="write the summary (with per-fold results) to this JSON file")
    c.set_defaults(func=_crossval)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--level", type=int, default=8)
    p.add_argument("--cutoff", type=float, default=5.0)
    p.add_argument("--min-dist", type=float, default=None, help="default: 0.95 x the shortest distance in the data")
    p.add_argument("--species", default=",".join(DEFAULT_SPECIES), help="type order, comma-separated (default Li,P,S,Cl)")
    p.add_argument("--max-iter", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--energy-weight", type=float, default=1.0)
    p.add_argument("--force-weight", type=float, default=0.01)
    p.add_argument("--stress-weight", type=float, default=0.001)
    p.add_argument("--weight-scaling", type=int, choices=(0, 1, 2), default=1,
                   help="MLIP's weight_scaling: energy and virial residuals divided by N^(s/2) (default 1, as MLIP)")
    p.add_argument("--restarts", type=int, default=4,
                   help="random starts of a fresh fit, each screened briefly; the best continues (default 4)")


def _kwargs(args: argparse.Namespace) -> dict:
    if args.max_iter < 0:
        raise InputError(f"--max-iter {args.max_iter}: must be >= 0")
    if args.restarts < 1:
        raise InputError(f"--restarts {args.restarts}: must be >= 1")
    return {"level": args.level, "cutoff": args.cutoff, "min_dist": args.min_dist, "max_iter": args.max_iter,
            "seed": args.seed, "weights": {"energy": args.energy_weight, "forces": args.force_weight,
                                           "stress": args.stress_weight},
            "weight_scaling": args.weight_scaling, "restarts": args.restarts}


def _load(args: argparse.Namespace):
    from seilearn.mtp.cfg import read_cfg

    species = [s.strip() for s in args.species.split(",") if s.strip()]
    atoms = read_cfg(args.train_cfg, species)
    if not atoms:
        raise InputError(f"{args.train_cfg}: no configurations (expected BEGIN_CFG ... END_CFG blocks)")
    return atoms, species


def _train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from seilearn.fileio import atomic_write
    from seilearn.mtp.mtpfile import read_mtp, write_mtp
    from seilearn.mtp.training import train

    atoms, species = _load(args)
    init = read_mtp(args.init) if args.init else None
    if args.mode == "warm" and init is None:
        raise InputError("--mode warm continues a potential; pass --init PARENT.mtp (or use --mode fresh)")
    kw = _kwargs(args)
    records: list[dict] = []
    fresh = args.mode == "fresh" or init is None
    # a fresh fit also runs each extra start's pre-training and screening (training's defaults: 75 and 30)
    extra = (args.restarts - 1) * (min(75, args.max_iter // 3) + 30) if fresh and args.restarts > 1 else 0
    bar = tqdm(total=args.max_iter + extra, desc="mtp train", unit="it", file=sys.stderr)

    def progress(rec: dict) -> None:
        records.append(rec)
        bar.update(1)
        bar.set_postfix(E=f"{rec['rmse_energy_mev_atom']:.2f}", F=f"{rec['rmse_forces_mev_a']:.1f}", refresh=False)

    try:
        model, log = train(atoms, species, init=init, mode=args.mode, validation=args.validation, callback=progress,
                           **kw)
    finally:
        bar.close()
    write_mtp(args.out, model)
    if args.log:
        with atomic_write(args.log) as fh:
            for rec in records:
                fh.write(json.dumps(rec) + "\n")
            fh.write(json.dumps({"final": log.final, "validation": log.validation, "stages": log.stages}) + "\n")
    f = log.final
    msg = (f"{args.out}: {len(atoms)} configurations, {int(f['iterations'])} iterations, {f['wall_s']:.1f} s; "
           f"train RMSE {f['rmse_energy_mev_atom']:.3f} meV/atom, {f['rmse_forces_mev_a']:.2f} meV/A")
    if "rmse_stress_gpa" in f:
        msg += f", {f['rmse_stress_gpa']:.4f} GPa"
    if log.validation:
        msg += (f"; validation {log.validation['rmse_energy_mev_atom']:.3f} meV/atom, "
                f"{log.validation['rmse_forces_mev_a']:.2f} meV/A")
    print(msg)
    return 0


def _crossval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from seilearn.fileio import atomic_write
    from seilearn.mtp.crossval import cross_validate, table, to_json

    atoms, species = _load(args)
    bar = tqdm(total=args.folds, desc="folds", unit="fold", file=sys.stderr)
    try:
        summary = cross_validate(atoms, species, args.folds, _kwargs(args), seed=args.seed,
                                 progress=lambda k, res: bar.update(1))
    finally:
        bar.close()
    print(table(summary))
    if args.json:
        with atomic_write(args.json) as fh:
            fh.write(to_json(summary))
    return 0
