"""``seilearn provenance ID``: the lineage of a configuration (or of a potential)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provenance", help="lineage of a training configuration or potential",
                       description="Where a configuration came from (seed set or exploration run, step, "
                                   "temperature, stage, grade, flagging potential), its labels and the potentials "
                                   "trained on it; for a potential id, its ancestry and training set.")
    p.add_argument("id", help="configuration id or potential id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)


def shown(text: str, limit: int = 60) -> str:
    """``text`` for an error message: at most ``limit`` characters, the rest counted, not echoed."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _run(args: argparse.Namespace) -> int:
    from seilearn.errors import InputError
    from seilearn.store import Store
    from seilearn.store import provenance as prov

    store = Store.open(must_exist=True)
    # resolved by lookup: potential ids are whatever the campaign named them (demo-p001, p3f2..., ...)
    if store.potentials.count_documents({"potential_id": args.id}, limit=1):
        lin = prov.potential_lineage(store, args.id)
        text = prov.format_potential_lineage
    elif store.configurations.count_documents({"config_id": args.id}, limit=1):
        lin = prov.configuration_lineage(store, args.id)
        text = prov.format_configuration_lineage
    else:
        raise InputError(f"no configuration {shown(args.id)} (nor a potential of that id) in database "
                         f"{store.db.name!r}; list ids "
                         "with `seilearn dataset stats` or `seilearn potential list`, or check SEILEARN_DB_NAME")
    print(json.dumps(lin, indent=2, default=str) if args.json else text(lin))
    return 0
