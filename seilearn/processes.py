"""Process liveness checks shared by the embedded server and the local rocket registry."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def pid_alive(pid: int, cmdline_contains: bytes | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when given, its command line contains the marker
    (a pid recycled by an unrelated process after a crash or reboot is then not mistaken for ours)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        if stat.read_text().split(") ", 1)[1].startswith("Z"):
            return False
    if cmdline_contains is not None:
        with contextlib.suppress(OSError):
            return cmdline_contains in Path(f"/proc/{pid}/cmdline").read_bytes()
    return True
