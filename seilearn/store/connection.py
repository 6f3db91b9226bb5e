"""Connection layer: SEILEARN_MONGODB_URI (or the settings file), else the embedded server."""

from __future__ import annotations

import difflib

import pymongo
from pymongo.database import Database

from seilearn.config import Settings, load_settings, mask_uri
from seilearn.errors import ConfigError, EmptyStoreError, StoreError
from seilearn.store import server
from seilearn.store.resilience import Reconnector

_TIMEOUT_MS = 5000


def resolve_uri(settings: Settings | None = None, start: bool = True) -> str:
    """The MongoDB URI to use; starts the embedded server when none is configured and ``start``."""
    settings = settings or load_settings()
    if settings.mongodb_uri:
        return settings.mongodb_uri
    if not start:
        state, info = server.status(settings.db_path)
        if state != "running" or info is None:
            raise StoreError(f"the embedded server is {state}; start it with `seilearn db start`")
        return info.uri
    return server.ensure_running(settings.db_path, settings.db_port).uri


def get_client(settings: Settings | None = None, start: bool = True) -> pymongo.MongoClient:
    """A connected client; raises StoreError with the fix when the server is unreachable."""
    settings = settings or load_settings()
    uri = resolve_uri(settings, start=start)
    try:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=_TIMEOUT_MS, tz_aware=True)
        client.admin.command("ping")
    except pymongo.errors.ConfigurationError as exc:
        raise StoreError(f"invalid MongoDB URI {mask_uri(uri)!r}: {exc}; fix SEILEARN_MONGODB_URI") from exc
    except pymongo.errors.OperationFailure as exc:
        raise StoreError(
            f"MongoDB at {mask_uri(uri)} refused the connection ({exc.details.get('errmsg', exc) if exc.details else exc}); "
            "check the user and password in SEILEARN_MONGODB_URI"
        ) from exc
    except pymongo.errors.PyMongoError as exc:
        raise StoreError(
            f"cannot reach MongoDB at {mask_uri(uri)} within {_TIMEOUT_MS // 1000} s; check that the server is up "
            "and SEILEARN_MONGODB_URI is right, or unset it to use the embedded server"
        ) from exc
    return client


def reconnector_for(uri: str, settings: Settings | None = None) -> Reconnector:
    """Retries for clients of ``uri``; restarts the embedded server too when ``uri`` is its address."""
    from urllib.parse import urlsplit

    try:
        settings = settings or load_settings()
    except ConfigError:  # a client built from a launchpad file needs no settings: retry without restarting
        return Reconnector(uri)
    restart = None
    if settings.embedded:
        parts = urlsplit(uri)
        if parts.hostname == server.HOST and parts.port and parts.port == server.recorded_port(settings.db_path):
            def restart() -> None:
                server.ensure_running(settings.db_path, settings.db_port)
    return Reconnector(uri, restart)


def open_database(settings: Settings | None = None, *, must_exist: bool = False) -> Database:
    """The seilearn database. With ``must_exist``, a database without a seilearn store is an error
    (catches a mistyped SEILEARN_DB_NAME before it silently reads an empty database)."""
    settings = settings or load_settings()
    client = get_client(settings)
    db = client[settings.db_name]
    if must_exist and "sl_meta" not in db.list_collection_names():
        others = [n for n in client.list_database_names() if n not in ("admin", "local", "config")]
        stores = [n for n in others if "sl_meta" in client[n].list_collection_names()]
        if not difflib.get_close_matches(settings.db_name, stores, n=1, cutoff=0.75):
            # no store with a similar name, so nothing was mistyped: a first contact with a fresh store
            raise EmptyStoreError("no campaigns yet; start one with `seilearn campaign run "
                                  "workflows/examples/lpsc_li_local.yaml` (or `seilearn campaign create SPEC.yaml`)")
        hint = f"databases on this server: {', '.join(others)}" if others else "the server has no databases yet"
        raise StoreError(
            f"database {settings.db_name!r} holds no seilearn store ({hint}); fix SEILEARN_DB_NAME or create the "
            "store with `seilearn db init`"
        )
    return db
