"""``seilearn potential export|list``: a stored potential as the files a user copies to a cluster."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from seilearn.cli import command_group
from seilearn.errors import InputError, StoreError


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "potential", "export and list the potentials in the store")
    e = grp.add_parser("export", help="write a potential's .mtp, .almtp, training set, card and LAMMPS snippets",
                       description="Writes ID.mtp and ID.almtp (readable by MLIP-2/3), ID.train.cfg (the exact "
                                   "training set), ID.json (campaign, iteration, level, cutoff, species order, "
                                   "training and validation errors, parent, training-set ids) and LAMMPS "
                                   "pair_style snippets for MLIP-2 (with mlip.ini) and MLIP-3.")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("potential_id", nargs="?", help="potential id (see `seilearn potential list`)")
    which.add_argument("--campaign", help="the campaign's current (newest production) potential")
    e.add_argument("--out", required=True, help="output directory (created)")
    e.set_defaults(func=_export)
    ls = grp.add_parser("list", help="potentials with their training and validation errors")
    ls.add_argument("--campaign", help="only this campaign's potentials")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)


def campaign_potential(store, campaign_id: str) -> dict[str, Any]:
    """The potential a campaign uses now: the one its production runs with (after any relearning), else
    its newest trained one."""
    doc = store.campaigns.find_one({"campaign_id": campaign_id}, {"_id": 0})
    if doc is None:
        known = sorted(d["campaign_id"] for d in store.campaigns.find({}, {"campaign_id": 1}))
        raise InputError(f"--campaign {campaign_id}: no such campaign; known: {', '.join(known) or 'none'}")
    pid = doc.get("current_potential_id") or doc.get("final_potential_id")
    if not pid:
        raise StoreError(f"campaign {campaign_id} has no trained potential yet")
    return store.get_potential(pid)


def card(pot: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """The potential's JSON card."""
    return {"potential_id": pot["potential_id"], "campaign_id": pot.get("campaign_id"),
            "iteration": pot.get("iteration"), "stage": pot.get("stage"), "level": pot.get("level"),
            "cutoff": pot.get("cutoff"), "species": pot.get("species"),
            "parent_potential_id": pot.get("parent_potential_id"), "created_at": str(pot.get("created_at")),
            "training_errors": pot.get("metrics"), "validation": pot.get("validation"),
            "n_train": pot.get("n_train"), "training_set": pot.get("training_set"),
            "relearn": pot.get("relearn"), "files": files}


def lammps_snippets(name: str, species: list[str]) -> dict[str, str]:
    """pair_style lines (MLIP-2 with its mlip.ini, MLIP-3) from the deck writer, with the type order."""
    from seilearn.md.lammps_decks import DeckSettings, mlip_ini, pair_lines

    order = "# LAMMPS atom types 1..{n} must be {sp} (the potential's species order)\n".format(
        n=len(species), sp=" ".join(species))
    two = DeckSettings(potential=f"{name}.mtp", species=species, mlip_version=2)
    three = DeckSettings(potential=f"{name}.almtp", species=species, mlip_version=3)
    return {"mlip.ini": mlip_ini(two),
            "lammps-mlip2.in": order + "# MLIP-2 (interface-lammps-mlip-2): mlip.ini names the .mtp\n"
                               + "\n".join(pair_lines(two)) + "\n",
            "lammps-mlip3.in": order + "# MLIP-3 (interface-lammps-mlip-3)\n" + "\n".join(pair_lines(three)) + "\n"}


def export_potential(store, pot: dict[str, Any], out: str | Path) -> dict[str, str]:
    """Write the potential's files to ``out``; returns {kind: path}."""
    from seilearn.dataset.export import snapshot_atoms
    from seilearn.fileio import atomic_write
    from seilearn.mtp.cfg import write_cfg

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pid = pot["potential_id"]
    species = list(pot.get("species") or [])
    if not species:
        raise StoreError(f"potential {pid} has no species list; cannot write a type order")
    written: dict[str, str] = {}
    for kind in ("mtp", "almtp"):
        if kind in pot.get("files", {}):
            path = out / f"{pid}.{kind}"
            with atomic_write(path, "wb") as fh:
                fh.write(store.get_file(pot["files"][kind]))
            written[kind] = str(path)
    train = out / f"{pid}.train.cfg"
    write_cfg(train, snapshot_atoms(store, pot), species)
    written["training_set"] = str(train)
    for fname, text in lammps_snippets(pid, species).items():
        with atomic_write(out / fname) as fh:
            fh.write(text)
        written[fname] = str(out / fname)
    sums = {k: hashlib.sha256(Path(p).read_bytes()).hexdigest() for k, p in written.items()}
    files = {k: {"file": Path(p).name, "sha256": sums[k]} for k, p in written.items()}
    with atomic_write(out / f"{pid}.json") as fh:
        json.dump(card(pot, files), fh, indent=2, default=str)
    written["card"] = str(out / f"{pid}.json")
    for path in written.values():  # atomic writes create 0600 files; these are meant to be copied and shared
        Path(path).chmod(0o644)
    return written


def _export(args: argparse.Namespace) -> int:
    from seilearn.store import Store

    store = Store.open(must_exist=True)
    pot = campaign_potential(store, args.campaign) if args.campaign else store.get_potential(args.potential_id)
    written = export_potential(store, pot, args.out)
    print(f"exported potential {pot['potential_id']} ({pot.get('n_train')} training configurations) to {args.out}:")
    for kind, path in written.items():
        print(f"  {kind:<16} {path}")
    return 0


def list_potentials(store, campaign_id: str | None = None) -> list[dict[str, Any]]:
    """One row per stored potential (oldest first)."""
    query = {"campaign_id": campaign_id} if campaign_id else {}
    rows = []
    for p in store.potentials.find(query, {"_id": 0, "training_set": 0}).sort("created_at", 1):
        m, v = p.get("metrics") or {}, (p.get("validation") or {})
        rows.append({"potential_id": p["potential_id"], "campaign_id": p.get("campaign_id"),
                     "iteration": p.get("iteration"), "stage": p.get("stage"), "n_train": p.get("n_train"),
                     "rmse_energy_mev_atom": m.get("rmse_energy_mev_atom"),
                     "rmse_forces_mev_a": m.get("rmse_forces_mev_a"),
                     "validation_forces_mev_a": (v.get("forces") or {}).get("rmse"),
                     "parent_potential_id": p.get("parent_potential_id"),
                     "relearn": bool(p.get("relearn")), "created_at": str(p.get("created_at"))})
    return rows


def _list(args: argparse.Namespace) -> int:
    from seilearn.store import Store

    rows = list_potentials(Store.open(must_exist=True), args.campaign)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no potentials" + (f" in campaign {args.campaign}" if args.campaign else ""))
        return 0
    print(f"{'potential':<24} {'campaign':<16} {'it':>3} {'train':>6} {'E rmse':>7} {'F rmse':>7} {'F val':>7}  note")
    for r in rows:
        def f(v):
            return "-" if v is None else f"{v:.1f}"
        print(f"{r['potential_id']:<24} {str(r['campaign_id']):<16} {str(r['iteration']):>3} {str(r['n_train']):>6} "
              f"{f(r['rmse_energy_mev_atom']):>7} {f(r['rmse_forces_mev_a']):>7} {f(r['validation_forces_mev_a']):>7}"
              f"  {'relearn' if r['relearn'] else ''}")
    return 0
