"""Collection names, indexes and versioned migrations of the seilearn store.

Our collections carry an ``sl_`` prefix so they never collide with FireWorks' own
(fireworks, launches, workflows, fw_id_assigner) in the same database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from seilearn.errors import StoreError

SCHEMA_VERSION = 1

META = "sl_meta"
CONFIGURATIONS = "sl_configurations"
POTENTIALS = "sl_potentials"
EXPLORATION_RUNS = "sl_exploration_runs"
LABELLING_JOBS = "sl_labelling_jobs"
CAMPAIGNS = "sl_campaigns"
GRIDFS_BUCKET = "sl_files"


def _v1(db: Database) -> None:
    cfg = db[CONFIGURATIONS]
    cfg.create_index([("hash", ASCENDING)], unique=True, name="hash_unique")
    cfg.create_index([("config_id", ASCENDING)], unique=True, name="config_id_unique")
    cfg.create_index([("source.kind", ASCENDING), ("source.campaign_id", ASCENDING)])
    cfg.create_index([("source.exploration_run_id", ASCENDING)])
    cfg.create_index([("trained_in", ASCENDING)])
    cfg.create_index([("labels.label_id", ASCENDING)])
    db[POTENTIALS].create_index([("potential_id", ASCENDING)], unique=True)
    db[POTENTIALS].create_index([("campaign_id", ASCENDING), ("iteration", DESCENDING)])
    db[EXPLORATION_RUNS].create_index([("run_id", ASCENDING)], unique=True)
    db[EXPLORATION_RUNS].create_index([("campaign_id", ASCENDING), ("iteration", ASCENDING)])
    db[LABELLING_JOBS].create_index([("job_id", ASCENDING)], unique=True)
    db[CAMPAIGNS].create_index([("campaign_id", ASCENDING)], unique=True)


# version -> migration that brings a database from version-1 to version
MIGRATIONS: dict[int, Callable[[Database], None]] = {1: _v1}


def ensure_schema(db: Database) -> int:
    """Create or migrate the store's collections and indexes; returns the schema version."""
    meta = db[META]
    doc = meta.find_one({"_id": "schema"}) or {"version": 0}
    current = int(doc.get("version", 0))
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database {db.name!r} has store schema v{current}, newer than this seilearn (v{SCHEMA_VERSION}); "
            "upgrade seilearn (pip install -U seilearn)"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](db)
        meta.update_one(
            {"_id": "schema"},
            {"$set": {"version": version}, "$push": {"history": {"version": version, "at": dt.datetime.now(dt.UTC)}}},
            upsert=True,
        )
    return SCHEMA_VERSION
