"""Fireworks of each campaign step. Every firework carries ``spec._seilearn`` = {campaign_id, key, kind};
``key`` is unique per campaign step, which is how reruns avoid adding a step twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fireworks import Firework, Workflow

from seilearn.workflows.spec import CampaignSpec, exploration_runs, production_runs


def _fw(task: Any, campaign_id: str, key: str, kind: str, category: str, name: str, priority: int = 0) -> Firework:
    spec = {"_seilearn": {"campaign_id": campaign_id, "key": key, "kind": kind}, "_category": category,
            "_priority": priority}
    return Firework([task], spec=spec, name=f"{campaign_id}:{name}")


def seed_workflow(spec: CampaignSpec, campaign_id: str) -> Workflow:
    from seilearn.workflows.tasks.seed import SeedTask

    fw = _fw(SeedTask(campaign_id=campaign_id), campaign_id, "seed", "seed", spec.queues["train"], "seed set")
    return Workflow([fw], name=f"seilearn {campaign_id}", metadata={"seilearn_campaign": campaign_id})


def label_then(spec: CampaignSpec, campaign_id: str, config_ids: list[str], tag: str, then: Firework) -> Workflow:
    """Labelling fireworks (batched, in parallel) followed by ``then``."""
    from seilearn.workflows.tasks.label import LabelTask

    if spec.labeller.name == "atomate2-vasp":  # the batch's firework adds atomate2 VASP jobs as its detour
        from seilearn.workflows.tasks.atomate2 import Atomate2SubmitTask as LabelTask
    size = spec.labelling.batch_size
    batches = [config_ids[i:i + size] for i in range(0, len(config_ids), size)]
    fws = [_fw(LabelTask(campaign_id=campaign_id, job_id=f"{campaign_id}-{tag}-b{k:03d}", config_ids=b),
               campaign_id, f"label:{tag}:b{k:03d}", "label", spec.queues["dft"], f"label {tag} batch {k}", 10)
           for k, b in enumerate(batches)]
    return Workflow([*fws, then], links_dict={fw.fw_id: [then.fw_id] for fw in fws})


def train_fw(spec: CampaignSpec, campaign_id: str, iteration: int, stage: int, parent: str | None,
             rung: int = 0, relearn: dict[str, Any] | None = None) -> Firework:
    """The training of ``iteration``; with ``relearn`` ({run, episode}) it heals a production run and adds no
    exploration after it."""
    from seilearn.workflows.tasks.train import TrainTask

    extra = {"relearn": relearn} if relearn else {}
    return _fw(TrainTask(campaign_id=campaign_id, iteration=iteration, stage=stage, parent_potential_id=parent,
                         rung=rung, **extra),
               campaign_id, f"train:{iteration}", "train", spec.queues["train"], f"train it{iteration}", 20)


def iteration_workflow(spec: CampaignSpec, campaign_id: str, iteration: int, stage: int, potential_id: str,
                       rung: int = 0) -> Workflow:
    """N exploration fireworks in parallel (the runs of ladder rung ``rung``), then one selection over their
    pooled frames."""
    from seilearn.workflows.tasks.explore import ExploreTask
    from seilearn.workflows.tasks.select import SelectTask

    runs = exploration_runs(spec, rung)
    run_ids = [f"{campaign_id}-it{iteration:03d}-x{j:02d}" for j in range(len(runs))]
    explore = [_fw(ExploreTask(campaign_id=campaign_id, run_id=rid, iteration=iteration, stage=stage,
                               potential_id=potential_id, run=run.to_dict()),
                   campaign_id, f"explore:{iteration}:{j}", "explore", spec.queues["explore"],
                   f"explore it{iteration} {run.structure} {run.temperature_K:g}K {run.steps} steps", 15)
               for j, (rid, run) in enumerate(zip(run_ids, runs))]
    select = _fw(SelectTask(campaign_id=campaign_id, iteration=iteration, stage=stage, potential_id=potential_id,
                            run_ids=run_ids, rung=rung),
                 campaign_id, f"select:{iteration}", "select", spec.queues["train"], f"select it{iteration}", 20)
    return Workflow([*explore, select], links_dict={fw.fw_id: [select.fw_id] for fw in explore})


def production_workflow(spec: CampaignSpec, campaign_id: str, potential_id: str) -> Workflow:
    """The production matrix (models x T x P x seeds), each run followed by its analysis, then a summary."""
    from seilearn.workflows.tasks.production import AnalyzeTask, ProductionTask, SummaryTask

    fws: list[Firework] = []
    links: dict[int, list[int]] = {}
    analyses = []
    for run in production_runs(spec):
        name = run.name
        md = _fw(ProductionTask(campaign_id=campaign_id, potential_id=potential_id, run=run.to_dict()),
                 campaign_id, f"production:{name}", "production", spec.queues["production"], f"production {name}", 5)
        fws.append(md)
        if spec.production.analyze:
            an = _fw(AnalyzeTask(campaign_id=campaign_id, name=name), campaign_id, f"analyze:{name}",
                     "analyze", spec.queues["train"], f"analyze {name}", 5)
            fws.append(an)
            links[md.fw_id] = [an.fw_id]
            analyses.append(an)
    # the summary (overlay plots, then the validation on production frames) waits for every run and analysis
    summary = _fw(SummaryTask(campaign_id=campaign_id), campaign_id, "summary", "summary", spec.queues["train"],
                  "summary plots", 5)
    for parent in analyses or list(fws):
        links[parent.fw_id] = [summary.fw_id]
    fws.append(summary)
    return Workflow(fws, links_dict=links)


def with_crossval(spec: CampaignSpec, campaign_id: str, wf: Workflow, potential_id: str, n_train: int,
                  seed: int) -> Workflow:
    """``wf`` plus one independent firework per cross-validation fold of ``potential_id`` (``mtp.cv_folds``):
    the folds run beside the exploration instead of before it."""
    from seilearn.workflows.tasks.crossval import CrossValTask

    folds = spec.mtp.cv_folds
    if folds < 2 or n_train < folds:
        return wf
    cv = [_fw(CrossValTask(campaign_id=campaign_id, potential_id=potential_id, fold=k, seed=seed), campaign_id,
              f"cv:{potential_id}:{k}", "crossval", spec.queues["train"], f"cv {potential_id} fold {k}", 1)
          for k in range(folds)]
    return Workflow([*wf.fws, *cv], links_dict={k: list(v) for k, v in wf.links.items()})


def keys_of(wf: Workflow) -> Iterable[str]:
    return [fw.spec["_seilearn"]["key"] for fw in wf.fws]
