"""The embedded SecantusDB server: started on demand, reused across commands.

State lives beside the data: ``DB_PATH/server.json`` (pid, port, uri), ``DB_PATH/server.log``,
``DB_PATH/data`` (WiredTiger home), ``DB_PATH/port`` (the port, reused by every restart: long-lived
clients hold URIs that name it). The server binds to 127.0.0.1 only and is started with
``--sync-on-commit`` so a kill -9 loses nothing that was acknowledged.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from seilearn.errors import StoreError
from seilearn.processes import pid_alive

HOST = "127.0.0.1"


@dataclass
class ServerInfo:
    """What ``server.json`` records about a running embedded server."""

    pid: int
    port: int
    data_dir: str
    started_at: float

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}"


def _paths(db_path: Path) -> tuple[Path, Path, Path, Path]:
    db_path = Path(db_path)
    return db_path / "server.json", db_path / "server.log", db_path / "data", db_path / "server.lock"


def _exe() -> str:
    local = Path(sys.executable).with_name("secantusd-py")
    found = str(local) if local.exists() else shutil.which("secantusd-py")
    if not found:
        raise StoreError("secantusd-py not found; install seilearn's dependencies (pip install secantusdb)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    return pid_alive(pid, cmdline_contains=b"secantus")


def _pings(port: int, timeout: float = 1.0) -> bool:
    import pymongo

    try:
        client = pymongo.MongoClient(HOST, port, serverSelectionTimeoutMS=int(timeout * 1000), connect=True)
        try:
            client.admin.command("ping")
            return True
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False


def _check_writable(db_path: Path) -> None:
    try:
        db_path.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise StoreError(
            f"cannot create the database directory {db_path} (permission denied); "
            "set SEILEARN_DB_PATH to a directory you can write"
        ) from exc
    if not os.access(db_path, os.W_OK | os.X_OK):
        raise StoreError(
            f"database directory {db_path} is not writable; fix its permissions or set SEILEARN_DB_PATH elsewhere"
        )


def read_info(db_path: Path) -> ServerInfo | None:
    """The recorded server, or None. A corrupt file raises StoreError with the fix."""
    info_file = _paths(db_path)[0]
    if not info_file.exists():
        return None
    try:
        data = json.loads(info_file.read_text())
        return ServerInfo(pid=int(data["pid"]), port=int(data["port"]), data_dir=str(data["data_dir"]),
                          started_at=float(data["started_at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"pid file {info_file} is corrupt ({type(exc).__name__}); run `seilearn db stop` to clear it "
            "(or delete the file), then retry"
        ) from exc


def status(db_path: Path) -> tuple[str, ServerInfo | None]:
    """('running' | 'stopped' | 'stale' | 'not-answering', info)."""
    info = read_info(db_path)
    if info is None:
        return "stopped", None
    if not _alive(info.pid):
        return "stale", info
    return ("running" if _pings(info.port) else "not-answering"), info


@contextlib.contextmanager
def _lock(db_path: Path):
    lock_file = _paths(db_path)[3]
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_running(db_path: Path, port: int = 0, timeout: float = 30.0) -> ServerInfo:
    """Return the running embedded server, starting it (or replacing a stale one) if needed."""
    db_path = Path(db_path).expanduser()
    _check_writable(db_path)
    with _lock(db_path):
        state, info = status(db_path)
        if state == "running" and info is not None:
            return info
        if state == "not-answering" and info is not None:
            # a live process that does not answer: give it a moment (it may be starting up)
            deadline = time.time() + timeout
            while time.time() < deadline and _alive(info.pid):
                if _pings(info.port):
                    return info
                time.sleep(0.2)
            _terminate(info.pid)
        return _start(db_path, port, timeout)


def _port_file(db_path: Path) -> Path:
    return Path(db_path) / "port"


def recorded_port(db_path: Path) -> int | None:
    """The port the embedded server of ``db_path`` listens on, kept across restarts (None before the first)."""
    try:
        return int(_port_file(db_path).read_text().strip())
    except (OSError, ValueError):
        return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no obstacle
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def _choose_port(db_path: Path, port: int, stale: ServerInfo | None) -> int:
    """The configured port, else the recorded one (clients hold URIs naming it), else a free one."""
    want = port or recorded_port(db_path) or (stale.port if stale else 0)
    if not want:
        return _free_port()
    if not _port_free(want):
        how = ("it is set by SEILEARN_DB_PORT / db_port" if port else
               f"clients of this store expect it; delete {_port_file(db_path)} to let seilearn pick a new port "
               "(then restart rockets, web GUI and campaign runners)")
        raise StoreError(f"port {want} of the embedded store in {db_path} is in use by another process (see `ss -ltnp "
                         f"'sport = :{want}'`); stop that process, or set SEILEARN_DB_PORT to a free port; {how}")
    return want


def _start(db_path: Path, port: int, timeout: float) -> ServerInfo:
    info_file, log_file, data_dir, _ = _paths(db_path)
    try:
        stale = read_info(db_path)
    except StoreError:
        stale = None
    port = _choose_port(db_path, port, stale)
    info_file.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [_exe(), "--host", HOST, "--port", str(port), "--storage-path", str(data_dir),
           "--sync-on-commit", "--log-level", "WARNING"]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(  # detached: the server outlives the command that started it
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=str(db_path),
        )
    info = ServerInfo(pid=proc.pid, port=port, data_dir=str(data_dir), started_at=time.time())
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = log_file.read_text(errors="replace")[-400:].strip().splitlines()
            raise StoreError(
                f"embedded database server exited with status {proc.returncode} "
                f"({tail[-1] if tail else 'no log'}); see {log_file}"
            )
        if _pings(port, timeout=0.5):
            for path, text in ((_port_file(db_path), str(port)), (info_file, json.dumps(asdict(info)))):
                tmp = path.with_suffix(".tmp")
                tmp.write_text(text)
                os.replace(tmp, path)
            return info
        time.sleep(0.1)
    _terminate(proc.pid)
    raise StoreError(f"embedded database server did not answer within {timeout:.0f} s; see {log_file}")


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(db_path: Path) -> str:
    """Stop the embedded server; clears stale or corrupt state files. Returns what was done."""
    db_path = Path(db_path).expanduser()
    info_file = _paths(db_path)[0]
    if not db_path.exists():
        return "no embedded server (database directory does not exist)"
    with _lock(db_path):
        try:
            info = read_info(db_path)
        except StoreError:
            info_file.unlink(missing_ok=True)
            return f"removed corrupt pid file {info_file}"
        if info is None:
            return "embedded server is not running"
        if _alive(info.pid):
            _terminate(info.pid)
            info_file.unlink(missing_ok=True)
            return f"stopped embedded server (pid {info.pid}, port {info.port})"
        info_file.unlink(missing_ok=True)
        return f"removed stale pid file (pid {info.pid} was not running)"
