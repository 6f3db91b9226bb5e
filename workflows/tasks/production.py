"""Production MD with the converged potential, its analysis, and the overlay plots of all runs."""

from __future__ import annotations

from fireworks import FWAction, Workflow, explicit_serialize

from seilearn.errors import SeilearnError
from seilearn.workflows import engines
from seilearn.workflows.spec import ProductionRun
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log


@explicit_serialize
class ProductionTask(SeilearnTask):
    """One production run (model, T, P, velocity seed); restartable from its checkpoint."""

    required_params = ["campaign_id", "potential_id", "run"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        run = ProductionRun.from_dict(self["run"], "run")
        outdir = ctx.results_dir("production", run.name)
        if run.engine == "local" and ctx.spec.production_watch is not None:
            from seilearn.workflows.tasks.relearn import watched_production

            return watched_production(self, ctx, run, outdir)
        mtp_text = ctx.store.potential_file(self["potential_id"], "mtp").decode()
        result = engines.produce(ctx.spec, run, mtp_text, outdir,
                                 worker_command=(fw_spec.get("_fw_env") or {}).get("lammps_command"))
        ctx.store.campaigns.update_one(
            {"campaign_id": ctx.campaign_id},
            {"$set": {f"production_runs.{run.name}": {**run.to_dict(), **result, "potential_id": self["potential_id"],
                                                      "dir": str(outdir), "fw_id": ctx.fw_id}}})
        log.info("production %s: %s", run.name, result.get("status"))
        if result.get("status") != "completed":
            # recorded above with its timestep history; failing the firework makes it visible in FireWorks,
            # in `seilearn campaign status` and in the main job's exit code, and keeps its analysis from running
            raise SeilearnError(f"production run {run.name} did not complete: {result.get('status')}")
        return FWAction(stored_data=result)


@explicit_serialize
class AnalyzeTask(SeilearnTask):
    """Reduced fraction, crystallinity, growth laws and stages of one production trajectory."""

    required_params = ["campaign_id", "name"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        run = ctx.refresh()["production_runs"][self["name"]]
        outdir = ctx.results_dir("analysis", self["name"])
        summary = engines.analyze(run["trajectory"], outdir, label=self["name"],
                                  fmt=run.get("trajectory_format", "extxyz"), dt_ps=run.get("dt_ps"),
                                  species=ctx.spec.elements)
        ctx.store.campaigns.update_one({"campaign_id": ctx.campaign_id},
                                       {"$set": {f"production_runs.{self['name']}.analysis": summary}})
        return FWAction(stored_data={"outdir": str(outdir)})


@explicit_serialize
class SummaryTask(SeilearnTask):
    """Overlay every production run of the campaign in one set of figures; the campaign is done."""

    required_params = ["campaign_id"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        runs = ctx.refresh().get("production_runs", {})
        series = {name: r["analysis"]["timeseries_csv"] for name, r in sorted(runs.items()) if r.get("analysis")}
        plots = engines.overlay(series, ctx.results_dir("plots")) if series else []
        if ctx.spec.validation.frames:  # the campaign is done once its validation is scored
            from seilearn.workflows.builders import _fw
            from seilearn.workflows.tasks.base import spawn
            from seilearn.workflows.tasks.validate import ValidationSampleTask

            ctx.store.record_campaign(ctx.campaign_id, state="validation", production_plots=[str(p) for p in plots],
                                      results_dir=str(ctx.results_dir()))
            sample = _fw(ValidationSampleTask(campaign_id=ctx.campaign_id), ctx.campaign_id, "validation:sample",
                         "validation", ctx.spec.queues["train"], "validation: sample production frames", 5)
            return spawn(ctx, Workflow([sample]))
        ctx.store.record_campaign(ctx.campaign_id, state="done", production_plots=[str(p) for p in plots],
                                  results_dir=str(ctx.results_dir()))
        return FWAction(stored_data={"plots": [str(p) for p in plots]})
