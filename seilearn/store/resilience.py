"""Long-lived clients survive a store restart: collection calls retried with bounded back-off.

A rocket, the web GUI, the campaign runner and the local launcher hold one client for hours. When the
store goes away (kill -9, OOM, a reboot of the database host) their next call fails with a
``ConnectionFailure``. Here that call is retried: the embedded server is restarted on its recorded port
(one process does it, under the server's lock), pymongo reconnects to the same address, and the call
is repeated, for at most ``RETRY_FOR_S`` seconds; then a StoreError says what to do.

A repeated write must not apply twice. Updates that ``$set`` are idempotent; FireWorks' two claims
(a checkout, READY -> RESERVED, and a workflow lock) carry a one-off claim token so a retry after a
lost reply finds the document it already claimed instead of claiming a second one;
an insert that reports a duplicate key on a retry had been applied before the failure.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from pymongo.errors import ConnectionFailure, DuplicateKeyError

from seilearn.config import mask_uri
from seilearn.errors import StoreError

log = logging.getLogger("seilearn.store")

RETRY_FOR_S = 120.0
CLAIM = "_sl_claim"
_CALLS = frozenset({
    "find_one", "find_one_and_replace", "find_one_and_delete", "insert_one", "insert_many", "update_one",
    "update_many", "replace_one", "delete_one", "delete_many", "count_documents", "estimated_document_count",
    "distinct", "bulk_write", "create_index", "create_indexes", "drop_index", "index_information",
})
_CHAIN = frozenset({"sort", "limit", "skip", "batch_size", "hint", "max_time_ms", "collation", "comment",
                    "allow_disk_use", "where", "max", "min", "max_await_time_ms"})


class Reconnector:
    """Retries one store call across an outage; restarts the embedded server when it is the one gone."""

    def __init__(self, uri: str, restart: Callable[[], None] | None = None, retry_for_s: float = RETRY_FOR_S) -> None:
        self.uri = uri
        self.restart = restart
        self.retry_for_s = retry_for_s

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, retried on connection failures for at most ``retry_for_s`` seconds."""
        return self.call_checked(lambda attempt: fn(*args, **kwargs))

    def call_checked(self, attempt_fn: Callable[[int], Any]) -> Any:
        """Like ``call`` but the function gets the attempt number (0 first) to check an earlier attempt."""
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                return attempt_fn(attempt)
            except ConnectionFailure as exc:
                waited = time.monotonic() - start
                if waited >= self.retry_for_s:
                    raise StoreError(
                        f"the store at {mask_uri(self.uri)} did not answer for {waited:.0f} s "
                        f"({type(exc).__name__}); start it (`seilearn db start`, or your MongoDB) and run the "
                        "command again; fireworks left RUNNING are rerun by `seilearn launch local` or "
                        "`seilearn lpad detect_lostruns --rerun`") from exc
                attempt += 1
                log.warning("store at %s unreachable (%s); reconnecting, attempt %d (giving up after %.0f s)",
                            mask_uri(self.uri), type(exc).__name__, attempt, self.retry_for_s)
                if self.restart is not None:
                    try:
                        self.restart()
                    except StoreError as err:  # e.g. its port taken: keep trying until the deadline, then say so
                        log.warning("%s", err)
                time.sleep(min(0.25 * 2 ** min(attempt, 5), 5.0))


def _is_claim(update: Any) -> bool:
    """FireWorks' two claims: a checkout (state -> RESERVED) and a workflow lock (locked -> True)."""
    fields = update.get("$set") if isinstance(update, dict) else None
    return isinstance(fields, dict) and (fields.get("state") == "RESERVED" or fields.get("locked") is True)


class RetryingCollection:
    """A pymongo Collection whose calls survive a store restart (see the module docstring)."""

    def __init__(self, collection: Any, reconnector: Reconnector) -> None:
        self._collection = collection
        self._reconnector = reconnector

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name in _CALLS:
            if name in ("insert_one", "insert_many"):
                return lambda *a, **kw: self._insert(attr, *a, **kw)
            return lambda *a, **kw: self._reconnector.call(attr, *a, **kw)
        return attr

    def __getitem__(self, name: str) -> Any:
        return self._collection[name]

    def __eq__(self, other: object) -> bool:
        return self._collection == getattr(other, "_collection", other)

    def __hash__(self) -> int:
        return hash(self._collection)

    @property
    def raw(self) -> Any:
        """The wrapped pymongo Collection."""
        return self._collection

    def _insert(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def once(attempt: int) -> Any:
            try:
                return fn(*args, **kwargs)
            except DuplicateKeyError:
                if attempt == 0:
                    raise
                return None  # the attempt before the outage had been applied

        return self._reconnector.call_checked(once)

    def find_one_and_update(self, filter: Any, update: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if not _is_claim(update):
            return self._reconnector.call(self._collection.find_one_and_update, filter, update, *args, **kwargs)
        token = uuid.uuid4().hex
        tagged = {**update, "$set": {**update["$set"], CLAIM: token}}

        def once(attempt: int) -> Any:
            done = self._collection.find_one({CLAIM: token}) if attempt else None
            if done is None:
                done = self._collection.find_one_and_update(filter, tagged, *args, **kwargs)
            if isinstance(done, dict):
                done.pop(CLAIM, None)
            return done

        return self._reconnector.call_checked(once)

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._collection, self._reconnector, args, kwargs)

    def aggregate(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._collection, self._reconnector, args, kwargs, method="aggregate")


class _Cursor:
    """A find/aggregate cursor run (with retries) when first read; chained modifiers are replayed."""

    def __init__(self, collection: Any, reconnector: Reconnector, args: tuple, kwargs: dict,
                 method: str = "find") -> None:
        self._collection = collection
        self._reconnector = reconnector
        self._args, self._kwargs, self._method = args, kwargs, method
        self._chain: list[tuple[str, tuple, dict]] = []
        self._docs: list | None = None
        self._pos = 0

    def _build(self) -> Any:
        cursor = getattr(self._collection, self._method)(*self._args, **self._kwargs)
        for name, a, kw in self._chain:
            cursor = getattr(cursor, name)(*a, **kw)
        return cursor

    def _load(self) -> list:
        if self._docs is None:
            self._docs = self._reconnector.call(lambda: list(self._build()))
        return self._docs

    def __getattr__(self, name: str) -> Any:
        if name in _CHAIN:
            def chained(*a: Any, **kw: Any) -> _Cursor:
                self._chain.append((name, a, kw))
                return self
            return chained
        if name == "distinct":
            return lambda *a, **kw: self._reconnector.call(lambda: self._build().distinct(*a, **kw))
        if name == "explain":
            return lambda: self._reconnector.call(lambda: self._build().explain())
        raise AttributeError(name)

    def __iter__(self) -> _Cursor:
        return self

    def __next__(self) -> Any:
        docs = self._load()
        if self._pos >= len(docs):
            raise StopIteration
        self._pos += 1
        return docs[self._pos - 1]

    next = __next__

    def __getitem__(self, index: int) -> Any:
        return self._load()[index]

    def to_list(self, length: int | None = None) -> list:
        docs = self._load()[self._pos:]
        self._pos = len(self._docs or [])
        return docs if length is None else docs[:length]

    def rewind(self) -> _Cursor:
        self._pos = 0
        return self

    def clone(self) -> _Cursor:
        other = _Cursor(self._collection, self._reconnector, self._args, self._kwargs, self._method)
        other._chain = list(self._chain)
        return other

    def close(self) -> None:
        self._pos = len(self._docs or [])

    @property
    def alive(self) -> bool:
        return self._docs is None or self._pos < len(self._docs)

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
