"""The training-set store: configurations with labels and provenance, potentials, runs, jobs, files.

Labels are append-only (docs/architecture.md): relabelling adds a record, never overwrites; a potential
records the exact (config_id, label_id) pairs it was trained on, so it can always be reproduced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import gridfs
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from seilearn.config import Settings, load_settings
from seilearn.errors import InputError, StoreError
from seilearn.store import schema
from seilearn.store.hashing import config_id_for, structure_hash

UNITS = {"energy": "eV", "forces": "eV/A", "stress": "eV/A^3 (ASE Voigt xx yy zz yz xz xy, positive = tensile)"}
SOURCE_KINDS = ("seed", "exploration", "import", "production", "validation")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays -> plain Python, recursively (MongoDB cannot store numpy types)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def atoms_to_doc(atoms: Atoms) -> dict:
    """The structure part of a configuration record."""
    if len(atoms) == 0:
        raise InputError("cannot store an empty structure (0 atoms)")
    return {
        "numbers": atoms.get_atomic_numbers().tolist(),
        "symbols": atoms.get_chemical_symbols(),
        "positions": atoms.get_positions().tolist(),
        "cell": np.asarray(atoms.cell).tolist(),
        "pbc": [bool(x) for x in atoms.pbc],
        "n_atoms": len(atoms),
        "formula": atoms.get_chemical_formula(mode="hill"),
    }


def doc_to_atoms(doc: Mapping, label: Mapping | None = None) -> Atoms:
    """Rebuild Atoms from a configuration record; attach ``label`` (or the latest ok label)."""
    s = doc["structure"]
    atoms = Atoms(numbers=s["numbers"], positions=s["positions"], cell=s["cell"], pbc=s["pbc"])
    atoms.info["config_id"] = doc["config_id"]
    if label is None:
        label = latest_ok_label(doc)
    if label is not None:
        atoms.calc = SinglePointCalculator(
            atoms, energy=label["energy"], forces=np.asarray(label["forces"]),
            stress=np.asarray(label["stress"]) if label.get("stress") is not None else None,
        )
        atoms.info["label_id"] = label["label_id"]
    return atoms


def latest_ok_label(doc: Mapping) -> dict | None:
    """The newest label with status ok, or None."""
    ok = [lab for lab in doc.get("labels", []) if lab.get("status") == "ok"]
    return ok[-1] if ok else None


class Store:
    """seilearn's collections in one MongoDB database (see ``seilearn.store.schema``)."""

    def __init__(self, db: Database) -> None:
        from seilearn.store.connection import reconnector_for
        from seilearn.store.resilience import RetryingCollection

        self.db = db
        schema.ensure_schema(db)
        # the campaign runner and the web GUI hold a Store for hours: its calls ride out a store restart
        try:
            host, port = db.client.address or ("127.0.0.1", 0)
        except Exception:  # noqa: BLE001 - load-balanced or unreachable: only the message uses the address
            host, port = "?", 0
        again = reconnector_for(f"mongodb://{host}:{port}")
        self.configurations = RetryingCollection(db[schema.CONFIGURATIONS], again)
        self.potentials = RetryingCollection(db[schema.POTENTIALS], again)
        self.exploration_runs = RetryingCollection(db[schema.EXPLORATION_RUNS], again)
        self.labelling_jobs = RetryingCollection(db[schema.LABELLING_JOBS], again)
        self.campaigns = RetryingCollection(db[schema.CAMPAIGNS], again)
        self.fs = gridfs.GridFS(db, collection=schema.GRIDFS_BUCKET)

    @classmethod
    def open(cls, settings: Settings | None = None, *, must_exist: bool = False) -> Store:
        """Open the store of the configured (or embedded) server."""
        from seilearn.store.connection import open_database

        return cls(open_database(settings or load_settings(), must_exist=must_exist))

    # -- configurations -------------------------------------------------------------------------

    def add_configuration(self, atoms: Atoms, source: Mapping[str, Any], *, fw_id: int | None = None,
                          launch_id: int | None = None) -> tuple[str, bool]:
        """Insert a structure with its source; a duplicate (same content hash) is a no-op.

        Returns ``(config_id, created)``. ``source["kind"]`` is one of SOURCE_KINDS; exploration
        sources carry exploration_run_id, md_step, temperature_K, pressure_bar, stage, grade,
        potential_id and active_set_id.
        """
        kind = source.get("kind")
        if kind not in SOURCE_KINDS:
            raise InputError(f"source kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        h = structure_hash(atoms)
        config_id = config_id_for(h)
        stamp = now()
        doc = {
            "config_id": config_id, "hash": h, "schema_version": schema.SCHEMA_VERSION,
            "structure": atoms_to_doc(atoms), "source": _jsonable(dict(source)),
            "created_by": {"fw_id": fw_id, "launch_id": launch_id},
            "labels": [], "trained_in": [], "created_at": stamp, "updated_at": stamp,
        }
        try:
            self.configurations.insert_one(doc)
            return config_id, True
        except DuplicateKeyError:
            existing = self.configurations.find_one({"hash": h}, {"config_id": 1})
            if existing is None:  # pragma: no cover - a 12-hex-digit id collision with another hash
                raise StoreError(f"configuration id {config_id} collides with another structure") from None
            return existing["config_id"], False

    def add_configurations(self, atoms_list: Iterable[Atoms], source: Mapping[str, Any], **kw: Any) -> list[tuple[str, bool]]:
        """add_configuration for each structure; per-structure ``atoms.info['source']`` extends ``source``."""
        out = []
        for atoms in atoms_list:
            merged = {**source, **atoms.info.get("source", {})}
            out.append(self.add_configuration(atoms, merged, **kw))
        return out

    def get_configuration(self, config_id: str) -> dict:
        """The full record; StoreError if absent."""
        doc = self.configurations.find_one({"config_id": config_id}, {"_id": 0})
        if doc is None:
            raise StoreError(
                f"no configuration {config_id!r} in database {self.db.name!r}; list ids with "
                "`seilearn dataset stats` or check SEILEARN_DB_NAME"
            )
        return doc

    def get_atoms(self, config_ids: Iterable[str]) -> list[Atoms]:
        """Atoms with their latest ok labels, in the order of ``config_ids``."""
        ids = list(config_ids)
        docs = {d["config_id"]: d for d in self.configurations.find({"config_id": {"$in": ids}})}
        missing = [i for i in ids if i not in docs]
        if missing:
            raise StoreError(f"configurations not found: {', '.join(missing[:5])}")
        return [doc_to_atoms(docs[i]) for i in ids]

    def labelled_atoms(self, pairs: Iterable[tuple[str, str]]) -> list[Atoms]:
        """Atoms with exactly the given labels, for (config_id, label_id) pairs, in order. Label records never
        change, so this process keeps them (``seilearn.store.label_cache``) and fetches only new ones."""
        from seilearn.store.label_cache import CACHE

        pairs = [(str(c), str(lab)) for c, lab in pairs]
        # a record's ObjectId is unique across servers and databases: a kept label is only reused for the very
        # record it came from (a light query: ids only)
        oids = {d["config_id"]: str(d["_id"]) for d in self.configurations.find(
            {"config_id": {"$in": sorted({c for c, _ in pairs})}}, {"_id": 1, "config_id": 1})}
        try:
            return CACHE.get([(c, lab, oids.get(c, "")) for c, lab in pairs], lambda ids: self.configurations.find(
                {"config_id": {"$in": ids}}, {"config_id": 1, "structure": 1, "labels": 1}))
        except KeyError as exc:
            raise StoreError(f"{exc.args[0]} not found in database {self.db.name!r}") from None

    # -- labels ---------------------------------------------------------------------------------

    @staticmethod
    def label_id_for(config_id: str, labeller: Mapping[str, Any], job_id: str | None) -> str:
        key = json.dumps({"c": config_id, "l": _jsonable(dict(labeller)), "j": job_id}, sort_keys=True, default=str)
        return "l" + hashlib.sha256(key.encode()).hexdigest()[:12]

    def add_label(self, config_id: str, *, status: str, labeller: Mapping[str, Any], energy: float | None = None,
                  forces: Any = None, stress: Any = None, reason: str | None = None, job_id: str | None = None,
                  fw_id: int | None = None, launch_id: int | None = None, wall_s: float | None = None) -> tuple[str, bool]:
        """Append a label record (idempotent per config, labeller settings and job). Returns (label_id, created)."""
        if status not in ("ok", "scf_unconverged", "failed"):
            raise InputError(f"label status {status!r} must be ok, scf_unconverged or failed")
        if status == "ok":
            if energy is None or forces is None or not np.all(np.isfinite(np.asarray(forces, dtype=float))) \
                    or not np.isfinite(float(energy)):
                raise InputError(f"label for {config_id} has status ok but missing or non-finite energy/forces")
        label_id = self.label_id_for(config_id, labeller, job_id)
        record = _jsonable({
            "label_id": label_id, "status": status, "reason": reason, "energy": energy, "forces": forces,
            "stress": stress, "units": UNITS, "labeller": dict(labeller), "job_id": job_id,
            "fw_id": fw_id, "launch_id": launch_id, "wall_s": wall_s,
        })
        record["created_at"] = now()
        res = self.configurations.update_one(
            {"config_id": config_id, "labels.label_id": {"$ne": label_id}},
            {"$push": {"labels": record}, "$set": {"updated_at": record["created_at"]}},
        )
        if res.matched_count == 0:
            if self.configurations.count_documents({"config_id": config_id}, limit=1) == 0:
                raise StoreError(f"cannot label {config_id}: no such configuration")
            return label_id, False
        return label_id, True

    # -- potentials and files -------------------------------------------------------------------

    def put_file(self, data: bytes, filename: str, **metadata: Any) -> str:
        """Store a file in GridFS; returns its id as a string."""
        return str(self.fs.put(data, filename=filename, metadata=_jsonable(metadata)))

    def get_file(self, file_id: str) -> bytes:
        try:
            return self.fs.get(ObjectId(file_id)).read()
        except (gridfs.errors.NoFile, Exception) as exc:  # invalid ObjectId text included
            raise StoreError(f"file {file_id!r} is not in the store") from exc

    def add_potential(self, *, training_set: list[tuple[str, str]], files: Mapping[str, bytes],
                      potential_id: str | None = None, **fields: Any) -> str:
        """Record a trained potential, its files (e.g. {'mtp': bytes, 'almtp': bytes}) and the exact
        (config_id, label_id) pairs it used; marks those configurations as trained in it. Idempotent
        for a given ``potential_id``."""
        potential_id = potential_id or f"p{uuid.uuid4().hex[:12]}"
        existing = self.potentials.find_one({"potential_id": potential_id}, {"_id": 0, "potential_id": 1})
        if existing:
            return potential_id
        file_ids = {k: self.put_file(v, f"{potential_id}.{k}", potential_id=potential_id, kind=k) for k, v in files.items()}
        doc = _jsonable({**fields, "potential_id": potential_id,
                         "training_set": [{"config_id": c, "label_id": lab} for c, lab in training_set],
                         "n_train": len(training_set), "files": file_ids})
        doc["created_at"] = now()
        try:
            self.potentials.insert_one(doc)
        except DuplicateKeyError:  # a concurrent rerun of the same task won the race
            return potential_id
        self.configurations.update_many(
            {"config_id": {"$in": [c for c, _ in training_set]}}, {"$addToSet": {"trained_in": potential_id}}
        )
        return potential_id

    def get_potential(self, potential_id: str) -> dict:
        doc = self.potentials.find_one({"potential_id": potential_id}, {"_id": 0})
        if doc is None:
            raise StoreError(f"no potential {potential_id!r} in database {self.db.name!r}")
        return doc

    def potential_file(self, potential_id: str, kind: str = "mtp") -> bytes:
        doc = self.get_potential(potential_id)
        if kind not in doc.get("files", {}):
            raise StoreError(f"potential {potential_id} has no {kind!r} file (has: {', '.join(doc.get('files', {}))})")
        return self.get_file(doc["files"][kind])

    # -- runs, jobs, campaigns -------------------------------------------------------------------

    def _upsert(self, collection, key: str, value: str, fields: Mapping[str, Any]) -> dict:
        stamp = now()
        return collection.find_one_and_update(
            {key: value},
            {"$set": {**_jsonable(dict(fields)), "updated_at": stamp}, "$setOnInsert": {"created_at": stamp}},
            upsert=True, return_document=ReturnDocument.AFTER, projection={"_id": 0},
        )

    def record_exploration_run(self, run_id: str, **fields: Any) -> dict:
        return self._upsert(self.exploration_runs, "run_id", run_id, fields)

    def record_labelling_job(self, job_id: str, **fields: Any) -> dict:
        return self._upsert(self.labelling_jobs, "job_id", job_id, fields)

    def record_campaign(self, campaign_id: str, **fields: Any) -> dict:
        return self._upsert(self.campaigns, "campaign_id", campaign_id, fields)

    def get_campaign(self, campaign_id: str) -> dict:
        doc = self.campaigns.find_one({"campaign_id": campaign_id}, {"_id": 0})
        if doc is None:
            raise StoreError(f"no campaign {campaign_id!r} in database {self.db.name!r}")
        return doc
