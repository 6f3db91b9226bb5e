"""The store: MongoDB connection (embedded SecantusDB by default), FireWorks LaunchPad, training-set schema."""

from seilearn.store.connection import get_client, open_database, resolve_uri
from seilearn.store.launchpad import SeilearnLaunchPad, get_launchpad
from seilearn.store.store import Store

__all__ = ["Store", "SeilearnLaunchPad", "get_client", "get_launchpad", "open_database", "resolve_uri"]
