"""``seilearn lpad|rlaunch|qlaunch ...``: FireWorks' own commands on our LaunchPad.

The stock scripts build a stock LaunchPad, whose id allocation is unsafe on SecantusDB
(docs/operations.md). These wrappers point them at the configured store and swap in
``SeilearnLaunchPad``; every argument after the command name goes to FireWorks unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    for name, text in (
        ("lpad", "FireWorks' lpad on the seilearn store (e.g. `seilearn lpad get_wflows -d less`)"),
        ("rlaunch", "FireWorks' rlaunch on the seilearn store (e.g. `seilearn rlaunch rapidfire`)"),
        ("qlaunch", "FireWorks' qlaunch on the seilearn store (submits `seilearn rlaunch` jobs)"),
    ):
        p = sub.add_parser(name, help=text, description=text, add_help=False)
        p.add_argument("fw_args", nargs=argparse.REMAINDER)
        p.set_defaults(func=lambda args, n=name: run_fireworks_script(n, args.fw_args))


def launchpad_file() -> str:
    """The launchpad YAML of the current settings, written only when its content changes.

    Queue jobs start together: a file truncated and rewritten by every command was read empty by its
    neighbours. The file is replaced atomically (private temp file + rename) and left alone when equal.
    """
    from seilearn.config import load_settings
    from seilearn.store import get_launchpad

    s = load_settings()
    path = s.home / "my_launchpad.yaml"
    write_private_if_changed(path, get_launchpad(s).to_format("yaml"))
    return str(path)


def write_private_if_changed(path: Path, text: str) -> bool:
    """Atomically replace ``path`` (mode 0600: it may hold a password) unless it already holds ``text``."""
    try:
        if path.read_text() == text:
            return False
    except OSError:
        pass
    from seilearn.fileio import atomic_write

    with atomic_write(path) as handle:  # its temp file is created 0600 and renamed into place
        handle.write(text)
    return True


def patch_fireworks_launchpad() -> None:
    """Make every FireWorks entry point in this process construct our LaunchPad."""
    import fireworks.core.launchpad as core
    from fireworks.scripts import lpad_run, qlaunch_run, rlaunch_run

    from seilearn.store.launchpad import SeilearnLaunchPad

    for module in (core, lpad_run, rlaunch_run, qlaunch_run):
        if hasattr(module, "LaunchPad"):
            module.LaunchPad = SeilearnLaunchPad
    import fireworks

    fireworks.LaunchPad = SeilearnLaunchPad


def run_fireworks_script(name: str, fw_args: list[str]) -> int:
    from fireworks.scripts import lpad_run, qlaunch_run, rlaunch_run

    patch_fireworks_launchpad()
    entry = {"lpad": lpad_run.lpad, "rlaunch": rlaunch_run.rlaunch, "qlaunch": qlaunch_run.qlaunch}[name]
    args = list(fw_args)
    if not any(a in ("-l", "--launchpad_file") for a in args) and not any(a in ("-h", "--help") for a in args[:1]):
        args = ["-l", launchpad_file(), *args]
    old_argv = sys.argv
    sys.argv = [name, *args]
    try:
        rc = entry()
    except SystemExit as exc:  # argparse inside FireWorks
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
    return int(rc or 0)
