"""CLI subcommand modules.

Every module here defines ``register(subparsers)``, adding its parsers with
``set_defaults(func=handler)``; ``handler(args) -> int | None``. ``seilearn.cli``
discovers them, so adding a command never touches a shared file.
"""
