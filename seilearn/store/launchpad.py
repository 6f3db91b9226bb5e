"""Our FireWorks LaunchPad: id allocation that is atomic on SecantusDB and MongoDB alike.

FireWorks allocates fw and launch ids with ``find_one_and_update($inc, return_document=BEFORE)``;
SecantusDB returns stale pre-images for that under concurrent clients (docs/operations.md), so
two rockets could get one launch id. Asking for the post-image (AFTER) and subtracting the
increment is atomic on both servers. We wrap the counter collection rather than re-implement
the LaunchPad methods that use it (get_new_fw_id, get_new_launch_id, bulk_add_wfs).
"""

from __future__ import annotations

from typing import Any

from fireworks import LaunchPad
from pymongo import ReturnDocument
from pymongo.collection import Collection

from seilearn.config import Settings, load_settings


class _AtomicCounters:
    """Proxy of the ``fw_id_assigner`` collection whose ``$inc`` updates read the post-image."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def find_one_and_update(self, filter, update, *args, **kwargs):  # noqa: A002 - pymongo's name
        inc = update.get("$inc") if isinstance(update, dict) else None
        if not inc or kwargs.get("return_document") is ReturnDocument.AFTER or len(update) != 1:
            return self._collection.find_one_and_update(filter, update, *args, **kwargs)
        kwargs["return_document"] = ReturnDocument.AFTER
        doc = self._collection.find_one_and_update(filter, update, *args, **kwargs)
        if doc is None:
            return None
        for key, amount in inc.items():
            doc[key] = doc[key] - amount
        return doc


class SeilearnLaunchPad(LaunchPad):
    """A LaunchPad whose fw_id / launch_id allocation is safe under concurrent rockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from seilearn.store.connection import reconnector_for
        from seilearn.store.resilience import RetryingCollection

        super().__init__(*args, **kwargs)
        # rockets and the web GUI live for hours: their calls ride out a store restart
        again = reconnector_for(self.host if self.uri_mode else f"mongodb://{self.host}:{self.port}")
        for name in ("fireworks", "launches", "workflows", "offline_runs"):
            setattr(self, name, RetryingCollection(getattr(self, name), again))
        self.fw_id_assigner = _AtomicCounters(RetryingCollection(self.db.fw_id_assigner, again))


def get_launchpad(settings: Settings | None = None, *, strm_lvl: str = "WARNING") -> SeilearnLaunchPad:
    """Our LaunchPad on the configured (or embedded) store; initialised on first use."""
    from seilearn.store.connection import get_client, resolve_uri

    settings = settings or load_settings()
    get_client(settings).close()  # fail early with a clear message if unreachable
    lp = SeilearnLaunchPad(
        host=resolve_uri(settings), name=settings.db_name, uri_mode=True, strm_lvl=strm_lvl,
        logdir=None, mongoclient_kwargs={"serverSelectionTimeoutMS": 5000},
    )
    if lp.fw_id_assigner.find_one({}) is None:
        # a new database: create the counters without wiping anything (lpad reset would)
        lp.fw_id_assigner.update_one(
            {}, {"$setOnInsert": {"next_fw_id": 1, "next_launch_id": 1}}, upsert=True
        )
        lp.tuneup()
    return lp
