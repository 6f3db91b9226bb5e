"""Retries across a store outage (issue 15, finding 2): a lost reply never claims a second firework."""

from __future__ import annotations

import pymongo
import pytest
from pymongo.errors import AutoReconnect

from seilearn.errors import StoreError
from seilearn.store.resilience import CLAIM, Reconnector, RetryingCollection


class _LosesFirstReply:
    """A real collection whose first call of ``method`` is applied, then reported lost (AutoReconnect)."""

    def __init__(self, collection, method: str) -> None:
        self._collection, self._method, self.lost = collection, method, 0

    def __getattr__(self, name):
        real = getattr(self._collection, name)
        if name != self._method or self.lost:
            return real

        def applied_then_lost(*a, **kw):
            real(*a, **kw)
            self.lost += 1
            raise AutoReconnect("connection closed")

        return applied_then_lost


@pytest.fixture
def coll(mongo_uri, db_name):
    client = pymongo.MongoClient(mongo_uri)
    c = client[db_name]["fireworks"]
    c.insert_many([{"fw_id": i, "state": "READY"} for i in range(1, 4)])
    yield c
    client.close()


def test_lost_checkout_reply_claims_one_firework_only(coll):
    flaky = _LosesFirstReply(coll, "find_one_and_update")
    wrapped = RetryingCollection(flaky, Reconnector("mongodb://test", retry_for_s=10))
    got = wrapped.find_one_and_update({"state": "READY"}, {"$set": {"state": "RESERVED"}}, sort=[("fw_id", 1)])
    assert flaky.lost == 1 and got["fw_id"] == 1 and CLAIM not in got
    assert sorted(d["fw_id"] for d in coll.find({"state": "RESERVED"})) == [1]


def test_lost_insert_reply_is_not_a_duplicate_key_error(coll):
    coll.create_index("fw_id", unique=True)
    wrapped = RetryingCollection(_LosesFirstReply(coll, "insert_one"), Reconnector("mongodb://test", retry_for_s=10))
    wrapped.insert_one({"fw_id": 9, "state": "WAITING"})
    assert coll.count_documents({"fw_id": 9}) == 1


def test_cursor_chain_is_replayed(coll):
    wrapped = RetryingCollection(coll, Reconnector("mongodb://test"))
    assert [d["fw_id"] for d in wrapped.find({}, {"fw_id": 1}).sort("fw_id", -1).limit(2)] == [3, 2]
    assert wrapped.find({"fw_id": 2}).distinct("state") == ["READY"]


def test_gives_up_with_a_clear_message():
    calls = []

    def down():
        calls.append(1)
        raise AutoReconnect("refused")

    with pytest.raises(StoreError, match=r"did not answer for .*seilearn db start"):
        Reconnector("mongodb://127.0.0.1:1", retry_for_s=0.5).call(down)
    assert len(calls) >= 2
