"""``seilearn db start|stop|status|uri|init``: the embedded database server."""

from __future__ import annotations

import argparse

from seilearn.cli import command_group
from seilearn.config import load_settings, mask_uri


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "db", "The database: embedded SecantusDB server or SEILEARN_MONGODB_URI")
    for name, func, text in (
        ("start", _start, "start the embedded server (no-op when running or when a URI is configured)"),
        ("stop", _stop, "stop the embedded server and clear stale pid files"),
        ("status", _status, "show which server is used and whether it answers"),
        ("uri", _uri, "print the MongoDB URI (starting the embedded server if needed)"),
        ("init", _init, "create the seilearn collections and indexes, and the FireWorks counters"),
    ):
        p = grp.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)


def _start(args: argparse.Namespace) -> int:
    from seilearn.store import server

    s = load_settings()
    if not s.embedded:
        print(f"using external MongoDB {mask_uri(s.mongodb_uri)}; nothing to start")
        return 0
    info = server.ensure_running(s.db_path, s.db_port)
    print(f"embedded server running: {info.uri} (pid {info.pid}, data {info.data_dir})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from seilearn.store import server

    s = load_settings()
    print(server.stop(s.db_path))
    return 0


def _status(args: argparse.Namespace) -> int:
    from seilearn.store import server
    from seilearn.store.connection import get_client

    s = load_settings()
    if not s.embedded:
        get_client(s).close()
        print(f"external MongoDB {mask_uri(s.mongodb_uri)}: answering; database {s.db_name!r}")
        return 0
    state, info = server.status(s.db_path)
    if info is None:
        print(f"embedded server: {state} (data directory {s.db_path}); it starts on the next command")
        return 3
    print(f"embedded server: {state}\n  uri       {info.uri}\n  pid       {info.pid}\n  data      {info.data_dir}\n"
          f"  database  {s.db_name}")
    return 0 if state == "running" else 3


def _uri(args: argparse.Namespace) -> int:
    from seilearn.store.connection import resolve_uri

    print(resolve_uri(load_settings()))
    return 0


def _init(args: argparse.Namespace) -> int:
    from seilearn.store import Store, get_launchpad
    from seilearn.store.schema import SCHEMA_VERSION

    s = load_settings()
    Store.open(s)
    get_launchpad(s)
    print(f"store ready in database {s.db_name!r} (schema v{SCHEMA_VERSION})")
    return 0
