"""The embedded server lifecycle and the one-line errors of bad configurations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest

from seilearn.cli import main
from seilearn.config import load_settings
from seilearn.errors import ConfigError, StoreError
from seilearn.store import Store, server

SEILEARN = [sys.executable, "-m", "seilearn.cli"]


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """Settings for an embedded server of this test's own (stopped at the end)."""
    monkeypatch.setenv("SEILEARN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SEILEARN_MONGODB_URI", raising=False)
    monkeypatch.delenv("SEILEARN_CONFIG", raising=False)
    monkeypatch.delenv("SEILEARN_DB_PATH", raising=False)
    monkeypatch.setenv("SEILEARN_DB_NAME", "seilearn")
    settings = load_settings()
    yield settings
    server.stop(settings.db_path)


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SEILEARN, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=120)


def test_start_reuse_status_stop(embedded, capsys):
    assert main(["db", "status"]) == 3
    assert main(["db", "start"]) == 0
    info = server.read_info(embedded.db_path)
    assert info and info.port > 0
    assert main(["db", "start"]) == 0  # reused, not a second server
    assert server.read_info(embedded.db_path).pid == info.pid
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "running" in out and info.uri in out
    assert main(["db", "stop"]) == 0
    assert server.status(embedded.db_path)[0] == "stopped"


def test_kill9_mid_write_loses_nothing_committed_and_restarts(embedded):
    """Insert from a writer process, kill -9 the server mid-stream, restart: every acknowledged write is there."""
    Store.open(embedded)  # starts the server, creates the schema
    info = server.read_info(embedded.db_path)
    ack_file = embedded.home / "acked.txt"
    writer = subprocess.Popen([sys.executable, "-c", f"""
import pymongo, sys
c = pymongo.MongoClient({info.uri!r}, serverSelectionTimeoutMS=2000)
coll = c['seilearn']['durability']
with open({str(ack_file)!r}, 'w') as out:
    for i in range(100000):
        try:
            coll.insert_one({{'i': i}})
        except Exception:
            break
        out.write(f'{{i}}\\n'); out.flush()
"""])
    deadline = time.time() + 30
    while time.time() < deadline and (not ack_file.exists() or len(ack_file.read_text().split()) < 200):
        time.sleep(0.05)
    os.kill(info.pid, signal.SIGKILL)
    writer.wait(60)
    acked = {int(x) for x in ack_file.read_text().split()}
    assert len(acked) >= 200
    assert server.status(embedded.db_path)[0] == "stale"
    # the next command restarts the store by itself
    store = Store.open(embedded)
    new = server.read_info(embedded.db_path)
    assert new.pid != info.pid
    stored = {d["i"] for d in store.db["durability"].find({}, {"i": 1})}
    assert acked <= stored


def test_corrupt_pid_file_is_one_clear_line(embedded):
    embedded.db_path.mkdir(parents=True)
    (embedded.db_path / "server.json").write_text("{not json")
    r = cli("db", "status")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupt" in lines[0] and "seilearn db stop" in lines[0], r.stderr
    assert cli("db", "stop").returncode == 0  # clears it
    assert not (embedded.db_path / "server.json").exists()


def test_stale_pid_is_replaced(embedded):
    embedded.db_path.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (embedded.db_path / "server.json").write_text(json.dumps(
        {"pid": dead.pid, "port": 1, "data_dir": str(embedded.db_path / "data"), "started_at": 0}))
    assert server.status(embedded.db_path)[0] == "stale"
    info = server.ensure_running(embedded.db_path)
    assert info.pid != dead.pid
    pymongo.MongoClient(info.uri, serverSelectionTimeoutMS=2000).admin.command("ping")


def test_unreachable_uri_is_one_clear_line(tmp_path):
    r = cli("db", "status", env={"SEILEARN_HOME": str(tmp_path), "SEILEARN_MONGODB_URI": "mongodb://u:secret@127.0.0.1:9"})
    assert r.returncode == 2
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "cannot reach MongoDB" in line and "SEILEARN_MONGODB_URI" in line
    assert "secret" not in line and "****" in line


def test_not_a_uri_and_bad_db_name(tmp_path):
    r = cli("db", "status", env={"SEILEARN_HOME": str(tmp_path), "SEILEARN_MONGODB_URI": "localhost:27017"})
    assert r.returncode == 2 and "is not a MongoDB URI" in r.stderr
    r = cli("db", "status", env={"SEILEARN_HOME": str(tmp_path), "SEILEARN_DB_NAME": "bad name/x"})
    assert r.returncode == 2 and "db_name='bad name/x'" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_wrong_database_name_is_caught(settings, mongo_uri, monkeypatch):
    Store.open(settings)  # the real store exists in settings.db_name
    typo = settings.db_name[:-1]  # one character dropped: close to an existing store's name
    r = cli("provenance", "c000000000000", env={"SEILEARN_MONGODB_URI": mongo_uri, "SEILEARN_DB_NAME": typo,
                                                "SEILEARN_HOME": str(settings.home)})
    assert r.returncode == 2
    assert "holds no seilearn store" in r.stderr and settings.db_name in r.stderr
    # a name like no existing store's is a fresh store, not a typo: a first-contact hint, exit 0
    r = cli("provenance", "c000000000000", env={"SEILEARN_MONGODB_URI": mongo_uri, "SEILEARN_DB_NAME": "brand_new",
                                                "SEILEARN_HOME": str(settings.home)})
    assert r.returncode == 0 and "no campaigns yet" in r.stdout


def test_settings_file_errors(tmp_path, monkeypatch):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("db_nmae: x\n")
    with pytest.raises(ConfigError, match="unknown key.*db_nmae"):
        load_settings(cfg)
    cfg.write_text("db_port: 70000\n")
    with pytest.raises(ConfigError, match="db_port=70000"):
        load_settings(cfg)
    monkeypatch.setenv("SEILEARN_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("SEILEARN_CONFIG", raising=False)
    monkeypatch.setenv("SEILEARN_DB_PORT", "abc")
    with pytest.raises(ConfigError, match="SEILEARN_DB_PORT='abc' must be an integer"):
        load_settings()


def _check_as_nobody(path: str, queue) -> None:
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    try:
        server.ensure_running(Path(path))
        queue.put("no error")
    except StoreError as exc:
        queue.put(str(exc))


def test_data_dir_without_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    target = locked / "db"
    if os.geteuid() != 0:
        locked.chmod(0o500)
        with pytest.raises(StoreError, match="SEILEARN_DB_PATH"):
            server.ensure_running(target)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_check_as_nobody, args=(str(target), queue))
    proc.start()
    proc.join(30)
    message = queue.get(timeout=5)
    assert "permission denied" in message and "SEILEARN_DB_PATH" in message, message
