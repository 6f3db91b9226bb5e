"""Self-healing production: a run whose grade crosses ``production.threshold_break`` goes back to learning.

The run stops cleanly (status ``extrapolating``, checkpoint kept). Its frames above the save threshold and
fresh explorations started from its last checkpoint (one per ``replicas`` of the interface's task) are pooled,
selected (MaxVol against the production potential's active set), labelled and trained on, and the run resumes
from its checkpoint with the new potential. Every step is a FireWorks *detour* of the one before, so the run's
analysis (its child) waits for the resumed run. Episodes are bounded by ``production.max_relearn``; one more
crossing fails the firework with the reason. Each episode is recorded in the campaign's ``relearn`` map (run,
episode, step, grade, old and new potential, selected configurations) and every id is derived from (run, episode),
so a rerun adds nothing twice.
"""

from __future__ import annotations

from typing import Any

from fireworks import FWAction, Workflow, explicit_serialize

from seilearn.errors import SeilearnError
from seilearn.store.hashing import structure_hash
from seilearn.store.store import now
from seilearn.workflows import engines
from seilearn.workflows.builders import _fw, label_then, train_fw
from seilearn.workflows.spec import CampaignSpec, ExplorationRun, ProductionRun
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, spawn
from seilearn.workflows.tasks.train import training_pairs


def event_key(run_name: str, episode: int) -> str:
    """Key of one relearning episode in the campaign's ``relearn`` map (no dots: MongoDB field names)."""
    return f"{run_name}-r{episode}".replace(".", "_")


def detour(ctx, wf: Workflow) -> FWAction:
    """FWAction inserting ``wf`` between the running firework and its children, unless a rerun already did."""
    return spawn(ctx, wf, detour=True)


def _record_event(ctx, key: str, **fields: Any) -> None:
    ctx.store.campaigns.update_one({"campaign_id": ctx.campaign_id},
                                   {"$set": {**{f"relearn.{key}.{k}": v for k, v in fields.items()},
                                             "updated_at": now()}})


def _allocate_iteration(ctx, key: str) -> int:
    """The iteration number (hence potential id) of an episode's training: allocated once, atomically, after the
    loop's last iteration; a rerun finds the one it allocated."""
    event = (ctx.refresh().get("relearn") or {}).get(key) or {}
    if event.get("iteration") is not None:
        return int(event["iteration"])
    doc = ctx.store.campaigns.find_one_and_update({"campaign_id": ctx.campaign_id}, {"$inc": {"relearn_seq": 1}},
                                                  projection={"_id": 0, "relearn_seq": 1, "convergence": 1,
                                                              "iteration": 1}, return_document=True)
    base = int((doc.get("convergence") or {}).get("iteration") or doc.get("iteration") or 0)
    return base + int(doc["relearn_seq"])


def relearn_exploration(spec: CampaignSpec, run: ProductionRun, snapshot: str | None, checkpoint_step: int) -> ExplorationRun:
    """The fresh exploration of an episode: from the run's last good state, at its temperature and pressure, as
    long as the top ladder rung or the rest of the run (whichever is shorter, at least the first rung)."""
    interface = f"interface-{run.model}"
    index = next((i for i, t in enumerate(spec.exploration) if t.structure == interface), 0)
    task = spec.exploration[index]
    steps = max(task.steps, min(spec.ladder_max_steps, run.steps - checkpoint_step))
    return ExplorationRun(task_index=index, structure=f"file:{snapshot}" if snapshot else interface,
                          temperature_K=run.temperature_K, pressure_bar=run.pressure_bar, steps=steps,
                          timestep_fs=run.timestep_fs, grade_every=task.grade_every, ensemble="npt",
                          engine="local", rung=spec.top_rung)


def watched_production(task: Any, ctx, run: ProductionRun, outdir) -> FWAction:
    """Run (or resume) production ``run`` with the grade watch; on a crossing, detour into relearning."""
    pid = task["potential_id"]
    spec = ctx.spec
    pot = ctx.store.get_potential(pid)
    every, brk = spec.production_watch
    result = engines.produce_watched(spec, run, ctx.store.get_file(pot["files"]["mtp"]).decode(),
                                     ctx.store.get_file(pot["files"]["almtp"]), outdir, potential_id=pid,
                                     grade_every=every, save=spec.thresholds.save, brk=brk)
    ctx.store.campaigns.update_one(
        {"campaign_id": ctx.campaign_id},
        {"$set": {f"production_runs.{run.name}": {**run.to_dict(), **result, "potential_id": pid, "dir": str(outdir),
                                                  "fw_id": ctx.fw_id, "grade_every": every,
                                                  "threshold_break": brk}}})
    log.info("production %s with %s: %s", run.name, pid, result.get("status"))
    if len(result.get("potentials") or []) > 1:  # resumed after relearning: close the episode that led here
        prev = result["potentials"][-1]
        key = event_key(run.name, len(result["potentials"]) - 1)
        if (ctx.refresh().get("relearn") or {}).get(key, {}).get("state") != "resumed":
            _record_event(ctx, key, state="resumed", resumed_from_step=prev.get("from_step"), new_potential_id=pid)
    if result.get("status") == "completed":
        return FWAction(stored_data=result)
    if result.get("status") != "extrapolating":
        raise SeilearnError(f"production run {run.name} did not complete: {result.get('status')}")
    ex = result["extrapolation"]
    episode = len(result.get("potentials") or [])
    key = event_key(run.name, episode)
    if ex.get("failure"):  # unphysical between two grade checks (seilearn.md.production, learn_on_failure)
        where = f"{ex['failure']} at step {ex['step']} with {pid}"
    else:
        where = f"grade {ex['grade']:.2f} > {brk:g} at step {ex['step']} with {pid}"
    if episode > spec.production.max_relearn:
        reason = (f"production run {run.name} still extrapolates after {spec.production.max_relearn} relearning "
                  f"round(s) (production.max_relearn): {where}")
        _record_event(ctx, key, run=run.name, episode=episode, state="gave_up", reason=reason, step=ex["step"],
                      grade=ex["grade"], failure=ex.get("failure"), potential_id=pid, at=now())
        ctx.store.campaigns.update_one({"campaign_id": ctx.campaign_id},
                                       {"$set": {f"production_runs.{run.name}.reason": reason}})
        raise SeilearnError(reason)
    it = _allocate_iteration(ctx, key)
    _record_event(ctx, key, run=run.name, episode=episode, iteration=it, state="relearning", step=ex["step"],
                  time_ps=ex["time_ps"], grade=ex["grade"], failure=ex.get("failure"), threshold_break=brk,
                  potential_id=pid,
                  checkpoint_step=ex["checkpoint_step"], n_production_frames=ex.get("n_frames"),
                  temperature_K=run.temperature_K, pressure_bar=run.pressure_bar, at=now())
    log.info("production %s extrapolates (%s): relearning episode %d as iteration %d", run.name, where, episode, it)
    xrun = relearn_exploration(spec, run, ex.get("snapshot_file"), int(ex["checkpoint_step"]))
    return detour(ctx, relearn_workflow(spec, ctx.campaign_id, run, episode, it, pid, xrun, ex))


def relearn_workflow(spec: CampaignSpec, campaign_id: str, run: ProductionRun, episode: int, iteration: int,
                     potential_id: str, xrun: ExplorationRun, extrapolation: dict[str, Any]) -> Workflow:
    """The fresh explorations (the interface task's ``replicas``, each with its own velocities), then the selection
    over them and the run's frames (which detours into labelling, training and the resumed run)."""
    from seilearn.workflows.tasks.explore import ExploreTask

    tag = event_key(run.name, episode)
    stage = spec.thresholds.n_stages - 1
    replicas = spec.exploration[xrun.task_index].replicas
    run_ids = [f"{campaign_id}-{tag}-x{k:02d}" for k in range(replicas)]
    explore = [_fw(ExploreTask(campaign_id=campaign_id, run_id=rid, iteration=iteration, stage=stage,
                               potential_id=potential_id, run={**xrun.to_dict(), "replica": k}),
                   campaign_id, f"relearn:{tag}:explore" + (f":{k}" if k else ""), "explore", spec.queues["explore"],
                   f"relearn {tag}: explore from the production snapshot" + (f" (replica {k})" if k else ""), 15)
               for k, rid in enumerate(run_ids)]
    select = _fw(RelearnSelectTask(campaign_id=campaign_id, run=run.to_dict(), episode=episode, iteration=iteration,
                                   potential_id=potential_id, run_ids=run_ids,
                                   frames_file=extrapolation.get("frames_file")),
                 campaign_id, f"relearn:{tag}:select", "select", spec.queues["train"], f"relearn {tag}: select", 20)
    return Workflow([*explore, select], links_dict={fw.fw_id: [select.fw_id] for fw in explore})


def _pool(ctx, iteration: int, frames: list, source: dict[str, Any], seen: set[str]) -> list:
    """Frames not yet in the store (a frame stored by an interrupted earlier run of this very step stays in the
    pool, so a rerun selects exactly what the first run did)."""
    out = []
    for frame in frames:
        h = structure_hash(frame)
        if h in seen:
            continue
        known = ctx.store.configurations.find_one({"hash": h}, {"source": 1})
        if known and not (known["source"].get("campaign_id") == ctx.campaign_id
                          and known["source"].get("iteration") == iteration
                          and known["source"].get("kind") == source["kind"]):
            continue
        seen.add(h)
        frame.info["source"] = {**source, **_frame_source(frame, source["kind"])}
        out.append(frame)
    return out


def _frame_source(frame, kind: str) -> dict[str, Any]:
    info = frame.info
    if kind == "production":
        return {"md_step": info.get("step"), "time_ps": info.get("time_ps"), "grade": info.get("grade"),
                "temperature_K": info.get("temperature_K"), "pressure_bar": info.get("pressure_bar")}
    return {"md_step": info.get("md_step"), "time_fs": info.get("time_fs"), "grade": info.get("grade")}


@explicit_serialize
class RelearnSelectTask(SeilearnTask):
    """Pool a stopped run's frames with its fresh exploration, select, then detour: label -> train -> resume."""

    required_params = ["campaign_id", "run", "episode", "iteration", "potential_id", "run_ids"]
    optional_params = ["frames_file"]

    def _run(self, fw_spec: dict) -> FWAction:
        from seilearn.workflows.tasks.production import ProductionTask

        ctx = context_for(self, fw_spec)
        spec = ctx.spec
        run = ProductionRun.from_dict(self["run"], "run")
        episode, it, pid = int(self["episode"]), int(self["iteration"]), self["potential_id"]
        tag = event_key(run.name, episode)
        stage = spec.thresholds.n_stages - 1
        common = {"campaign_id": ctx.campaign_id, "iteration": it, "stage": stage, "relearn_episode": episode,
                  "production_run": run.name, "potential_id": pid, "active_set_id": pid}
        seen: set[str] = set()
        prod_frames = []
        if self.get("frames_file"):
            from ase.io import read

            prod_frames = read(self["frames_file"], index=":", format="extxyz")
        pool = _pool(ctx, it, prod_frames, {**common, "kind": "production"}, seen)
        n_production = len(pool)
        xruns = list(ctx.store.exploration_runs.find({"run_id": {"$in": self["run_ids"]}}))
        for xr in sorted(xruns, key=lambda r: r["run_id"]):
            if xr.get("preselected_file"):
                pool += _pool(ctx, it, engines.get_frames(ctx.store, xr["preselected_file"]),
                              {**common, "kind": "exploration", "exploration_run_id": xr["run_id"],
                               "temperature_K": xr.get("temperature_K"), "pressure_bar": xr.get("pressure_bar"),
                               "structure": xr.get("structure"), "threshold_save": xr.get("threshold_save"),
                               "threshold_break": xr.get("threshold_break"), "md_steps": xr.get("steps")}, seen)
        selected: list[str] = []
        if pool:
            pot = ctx.store.get_potential(pid)
            train_atoms = ctx.store.labelled_atoms(training_pairs(ctx))
            chosen = engines.select(spec, ctx.store.get_file(pot["files"]["mtp"]).decode(),
                                    ctx.store.get_file(pot["files"]["almtp"]), train_atoms, pool)
            for idx in chosen:
                cid, _ = ctx.store.add_configuration(pool[idx], pool[idx].info["source"], fw_id=ctx.fw_id,
                                                     launch_id=ctx.launch_id)
                selected.append(cid)
        kinds = [ctx.store.configurations.find_one({"config_id": c}, {"source.kind": 1})["source"]["kind"]
                 for c in selected]
        n_from_production = kinds.count("production")
        _record_event(ctx, tag, n_pool=len(pool), n_pool_production=n_production, n_selected=len(selected),
                      n_selected_production=n_from_production, selected_ids=selected, exploration_runs=self["run_ids"],
                      state="labelling" if selected else "failed")
        log.info("relearn %s: %d frames pooled (%d from production), %d selected", tag, len(pool), n_production,
                 len(selected))
        if not selected:
            reason = (f"relearning {tag}: nothing new to select from {len(pool)} pooled frames (the frames where "
                      f"{pid} extrapolated are already in the training set); the run cannot be healed")
            _record_event(ctx, tag, reason=reason)
            raise SeilearnError(reason)
        new_pid = f"{ctx.campaign_id}-p{it:03d}"
        train = train_fw(spec, ctx.campaign_id, it, stage, pid, spec.top_rung,
                         relearn={"run": run.name, "episode": episode})
        resume = _fw(ProductionTask(campaign_id=ctx.campaign_id, potential_id=new_pid, run=run.to_dict()),
                     ctx.campaign_id, f"production:{run.name}:r{episode}", "production", spec.queues["production"],
                     f"production {run.name} resumed with {new_pid}", 5)
        wf = label_then(spec, ctx.campaign_id, selected, tag, train)
        links = {k: list(v) for k, v in wf.links.items()}
        links[train.fw_id] = [resume.fw_id]
        return detour(ctx, Workflow([*wf.fws, resume], links_dict=links))

