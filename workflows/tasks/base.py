"""Shared helpers for seilearn FireTasks: context, firework ids, idempotent additions, campaign history."""

from __future__ import annotations

import logging
import time
from typing import Any

from fireworks import FiretaskBase, FWAction, Workflow

from seilearn.store import get_launchpad
from seilearn.store.store import now
from seilearn.workflows.builders import keys_of
from seilearn.workflows.context import TaskContext, task_context

log = logging.getLogger("seilearn.workflow")


class SeilearnTask(FiretaskBase):
    """A seilearn FireTask: a subclass's ``_run(fw_spec) -> FWAction`` does the work; ``run_task`` adds timing to the stored data
    (total wall time and the part spent in science code: the rest is orchestration overhead)."""

    def run_task(self, fw_spec: dict) -> FWAction:
        from seilearn.workflows import engines

        engines.take_engine_seconds()
        t0 = time.perf_counter()
        action = self._run(fw_spec) or FWAction()
        action.stored_data = {**(action.stored_data or {}), "task_s": time.perf_counter() - t0,
                              "engine_s": engines.take_engine_seconds()}
        return action


def context_for(task: Any, fw_spec: dict[str, Any]) -> TaskContext:
    """Task context with the firework and launch ids of the running firework filled in."""
    ctx = task_context(fw_spec, task["campaign_id"])
    key = (fw_spec.get("_seilearn") or {}).get("key")
    if key:
        lp = get_launchpad(ctx.settings)
        fw = lp.fireworks.find_one({"spec._seilearn.campaign_id": ctx.campaign_id, "spec._seilearn.key": key},
                                   {"fw_id": 1, "launches": 1}, sort=[("fw_id", -1)])
        if fw:
            ctx.fw_id = fw["fw_id"]
            launches = fw.get("launches") or []
            ctx.launch_id = launches[-1] if launches else None
    return ctx


def spawn(ctx: TaskContext, wf: Workflow, *, detour: bool = False) -> FWAction:
    """FWAction adding ``wf`` as children (or, with ``detour``, between the running firework and its children),
    unless a rerun already added these steps."""
    lp = get_launchpad(ctx.settings)
    keys = list(keys_of(wf))
    existing = lp.fireworks.count_documents({"spec._seilearn.campaign_id": ctx.campaign_id,
                                             "spec._seilearn.key": {"$in": keys}})
    if existing:
        log.info("steps %s already exist (a rerun); not adding them again", keys[:3])
        return FWAction()
    if ctx.refresh().get("state") == "paused":
        for fw in wf.fws:
            fw.state = "PAUSED"
    return FWAction(detours=[wf]) if detour else FWAction(additions=[wf])


def record_iteration(ctx: TaskContext, iteration: int, **fields: Any) -> None:
    """Set fields of the campaign's history entry for ``iteration`` (created on first use)."""
    coll = ctx.store.campaigns
    cid = ctx.campaign_id
    coll.update_one({"campaign_id": cid, "history.iteration": {"$ne": iteration}},
                    {"$push": {"history": {"iteration": iteration, "at": now()}}})
    coll.update_one({"campaign_id": cid, "history.iteration": iteration},
                    {"$set": {**{f"history.$.{k}": v for k, v in fields.items()}, "updated_at": now()}})
