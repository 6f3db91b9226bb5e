"""The ``seilearn`` command: one entry point, subcommands discovered in ``seilearn.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

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


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="seilearn",
        description="Active learning of moment tensor potentials for Li-metal/Li6PS5Cl SEI growth.",
    )
    parser.add_argument("--version", action="version", version=f"seilearn {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    parser.add_argument("--config", help="settings file (default: $SEILEARN_CONFIG or ~/.seilearn/config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import seilearn.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"seilearn.commands.{info.name}")
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
    parser = build_parser()
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
