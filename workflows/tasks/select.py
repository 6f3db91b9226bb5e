"""SelectTask: pool the iteration's preselected frames, run one select_add, and decide what comes next
(``seilearn.selection.schedule.decide``): label + retrain, the same stage again, the next (lower) break
threshold, the next rung of the exploration ladder, or production."""

from __future__ import annotations

from fireworks import FWAction, explicit_serialize

from seilearn.cutting.campaign import cut_large_frames
from seilearn.selection.schedule import decide
from seilearn.store.hashing import structure_hash
from seilearn.workflows import engines
from seilearn.workflows.builders import iteration_workflow, label_then, production_workflow, train_fw
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, record_iteration, spawn
from seilearn.workflows.tasks.train import training_pairs


@explicit_serialize
class SelectTask(SeilearnTask):
    required_params = ["campaign_id", "iteration", "stage", "potential_id", "run_ids"]
    optional_params = ["rung"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        it, stage, pid = int(self["iteration"]), int(self["stage"]), self["potential_id"]
        rung = int(self.get("rung") or 0)
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
                    "rung": rung, "md_steps": run.get("steps"),
                    "threshold_save": run.get("threshold_save"), "threshold_break": run.get("threshold_break"),
                    "grade": frame.info.get("grade"), "potential_id": pid, "active_set_id": pid}
                pool.append(frame)
        selected_ids: list[str] = []
        n_unique = len(pool)
        if pool:
            pot = ctx.store.get_potential(pid)
            mtp_text = ctx.store.get_file(pot["files"]["mtp"]).decode()
            train_atoms = ctx.store.labelled_atoms(training_pairs(ctx))
            almtp = ctx.store.get_file(pot["files"]["almtp"])
            # frames larger than the labeller takes are replaced by neighbourhood cuts; select_add chooses among them
            pool = cut_large_frames(pool, mtp_text=mtp_text, almtp=almtp, species=spec.elements,
                                    train_atoms=train_atoms, max_atoms=spec.max_atoms)
            chosen = engines.select(spec, mtp_text, almtp, train_atoms, pool)
            for idx in chosen:
                cid, _ = ctx.store.add_configuration(pool[idx], pool[idx].info["source"], fw_id=ctx.fw_id,
                                                     launch_id=ctx.launch_id)
                selected_ids.append(cid)
        campaign = ctx.refresh()
        top = spec.top_rung
        verdict = decide(spec.thresholds, campaign.get("history", []), iteration=it, stage=stage, rung=rung,
                         n_selected=len(selected_ids), top_rung=top, max_iterations=spec.max_iterations)
        decision, nxt, nxt_rung = verdict.action, verdict.stage, verdict.rung
        steps = sorted({r.get("steps") for r in runs if r.get("steps")})
        record_iteration(ctx, it, stage=stage, rung=rung, steps=steps, n_preselected=n_pre, n_unique=n_unique,
                         n_candidates=len(pool), n_selected=len(selected_ids), selected_ids=selected_ids,
                         decision=decision,
                         conditions=sorted({(r.get("structure"), r.get("temperature_K"), r.get("pressure_bar"))
                                            for r in runs}),
                         run_status={r["run_id"]: r.get("status") for r in runs})
        if stage == spec.thresholds.n_stages - 1 and top:
            _record_rung(ctx, rung, steps, runs, len(selected_ids), decision, top)
        log.info("iteration %d (stage %d, break %.2f, rung %d, %s steps): %d preselected, %d unique, %d selected -> %s",
                 it, stage, spec.thresholds.break_at(stage), rung, "/".join(map(str, steps)) or "-", n_pre, n_unique,
                 len(selected_ids), decision)
        if decision == "label":
            nxt_train = train_fw(spec, ctx.campaign_id, it + 1, nxt, pid, nxt_rung)
            return spawn(ctx, label_then(spec, ctx.campaign_id, selected_ids, f"it{it:03d}", nxt_train))
        if decision in ("repeat", "next_stage", "next_rung"):
            pot = ctx.store.get_potential(pid)
            record_iteration(ctx, it + 1, stage=nxt, rung=nxt_rung, threshold_break=spec.thresholds.break_at(nxt),
                             potential_id=pid, n_train=pot["n_train"], metrics=pot.get("metrics"))
            ctx.store.record_campaign(ctx.campaign_id, iteration=it + 1, stage=nxt, rung=nxt_rung,
                                      state="ladder" if nxt_rung else "running")
            return spawn(ctx, iteration_workflow(spec, ctx.campaign_id, it + 1, nxt, pid, nxt_rung))
        if decision == "max_iterations":
            where = f"stage {stage + 1}/{spec.thresholds.n_stages}"
            if top:
                where += f", ladder rung {rung}/{top} ({'/'.join(map(str, steps))} steps)"
            ctx.store.record_campaign(ctx.campaign_id, state="stopped_max_iterations",
                                      convergence={"converged": False, "reason": f"reached max_iterations "
                                                   f"{spec.max_iterations} at {where} before converging"})
            return FWAction()
        evidence = [{k: h.get(k) for k in ("iteration", "stage", "rung", "steps", "threshold_break", "n_preselected",
                                            "n_selected", "n_train")} for h in ctx.refresh().get("history", [])]
        rule = (f"each stage ends after {spec.thresholds.converge_after} consecutive iteration(s) selecting nothing; "
                "the last stage converged")
        if top:
            rule += f" and stayed converged up the exploration ladder to {spec.ladder_max_steps} steps (rung {top})"
        convergence = {"converged": True, "final_potential_id": pid, "iteration": it, "rule": rule,
                       "evidence": evidence}
        if spec.production is None:
            ctx.store.record_campaign(ctx.campaign_id, state="converged", convergence=convergence)
            return FWAction()
        ctx.store.record_campaign(ctx.campaign_id, state="production", convergence=convergence,
                                  final_potential_id=pid)
        return spawn(ctx, production_workflow(spec, ctx.campaign_id, pid))


def _record_rung(ctx, rung: int, steps: list[int], runs: list[dict], n_selected: int, decision: str, top: int) -> None:
    """One entry per ladder rung in the campaign's ``ladder`` list (length, conditions, selected so far)."""
    doc = ctx.refresh()
    ladder = {r["rung"]: r for r in doc.get("ladder", [])}
    entry = ladder.get(rung, {"rung": rung, "n_selected": 0, "iterations": []})
    its = set(entry.get("iterations", []))
    it_key = sorted({r.get("iteration") for r in runs if r.get("iteration") is not None})
    new = [i for i in it_key if i not in its]
    entry.update({"steps": steps, "top_rung": top,
                  "conditions": sorted({f"{r.get('structure')} {r.get('temperature_K'):g} K {r.get('pressure_bar'):g} bar"
                                        for r in runs}),
                  "iterations": sorted(its | set(it_key)), "last_decision": decision})
    if new:
        entry["n_selected"] = int(entry.get("n_selected", 0)) + n_selected
    ladder[rung] = entry
    ctx.store.record_campaign(ctx.campaign_id, ladder=[ladder[k] for k in sorted(ladder)])
