"""LabelTask: label a batch of configurations; failures are recorded (quarantined), successes kept."""

from __future__ import annotations

import time

from fireworks import FWAction, explicit_serialize

from seilearn.workflows import engines
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log


def record_label_provenance(store, config_id: str, label_id: str, fields: dict) -> None:
    """Add ``fields`` (e.g. the atomate2 task document a label was made from) to a stored label; idempotent."""
    from seilearn.store.store import _jsonable

    store.configurations.update_one({"config_id": config_id, "labels.label_id": label_id},
                                    {"$set": {f"labels.$.{k}": _jsonable(v) for k, v in fields.items()}})


@explicit_serialize
class LabelTask(SeilearnTask):
    """Label ``config_ids`` with the campaign's labeller. Labels already computed with the same labeller
    and settings are reused, so a rerun after a crash labels only what is missing."""

    required_params = ["campaign_id", "job_id", "config_ids"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        labeller = engines.labeller(ctx.spec)
        settings = engines.labeller_record(labeller)
        docs = {d["config_id"]: d for d in ctx.store.configurations.find({"config_id": {"$in": self["config_ids"]}})}
        todo = []
        for cid in self["config_ids"]:
            done = [lab for lab in docs[cid].get("labels", [])
                    if lab.get("status") in ("ok", "scf_unconverged", "failed") and lab.get("labeller") == settings]
            if not done:
                todo.append(cid)
        ctx.store.record_labelling_job(self["job_id"], campaign_id=ctx.campaign_id, config_ids=self["config_ids"],
                                       labeller=settings, status="running", fw_id=ctx.fw_id)
        t0 = time.time()
        counts = {"ok": 0, "scf_unconverged": 0, "failed": 0, "reused": len(self["config_ids"]) - len(todo)}
        if todo:
            atoms_list = ctx.store.get_atoms(todo)
            results = engines.label(labeller, atoms_list)
            for cid, res in zip(todo, results):
                label_id, _ = ctx.store.add_label(
                    cid, status=res.status, reason=res.reason, energy=res.energy, forces=res.forces,
                    stress=res.stress, labeller=settings, job_id=self["job_id"], fw_id=ctx.fw_id,
                    launch_id=ctx.launch_id, wall_s=getattr(res, "wall_time", None))
                if res.provenance:
                    record_label_provenance(ctx.store, cid, label_id, {"labelled_from": res.provenance})
                counts[res.status] += 1
        ctx.store.record_labelling_job(self["job_id"], status="done", counts=counts, wall_s=time.time() - t0)
        log.info("labelling job %s: %s", self["job_id"], counts)
        return FWAction(stored_data={"counts": counts})
