"""``seilearn dataset export|stats``: versioned training-set snapshots and training-set statistics."""

from __future__ import annotations

import argparse
import json

from seilearn.cli import command_group


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "dataset", "export training-set snapshots and show training-set statistics")
    p = grp.add_parser("export", help="write the exact training set of a potential (cfg, extxyz or ASE db)",
                       description="Exports the (configuration, label) pairs a potential was trained on. "
                                   "--iteration N takes the potential trained in iteration N.")
    p.add_argument("--format", required=True, choices=("cfg", "extxyz", "ase-db"))
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--potential", help="potential id")
    which.add_argument("--iteration", type=int, help="active-learning iteration")
    p.add_argument("--campaign", help="campaign id (needed with --iteration when several campaigns exist)")
    p.add_argument("--out", required=True, help="output file")
    p.set_defaults(func=_export)
    s = grp.add_parser("stats", help="counts by source, stage, composition, label status; energy/force ranges")
    s.add_argument("--campaign", help="only this campaign's configurations")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_stats)


def _export(args: argparse.Namespace) -> int:
    from seilearn.dataset import export_dataset
    from seilearn.store import Store

    r = export_dataset(Store.open(must_exist=True), args.format, args.out, potential_id=args.potential,
                       iteration=args.iteration, campaign_id=args.campaign)
    print(f"wrote {r['n']} configurations of potential {r['potential_id']} (iteration {r['iteration']}) "
          f"to {r['path']} ({r['format']})")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from seilearn.dataset import dataset_stats, format_stats
    from seilearn.store import Store

    st = dataset_stats(Store.open(must_exist=True), args.campaign)
    print(json.dumps(st, indent=2) if args.json else format_stats(st))
    return 0
