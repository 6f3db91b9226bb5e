"""The ``seilearn`` command: one entry point, subcommands discovered in ``seilearn.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import sys
from pathlib import Path

from seilearn import __version__
from seilearn.errors import EmptyStoreError, SeilearnError

FIREWORKS_SCRIPTS = ("lpad", "rlaunch", "qlaunch")


def command_group(subparsers: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """Return the sub-subparsers of group ``name`` (e.g. ``seilearn mtp ...``), creating it once.

    Lets several command modules add subcommands to one group without editing a shared file.
    """
    groups = subparsers.__dict__.setdefault("_seilearn_groups", {})
    if name not in groups:
        parser = subparsers.add_parser(name, help=help, description=help)
        groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
        parser.set_defaults(func=lambda args, p=parser: (p.print_help(), 2)[1])
    return groups[name]


_REGISTERS = re.compile(r"""(?:add_parser|command_group)\(\s*(?:\w+\s*,\s*)?["']([\w-]+)["']""")


def _modules_for(command: str, names: list[str], folder: str) -> list[str] | None:
    """The command modules whose source registers a parser or group named ``command``, or None (then all):
    a command needs only its own modules imported, not every other command's dependencies (start-up time)."""
    found = []
    for name in names:
        try:
            text = (Path(folder) / f"{name}.py").read_text()
        except OSError:
            return None
        if command in _REGISTERS.findall(text):
            found.append(name)
    return found or None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with the discovered subcommands: all of them, or with ``argv`` only those
    of its command (when the command's name is found in the modules' source)."""
    parser = argparse.ArgumentParser(
        prog="seilearn",
        description="Active learning of moment tensor potentials for Li-metal/Li6PS5Cl SEI growth.",
    )
    parser.add_argument("--version", action="version", version=f"seilearn {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    parser.add_argument("--config", help="settings file (default: $SEILEARN_CONFIG or ~/.seilearn/config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import seilearn.commands as pkg

    names = [info.name for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)]
    if argv and not argv[0].startswith("-"):
        names = _modules_for(argv[0], names, pkg.__path__[0]) or names
    for name in names:
        module = importlib.import_module(f"seilearn.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one line and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in FIREWORKS_SCRIPTS:
        # FireWorks' own option syntax goes through untouched (argparse would claim its -l, -s, ...)
        from seilearn.commands.fireworks_tools import run_fireworks_script

        try:
            return run_fireworks_script(argv[0], argv[1:])
        except SeilearnError as exc:
            print(f"seilearn: error: {exc}", file=sys.stderr)
            return 2
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    # the handler filters too: FireWorks' loggers are set to DEBUG and propagate to the root logger
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if args.config:
        import os

        os.environ["SEILEARN_CONFIG"] = args.config
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except EmptyStoreError as exc:
        print(exc)
        return 0
    except SeilearnError as exc:
        if args.verbose:
            raise
        print(f"seilearn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seilearn: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
