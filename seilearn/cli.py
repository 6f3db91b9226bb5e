"""The ``seilearn`` command: one entry point, subcommands discovered in ``seilearn.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from seilearn import __version__
from seilearn.errors import SeilearnError


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
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.config:
        import os

        os.environ["SEILEARN_CONFIG"] = args.config
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
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
