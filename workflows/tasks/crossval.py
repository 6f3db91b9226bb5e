"""CrossValTask: one fold of a potential's k-fold cross-validation, run beside the next exploration.

Each fold refits the potential's exact training set without its test part; the fold's errors go to the
potential's record, and the task that completes the last fold writes the summary into its metrics (the
paper's 10-fold check). Rerunning a fold replaces its own entry, never adds one.
"""

from __future__ import annotations

from fireworks import FWAction, explicit_serialize

from seilearn.workflows import engines
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log


@explicit_serialize
class CrossValTask(SeilearnTask):
    required_params = ["campaign_id", "potential_id", "fold", "seed"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        pid, fold = self["potential_id"], int(self["fold"])
        pot = ctx.store.get_potential(pid)
        done = (pot.get("cv_folds") or {}).get(str(fold))
        if done is None:
            ids = [t["config_id"] for t in pot["training_set"]]
            res = engines.cv_fold(ctx.spec, ctx.store.get_atoms(ids), fold, seed=int(self["seed"]))
            ctx.store.potentials.update_one({"potential_id": pid}, {"$set": {f"cv_folds.{fold}": res}})
            log.info("cross-validation of %s, fold %d: test %s", pid, fold, res.get("test"))
        folds = (ctx.store.get_potential(pid).get("cv_folds") or {})
        if len(folds) == ctx.spec.mtp.cv_folds:
            summary = engines.cv_summary(list(folds.values()))
            ctx.store.potentials.update_one({"potential_id": pid}, {"$set": {"metrics.cv": summary}})
        return FWAction(stored_data={"fold": fold})
