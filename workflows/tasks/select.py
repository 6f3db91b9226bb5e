"""SelectTask: pool the iteration's preselected frames, run one select_add, and decide what comes next:
label + retrain, the same stage again, the next (lower) break threshold, or production."""

from __future__ import annotations

from typing import Any

from fireworks import FWAction, explicit_serialize

from seilearn.store.hashing import structure_hash
from seilearn.workflows import engines
from seilearn.workflows.builders import iteration_workflow, label_then, production_workflow, train_fw
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, record_iteration, spawn
from seilearn.workflows.tasks.train import training_pairs


def decide(history: list[dict[str, Any]], iteration: int, stage: int, n_selected: int, n_stages: int,
           converge_after: int, max_iterations: int) -> tuple[str, int]:
    """(decision, next stage). A stage converges after ``converge_after`` consecutive iterations that select
    nothing; the last stage converging ends active learning."""
    if n_selected:
        decision, nxt = "label", stage
    else:
        streak = 1
        for entry in sorted((h for h in history if h.get("iteration", -1) < iteration),
                            key=lambda h: h["iteration"], reverse=True):
            if entry.get("stage") != stage or entry.get("n_selected") is None or entry["n_selected"] > 0:
                break
            streak += 1
        if streak < converge_after:
            decision, nxt = "repeat_stage", stage
        elif stage + 1 < n_stages:
            decision, nxt = "next_stage", stage + 1
        else:
            return "converged", stage
    if iteration + 1 >= max_iterations:
        return "max_iterations", nxt
    return decision, nxt


@explicit_serialize
class SelectTask(SeilearnTask):
    required_params = ["campaign_id", "iteration", "stage", "potential_id", "run_ids"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        it, stage, pid = int(self["iteration"]), int(self["stage"]), self["potential_id"]
        spec = ctx.spec
        runs = list(ctx.store.exploration_runs.find({"run_id": {"$in": self["run_ids"]}}))
        pool, seen = [], set()
        n_pre = 0
        for run in sorted(runs, key=lambda r: r["run_id"]):
            if not run.get("preselected_file"):
                continue
            for frame in engines.get_frames(ctx.store, run["preselected_file"]):
                n_pre += 1
                h = structure_hash(frame)
                if h in seen:
                    continue
                known = ctx.store.configurations.find_one({"hash": h}, {"source": 1})
                # a frame stored by an interrupted earlier run of this very task stays in the pool, so a
                # rerun selects exactly what the first run did
                if known and not (known["source"].get("campaign_id") == ctx.campaign_id
                                  and known["source"].get("iteration") == it
                                  and known["source"].get("kind") == "exploration"):
                    continue
                seen.add(h)
                frame.info["source"] = {
                    "kind": "exploration", "campaign_id": ctx.campaign_id, "iteration": it,
                    "exploration_run_id": run["run_id"], "md_step": frame.info.get("md_step"),
                    "time_fs": frame.info.get("time_fs"), "temperature_K": run.get("temperature_K"),
                    "pressure_bar": run.get("pressure_bar"), "structure": run.get("structure"), "stage": stage,
                    "threshold_save": run.get("threshold_save"), "threshold_break": run.get("threshold_break"),
                    "grade": frame.info.get("grade"), "potential_id": pid, "active_set_id": pid}
                pool.append(frame)
        selected_ids: list[str] = []
        if pool:
            pot = ctx.store.get_potential(pid)
            mtp_text = ctx.store.get_file(pot["files"]["mtp"]).decode()
            train_atoms = ctx.store.get_atoms([c for c, _ in training_pairs(ctx)])
            chosen = engines.select(spec, mtp_text, ctx.store.get_file(pot["files"]["almtp"]), train_atoms, pool)
            for idx in chosen:
                cid, _ = ctx.store.add_configuration(pool[idx], pool[idx].info["source"], fw_id=ctx.fw_id,
                                                     launch_id=ctx.launch_id)
                selected_ids.append(cid)
        campaign = ctx.refresh()
        decision, nxt = decide(campaign.get("history", []), it, stage, len(selected_ids), len(spec.thresholds["breaks"]),
                               spec.thresholds["converge_after"], spec.max_iterations)
        record_iteration(ctx, it, stage=stage, n_preselected=n_pre, n_unique=len(pool), n_selected=len(selected_ids),
                         selected_ids=selected_ids, decision=decision,
                         run_status={r["run_id"]: r.get("status") for r in runs})
        log.info("iteration %d (stage %d, break %.2f): %d preselected, %d unique, %d selected -> %s", it, stage,
                 spec.thresholds["breaks"][stage], n_pre, len(pool), len(selected_ids), decision)
        if decision == "label":
            nxt_train = train_fw(spec, ctx.campaign_id, it + 1, nxt, pid)
            return spawn(ctx, label_then(spec, ctx.campaign_id, selected_ids, f"it{it:03d}", nxt_train))
        if decision in ("repeat_stage", "next_stage"):
            pot = ctx.store.get_potential(pid)
            record_iteration(ctx, it + 1, stage=nxt, threshold_break=spec.thresholds["breaks"][nxt], potential_id=pid,
                             n_train=pot["n_train"], metrics=pot.get("metrics"))
            ctx.store.record_campaign(ctx.campaign_id, iteration=it + 1, stage=nxt)
            return spawn(ctx, iteration_workflow(spec, ctx.campaign_id, it + 1, nxt, pid))
        if decision == "max_iterations":
            ctx.store.record_campaign(ctx.campaign_id, state="stopped_max_iterations",
                                      convergence={"converged": False, "reason": f"reached max_iterations "
                                                   f"{spec.max_iterations} before the last stage converged"})
            return FWAction()
        evidence = [{k: h.get(k) for k in ("iteration", "stage", "threshold_break", "n_preselected", "n_selected",
                                            "n_train")} for h in ctx.refresh().get("history", [])]
        convergence = {"converged": True, "final_potential_id": pid, "iteration": it,
                       "rule": f"each stage ends after {spec.thresholds['converge_after']} consecutive iteration(s) "
                               "selecting nothing; the last stage converged", "evidence": evidence}
        if spec.production is None:
            ctx.store.record_campaign(ctx.campaign_id, state="converged", convergence=convergence)
            return FWAction()
        ctx.store.record_campaign(ctx.campaign_id, state="production", convergence=convergence,
                                  final_potential_id=pid)
        return spawn(ctx, production_workflow(spec, ctx.campaign_id, pid))
