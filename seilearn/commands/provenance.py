"""``seilearn provenance ID``: the lineage of a configuration (or of a potential)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provenance", help="lineage of a training configuration or potential",
                       description="Where a configuration came from (seed set or exploration run, step, "
                                   "temperature, stage, grade, flagging potential), its labels and the potentials "
                                   "trained on it; for a potential id (p...), its ancestry and training set.")
    p.add_argument("id", help="configuration id (c...) or potential id (p...)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from seilearn.store import Store
    from seilearn.store import provenance as prov

    store = Store.open(must_exist=True)
    if args.id.startswith("p") and store.potentials.count_documents({"potential_id": args.id}, limit=1):
        lin = prov.potential_lineage(store, args.id)
        text = prov.format_potential_lineage
    else:
        lin = prov.configuration_lineage(store, args.id)
        text = prov.format_configuration_lineage
    print(json.dumps(lin, indent=2, default=str) if args.json else text(lin))
    return 0
