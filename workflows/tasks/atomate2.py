"""Labelling with atomate2-vasp inside the campaign's workflow.

The labelling firework of a batch (:class:`Atomate2SubmitTask`) adds, as a detour (so the next training waits
for it), one atomate2 VASP static job per unlabelled configuration, converted to fireworks by jobflow's
``flow_to_workflow`` on the ``dft`` category, and a collecting firework after them
(:class:`Atomate2CollectTask`) that turns each finished ``TaskDoc`` into our label. A run that failed or did
not converge gets the next detour (the same pair of steps with the detour's INCAR) or, out of detours, is
quarantined: a non-ok label record with every attempt's reason, never an ok label.

Rerunning any of these fireworks adds nothing twice: the jobs have deterministic uuids and the fireworks
deterministic ``_seilearn`` keys, both checked before anything is added; a VASP firework whose task document
already exists exits before running VASP (:class:`TaskDocExistsTask`); labels are idempotent per
configuration, labeller settings and job.
"""

from __future__ import annotations

import time
from typing import Any

from fireworks import FiretaskBase, FWAction, Workflow, explicit_serialize

from seilearn.workflows import engines
from seilearn.workflows.context import TaskContext
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, spawn
from seilearn.workflows.tasks.label import record_label_provenance

PRIORITY = 10


def _unlabelled(ctx: TaskContext, config_ids: list[str], settings: dict[str, Any]) -> list[str]:
    docs = {d["config_id"]: d for d in ctx.store.configurations.find({"config_id": {"$in": config_ids}},
                                                                      {"config_id": 1, "labels": 1})}
    return [cid for cid in config_ids
            if not any(lab.get("labeller") == settings for lab in docs[cid].get("labels", []))]


def _atoms(ctx: TaskContext, config_ids: list[str]) -> list:
    """Structures of ``config_ids``, with the cutter's odd-electron flag where the configuration is a cut."""
    atoms = ctx.store.get_atoms(config_ids)
    sources = {d["config_id"]: d.get("source", {}) for d in ctx.store.configurations.find(
        {"config_id": {"$in": config_ids}}, {"config_id": 1, "source": 1})}
    for cid, a in zip(config_ids, atoms):
        cut = sources[cid].get("cut") or {}
        if cut.get("odd_electrons"):
            a.info["odd_electrons"] = True
    return atoms


def attempt_workflow(ctx: TaskContext, lab, job_id: str, config_ids: list[str], attempt: int) -> Workflow:
    """Attempt ``attempt`` of ``config_ids``: their atomate2 jobs as fireworks (``flow_to_workflow``) on the dft
    category, then the collecting firework (which runs even when a VASP firework failed)."""
    from jobflow.managers.fireworks import flow_to_workflow

    from seilearn.workflows.builders import _fw

    cid = ctx.campaign_id
    dft = ctx.spec.queues["dft"]
    jobs, keys = [], []
    for config_id, atoms in zip(config_ids, _atoms(ctx, config_ids)):
        jobs.append(lab.make_job(atoms, f"{job_id}:{config_id}", attempt))
        keys.append(f"a2:{job_id}:{config_id}:try{attempt}")
    vasp = flow_to_workflow(jobs, store=lab.store())
    for fw, key, job in zip(vasp.fws, keys, jobs):
        fw.tasks.insert(0, TaskDocExistsTask(uuid=job.uuid, collection_prefix=lab.collection_prefix))
        fw.spec.update({"_seilearn": {"campaign_id": cid, "key": key, "kind": "dft"}, "_category": dft,
                        "_priority": PRIORITY})
        fw.name = f"{cid}:{job.name}"
        if lab.workdir:  # a relative workdir is under the campaign's results directory
            fw.spec["_launch_dir"] = str(ctx.results_dir() / lab.workdir / job_id / f"{key.split(':')[2]}-try{attempt}")
    collect = _fw(Atomate2CollectTask(campaign_id=cid, job_id=job_id, config_ids=config_ids, attempt=attempt),
                  cid, f"a2collect:{job_id}:try{attempt}", "label", dft, f"collect {job_id} try{attempt}", PRIORITY)
    collect.spec["_allow_fizzled_parents"] = True
    return Workflow([*vasp.fws, collect], links_dict={fw.fw_id: [collect.fw_id] for fw in vasp.fws})


def detour(ctx, wf: Workflow) -> FWAction:
    """FWAction inserting ``wf`` between the running firework and its children, unless a rerun already did."""
    return spawn(ctx, wf, detour=True)


@explicit_serialize
class Atomate2SubmitTask(SeilearnTask):
    """Labelling firework of a batch with the atomate2-vasp labeller: adds the atomate2 jobs of the
    configurations not yet labelled with these settings, and their collection."""

    required_params = ["campaign_id", "job_id", "config_ids"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        lab = engines.labeller(ctx.spec)
        settings = engines.labeller_record(lab)
        todo = _unlabelled(ctx, list(self["config_ids"]), settings)
        ctx.store.record_labelling_job(self["job_id"], campaign_id=ctx.campaign_id, config_ids=self["config_ids"],
                                       labeller=settings, status="running" if todo else "done", fw_id=ctx.fw_id,
                                       backend="atomate2", reused=len(self["config_ids"]) - len(todo))
        if not todo:
            return FWAction(stored_data={"reused": len(self["config_ids"])})
        log.info("labelling job %s: %d atomate2 VASP job(s)", self["job_id"], len(todo))
        return detour(ctx, attempt_workflow(ctx, lab, self["job_id"], todo, 0))


@explicit_serialize
class Atomate2CollectTask(SeilearnTask):
    """Our labels from the task documents of attempt ``attempt``; the next detour for runs that failed or
    did not converge, quarantine when none is left."""

    required_params = ["campaign_id", "job_id", "config_ids", "attempt"]

    def _run(self, fw_spec: dict) -> FWAction:
        from seilearn.labelling.atomate2_vasp import outcome

        ctx = context_for(self, fw_spec)
        lab = engines.labeller(ctx.spec)
        settings = engines.labeller_record(lab)
        job_id, attempt = self["job_id"], int(self["attempt"])
        store = lab.store()
        store.connect()
        t0 = time.time()
        todo = _unlabelled(ctx, list(self["config_ids"]), settings)
        counts = {"ok": 0, "scf_unconverged": 0, "failed": 0, "reused": len(self["config_ids"]) - len(todo)}
        retry, quarantined = [], []
        for config_id, atoms in zip(todo, ctx.store.get_atoms(todo)):
            res = outcome(lab, store, atoms, f"{job_id}:{config_id}", attempt)
            if res is None:
                retry.append(config_id)
                continue
            label_id, _ = ctx.store.add_label(
                config_id, status=res.status, reason=res.reason, energy=res.energy, forces=res.forces,
                stress=res.stress, labeller=settings, job_id=job_id, fw_id=ctx.fw_id, launch_id=ctx.launch_id,
                wall_s=res.wall_time)
            record_label_provenance(ctx.store, config_id, label_id,
                                    {"task_document": {**res.provenance, "store": lab.settings()["job_store"]}})
            counts[res.status] += 1
            if not res.ok:
                quarantined.append(config_id)
        ctx.store.record_labelling_job(job_id, **{f"attempts.try{attempt}": {"counts": counts, "retry": retry,
                                                                          "wall_s": time.time() - t0}},
                                       status="detour" if retry else "done")
        if quarantined:
            ctx.store.labelling_jobs.update_one({"job_id": job_id},
                                                {"$addToSet": {"quarantined": {"$each": quarantined}}})
        log.info("labelling job %s try%d: %s; %d to the next detour", job_id, attempt, counts, len(retry))
        if retry:
            return detour(ctx, attempt_workflow(ctx, lab, job_id, retry, attempt + 1))
        return FWAction(stored_data={"counts": counts})


@explicit_serialize
class TaskDocExistsTask(FiretaskBase):
    """First task of each atomate2 VASP firework: when the job's task document is already in the JobStore
    (the firework is being rerun after it finished), skip the VASP run instead of repeating it."""

    required_params = ["uuid", "collection_prefix"]

    def run_task(self, fw_spec: dict) -> FWAction:
        from seilearn.labelling.atomate2_vasp import job_store

        store = job_store(self["collection_prefix"])
        store.connect()
        if store.query_one({"uuid": self["uuid"]}, properties=["uuid"]) is not None:
            log.info("task document %s exists (a rerun); not running VASP again", self["uuid"])
            return FWAction(exit=True, stored_data={"reused_task_document": self["uuid"]})
        return FWAction()

