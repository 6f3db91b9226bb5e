"""ExploreTask: one grade-monitored MD run with the current potential; preselected frames go to GridFS."""

from __future__ import annotations

import hashlib
import time

from fireworks import FWAction, explicit_serialize

from seilearn.errors import SeilearnError
from seilearn.workflows import engines
from seilearn.workflows.spec import ExplorationRun
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log

FINISHED = ("completed", "stopped_at_break", "unphysical")


@explicit_serialize
class ExploreTask(SeilearnTask):
    """Run exploration ``run`` (structure, T, P, steps) of ``iteration`` at threshold ``stage``."""

    required_params = ["campaign_id", "run_id", "iteration", "stage", "potential_id", "run"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        run_id, run, stage = self["run_id"], ExplorationRun.from_dict(self["run"], "run"), int(self["stage"])
        done = ctx.store.exploration_runs.find_one({"run_id": run_id, "status": {"$in": list(FINISHED)}})
        if done:
            return FWAction(stored_data={"status": done["status"], "reused": True})
        save, brk = ctx.spec.thresholds.save, ctx.spec.thresholds.break_at(stage)
        common = {"campaign_id": ctx.campaign_id, "iteration": self["iteration"], "stage": stage,
                  "potential_id": self["potential_id"], "active_set_id": self["potential_id"],
                  "threshold_save": save, "threshold_break": brk, "fw_id": ctx.fw_id, **run.to_dict()}
        ctx.store.record_exploration_run(run_id, status="running", **common)
        pot = ctx.store.get_potential(self["potential_id"])
        mtp_text = ctx.store.get_file(pot["files"]["mtp"]).decode()
        almtp = ctx.store.get_file(pot["files"]["almtp"])
        seed = int(hashlib.sha256(run_id.encode()).hexdigest()[:8], 16)
        t0 = time.time()
        workdir = ctx.results_dir("exploration", run_id) if run.engine == "lammps" else None
        worker_command = (fw_spec.get("_fw_env") or {}).get("lammps_command")  # the worker's wins over the spec's
        try:
            result, frames = engines.explore(ctx.spec, run, mtp_text, almtp, save=save, brk=brk, seed=seed,
                                             workdir=workdir, worker_command=worker_command)
        except SeilearnError as exc:  # recorded with its reason (no frame stored); the firework fails visibly
            ctx.store.record_exploration_run(run_id, **common, status="failed", reason=str(exc))
            raise
        file_id = engines.put_frames(ctx.store, frames, f"{run_id}.preselected.extxyz", run_id=run_id) if frames else None
        ctx.store.record_exploration_run(run_id, **{**common, **result}, n_preselected=len(frames),
                                         preselected_file=file_id, wall_s=time.time() - t0)
        log.info("exploration %s: %s, %d preselected, max grade %.2f", run_id, result.get("status"), len(frames),
                 result.get("max_grade") or 0.0)
        return FWAction(stored_data={"status": result.get("status"), "n_preselected": len(frames)})
