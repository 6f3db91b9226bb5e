"""Exception types whose message is shown to the user as one line (no traceback)."""


class SeilearnError(Exception):
    """An error the user can fix; the message names the bad input and the fix."""


class ConfigError(SeilearnError):
    """Invalid settings (file or SEILEARN_* environment)."""


class StoreError(SeilearnError):
    """The database cannot be reached or used."""


class EmptyStoreError(StoreError):
    """A read command met a store with nothing in it yet: a normal first contact, not a failure (exit 0)."""


class InputError(SeilearnError):
    """A malformed input file or argument."""
