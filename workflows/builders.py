"""Fireworks of each campaign step. Every firework carries ``spec._seilearn`` = {campaign_id, key, kind};
``key`` is unique per campaign step, which is how reruns avoid adding a step twice."""

from __future__ import annotations

from typing import Any, Iterable

from fireworks import Firework, Workflow

from seilearn.workflows.spec import CampaignSpec


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

    size = spec.label_batch_size
    batches = [config_ids[i:i + size] for i in range(0, len(config_ids), size)]
    fws = [_fw(LabelTask(campaign_id=campaign_id, job_id=f"{campaign_id}-{tag}-b{k:03d}", config_ids=b),
               campaign_id, f"label:{tag}:b{k:03d}", "label", spec.queues["dft"], f"label {tag} batch {k}", 10)
           for k, b in enumerate(batches)]
    return Workflow([*fws, then], links_dict={fw.fw_id: [then.fw_id] for fw in fws})


def train_fw(spec: CampaignSpec, campaign_id: str, iteration: int, stage: int, parent: str | None) -> Firework:
    from seilearn.workflows.tasks.train import TrainTask

    return _fw(TrainTask(campaign_id=campaign_id, iteration=iteration, stage=stage, parent_potential_id=parent),
               campaign_id, f"train:{iteration}", "train", spec.queues["train"], f"train it{iteration}", 20)


def exploration_runs(spec: CampaignSpec) -> list[dict[str, Any]]:
    """The exploration matrix: structures x temperatures x pressures."""
    runs = []
    for t_index, task in enumerate(spec.exploration):
        for temp in task.temperatures:
            for press in task.pressures_bar:
                runs.append({"task_index": t_index, "structure": task.structure, "temperature_K": temp,
                             "pressure_bar": press, "steps": task.steps, "timestep_fs": task.timestep_fs,
                             "grade_every": task.grade_every, "ensemble": task.ensemble,
                             "supercell": task.supercell})
    return runs


def iteration_workflow(spec: CampaignSpec, campaign_id: str, iteration: int, stage: int, potential_id: str) -> Workflow:
    """N exploration fireworks in parallel, then one selection over their pooled frames."""
    from seilearn.workflows.tasks.explore import ExploreTask
    from seilearn.workflows.tasks.select import SelectTask

    runs = exploration_runs(spec)
    run_ids = [f"{campaign_id}-it{iteration:03d}-x{j:02d}" for j in range(len(runs))]
    explore = [_fw(ExploreTask(campaign_id=campaign_id, run_id=rid, iteration=iteration, stage=stage,
                               potential_id=potential_id, run=run),
                   campaign_id, f"explore:{iteration}:{j}", "explore", spec.queues["explore"],
                   f"explore it{iteration} {run['structure']} {run['temperature_K']:g}K", 15)
               for j, (rid, run) in enumerate(zip(run_ids, runs))]
    select = _fw(SelectTask(campaign_id=campaign_id, iteration=iteration, stage=stage, potential_id=potential_id,
                            run_ids=run_ids),
                 campaign_id, f"select:{iteration}", "select", spec.queues["train"], f"select it{iteration}", 20)
    return Workflow([*explore, select], links_dict={fw.fw_id: [select.fw_id] for fw in explore})


def production_workflow(spec: CampaignSpec, campaign_id: str, potential_id: str) -> Workflow:
    """The production matrix (models x T x P x seeds), each run followed by its analysis, then a summary."""
    from seilearn.workflows.tasks.production import AnalyzeTask, ProductionTask, SummaryTask

    prod = spec.production
    fws: list[Firework] = []
    links: dict[int, list[int]] = {}
    analyses = []
    for model in prod.models:
        for temp in prod.temperatures:
            for press in prod.pressures_bar:
                for seed in prod.seeds:
                    name = f"{model}-{temp:g}K-{press:g}bar-s{seed}"
                    run = {"model": model, "temperature_K": temp, "pressure_bar": press, "seed": seed,
                           "steps": prod.steps, "timestep_fs": prod.timestep_fs, "dump_every": prod.dump_every,
                           "engine": prod.engine, "name": name}
                    md = _fw(ProductionTask(campaign_id=campaign_id, potential_id=potential_id, run=run),
                             campaign_id, f"production:{name}", "production", spec.queues["production"],
                             f"production {name}", 5)
                    fws.append(md)
                    if prod.analyze:
                        an = _fw(AnalyzeTask(campaign_id=campaign_id, name=name), campaign_id, f"analyze:{name}",
                                 "analyze", spec.queues["train"], f"analyze {name}", 5)
                        fws.append(an)
                        links[md.fw_id] = [an.fw_id]
                        analyses.append(an)
    if analyses:
        summary = _fw(SummaryTask(campaign_id=campaign_id), campaign_id, "summary", "summary", spec.queues["train"],
                      "summary plots", 5)
        fws.append(summary)
        for an in analyses:
            links[an.fw_id] = [summary.fw_id]
    return Workflow(fws, links_dict=links)


def keys_of(wf: Workflow) -> Iterable[str]:
    return [fw.spec["_seilearn"]["key"] for fw in wf.fws]
