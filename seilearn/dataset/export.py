"""Export the exact training set of a potential: the (config_id, label_id) pairs it was trained on.

Formats: MLIP ``.cfg`` (types index the potential's species list), extended XYZ with energy, forces,
stress and provenance in ``info``, and an ASE database.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ase import Atoms

from seilearn.errors import InputError, StoreError
from seilearn.fileio import atomic_write
from seilearn.store.store import Store, doc_to_atoms

FORMATS = ("cfg", "extxyz", "ase-db")
# provenance fields copied from ``source`` into atoms.info (None values are left out: extxyz cannot hold them)
_SOURCE_FIELDS = ("kind", "campaign_id", "stage", "grade", "exploration_run_id", "md_step", "temperature_K",
                  "iteration", "seed_set")


def resolve_potential(store: Store, *, potential_id: str | None = None, iteration: int | None = None,
                      campaign_id: str | None = None) -> dict:
    """The potential named by id, or the one trained in ``iteration`` (of ``campaign_id``)."""
    if (potential_id is None) == (iteration is None):
        raise InputError("name exactly one of --potential ID or --iteration N")
    if potential_id is not None:
        return store.get_potential(potential_id)
    query: dict = {"iteration": int(iteration)}
    if campaign_id:
        query["campaign_id"] = campaign_id
    docs = list(store.potentials.find(query, {"_id": 0}).sort("created_at", -1))
    if not docs:
        where = f" of campaign {campaign_id!r}" if campaign_id else ""
        known = sorted({d.get("iteration") for d in store.potentials.find(
            {"campaign_id": campaign_id} if campaign_id else {}, {"iteration": 1})} - {None})
        raise StoreError(f"no potential was trained in iteration {iteration}{where}; "
                         f"iterations with potentials: {known or 'none'}")
    campaigns = {d.get("campaign_id") for d in docs}
    if len(campaigns) > 1:
        raise InputError(f"iteration {iteration} exists in campaigns {sorted(map(str, campaigns))}; "
                         "choose one with --campaign ID")
    return docs[0]  # a rerun of the iteration's training: the newest potential


def snapshot_atoms(store: Store, potential: dict) -> list[Atoms]:
    """Atoms of the potential's training set, each with the exact label it was trained on."""
    pairs = potential.get("training_set") or []
    ids = [p["config_id"] for p in pairs]
    docs = {d["config_id"]: d for d in store.configurations.find({"config_id": {"$in": ids}}, {"_id": 0})}
    out = []
    for pair in pairs:
        doc = docs.get(pair["config_id"])
        if doc is None:
            raise StoreError(f"potential {potential['potential_id']}: training configuration {pair['config_id']} "
                             "is missing from the store")
        label = next((lab for lab in doc.get("labels", []) if lab.get("label_id") == pair["label_id"]), None)
        if label is None or label.get("status") != "ok":
            raise StoreError(f"potential {potential['potential_id']}: label {pair['label_id']} of "
                             f"{pair['config_id']} is missing or not ok")
        atoms = doc_to_atoms(doc, label)
        src = doc.get("source") or {}
        atoms.info.update({f"source_{k}" if k != "kind" else "source_kind": src[k]
                           for k in _SOURCE_FIELDS if src.get(k) is not None})
        atoms.info["potential_id"] = potential["potential_id"]
        out.append(atoms)
    return out


def _species(potential: dict, atoms_list: Sequence[Atoms]) -> list[str]:
    from seilearn.species import DEFAULT_SPECIES

    species = list(potential.get("species") or DEFAULT_SPECIES)
    present = {s for a in atoms_list for s in a.get_chemical_symbols()}
    missing = sorted(present - set(species))
    if missing:
        raise StoreError(f"potential {potential['potential_id']}: species {missing} of its training set are not "
                         f"in its species list {species}")
    return species


def export_dataset(store: Store, fmt: str, out: str | os.PathLike, *, potential_id: str | None = None,
                   iteration: int | None = None, campaign_id: str | None = None) -> dict:
    """Write the training set of a potential to ``out``; returns a summary (potential_id, n, path, format)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    pot = resolve_potential(store, potential_id=potential_id, iteration=iteration, campaign_id=campaign_id)
    atoms_list = snapshot_atoms(store, pot)
    out = Path(out)
    if fmt == "cfg":
        from seilearn.mtp.cfg import write_cfg

        write_cfg(out, atoms_list, _species(pot, atoms_list))
    elif fmt == "extxyz":
        from ase.io import write

        with atomic_write(out) as fh:
            write(fh, atoms_list, format="extxyz")
    else:
        _write_ase_db(out, atoms_list)
    return {"potential_id": pot["potential_id"], "iteration": pot.get("iteration"),
            "campaign_id": pot.get("campaign_id"), "n": len(atoms_list), "path": str(out), "format": fmt}


def _write_ase_db(out: Path, atoms_list: Sequence[Atoms]) -> None:
    """A fresh ASE database beside ``out``, renamed into place when complete."""
    import ase.db

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{out.suffix or '.db'}")
    tmp.unlink(missing_ok=True)
    try:
        with ase.db.connect(tmp, append=False) as db:
            for atoms in atoms_list:
                info = {k: v for k, v in atoms.info.items() if isinstance(v, (str, int, float, bool))}
                db.write(atoms, key_value_pairs=info)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
