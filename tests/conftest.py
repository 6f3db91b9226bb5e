"""Shared fixtures: a real MongoDB-compatible server over TCP (never a mock).

By default a SecantusDB server (``secantusd-py``) is started on a free port with
in-memory storage for the whole session. Set ``SEILEARN_TEST_MONGODB_URI`` to run
the suite against a real MongoDB instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "data" / "mlip3"


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ping(uri: str, timeout: float = 30.0) -> None:
    import pymongo

    deadline = time.time() + timeout
    last: Exception | None = None
    while time.time() < deadline:
        try:
            client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500)
            client.admin.command("ping")
            client.close()
            return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"test server at {uri} did not answer ping within {timeout}s: {last}")


def secantusd_exe() -> str:
    exe = Path(sys.executable).with_name("secantusd-py")
    return str(exe) if exe.exists() else (shutil.which("secantusd-py") or "secantusd-py")


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory) -> str:
    """URI of a real server for this test session."""
    external = os.environ.get("SEILEARN_TEST_MONGODB_URI")
    if external:
        wait_for_ping(external)
        yield external
        return
    port = free_port()
    logdir = tmp_path_factory.mktemp("secantus")
    log = open(logdir / "server.log", "wb")
    proc = subprocess.Popen(
        [secantusd_exe(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:",
         "--log-level", "WARNING"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    uri = f"mongodb://127.0.0.1:{port}"
    try:
        wait_for_ping(uri)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def db_name() -> str:
    """A fresh database name per test, so tests never see each other's data."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(mongo_uri, db_name, tmp_path, monkeypatch):
    """Settings pointing at the session server, a fresh database and a tmp home."""
    from seilearn.config import load_settings

    monkeypatch.setenv("SEILEARN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEILEARN_MONGODB_URI", mongo_uri)
    monkeypatch.setenv("SEILEARN_DB_NAME", db_name)
    monkeypatch.delenv("SEILEARN_CONFIG", raising=False)
    return load_settings()


@pytest.fixture(scope="session")
def golden() -> Path:
    """MLIP-3's outputs on our own inputs (tests/data/mlip3/README.md): ``li/`` and ``lpscl/``."""
    return GOLDEN
