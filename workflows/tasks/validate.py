"""Validation on the production distribution: frames sampled across the production trajectories, labelled with
the campaign's labeller, held out (source kind ``validation``: never trained on), and the final potential's
energy, force and stress errors on them stored on the potential and the campaign. Labeller failures are reported
and excluded, never counted as zero error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fireworks import FWAction, explicit_serialize

from seilearn.store.store import latest_ok_label
from seilearn.workflows import engines
from seilearn.workflows.builders import _fw, label_then
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, spawn

EV_A3_TO_GPA = 160.21766208
MAX_PLOT_PAIRS = 1500  # (reference, predicted) force components kept in the campaign record for the dashboard


def sample_frames(runs: dict[str, dict[str, Any]], k: int) -> list[tuple[str, Any]]:
    """``k`` frames evenly spaced over the concatenated trajectories of the completed runs (the starting
    structure of each run left out: it is the built interface, not the production distribution)."""
    from seilearn.analysis.trajectory import frames as read_frames

    pool = []
    for name, run in sorted(runs.items()):
        if run.get("status") != "completed" or not run.get("trajectory") or not Path(run["trajectory"]).is_file():
            continue
        # extxyz (engine local) or a LAMMPS dump (engine lammps: timestep, and the run's targets, from the record)
        for _, f in read_frames(run["trajectory"], run.get("trajectory_format", "extxyz"), dt_ps=run.get("dt_ps")):
            f.info.setdefault("step", int(f.info.get("timestep", 0)))
            for key in ("temperature_K", "pressure_bar"):
                f.info.setdefault(key, run.get(key))
            if f.info["step"] > 0:
                pool.append((name, f))
    if not pool or k <= 0:
        return []
    idx = sorted({int(round(x)) for x in np.linspace(0, len(pool) - 1, min(k, len(pool)))})
    return [pool[i] for i in idx]


def errors(reference: list, predicted: list[dict[str, Any]]) -> dict[str, Any]:
    """RMSE and max absolute error: energy per atom (meV/atom), force components (meV/A), stress (GPa)."""
    de = np.array([(p["energy"] - a.get_potential_energy()) / len(a) for a, p in zip(reference, predicted)]) * 1000
    df = np.concatenate([(p["forces"] - a.get_forces()).ravel() for a, p in zip(reference, predicted)]) * 1000
    ds = [(p["stress"] - a.get_stress()) * EV_A3_TO_GPA for a, p in zip(reference, predicted)
          if p.get("stress") is not None and _has_stress(a)]

    def block(d: np.ndarray, unit: str) -> dict[str, Any]:
        return {"rmse": float(np.sqrt(np.mean(d ** 2))), "max": float(np.abs(d).max()), "unit": unit, "n": int(d.size)}

    out = {"energy": block(de, "meV/atom"), "forces": block(df, "meV/A")}
    if ds:
        out["stress"] = block(np.concatenate(ds), "GPa")
    return out


def _has_stress(atoms) -> bool:
    try:
        return atoms.get_stress() is not None
    except Exception:  # a label without stress (e.g. a labeller that gives none)
        return False


@explicit_serialize
class ValidationSampleTask(SeilearnTask):
    """Store ``validation.frames`` production frames as held-out configurations and label them."""

    required_params = ["campaign_id"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        frames = sample_frames(ctx.refresh().get("production_runs") or {}, ctx.spec.validation.frames)
        ids, skipped = [], 0
        for name, f in frames:
            source = {"kind": "validation", "campaign_id": ctx.campaign_id, "production_run": name,
                      "md_step": f.info.get("step"), "time_ps": f.info.get("time_ps"),
                      "temperature_K": f.info.get("temperature_K"), "pressure_bar": f.info.get("pressure_bar"),
                      "potential_id": f.info.get("potential_id")}
            cid, created = ctx.store.add_configuration(f, source, fw_id=ctx.fw_id, launch_id=ctx.launch_id)
            if not created and ctx.store.configurations.find_one({"config_id": cid})["source"].get("kind") != "validation":
                skipped += 1  # the same structure is a training configuration: not held out, so not used
                continue
            ids.append(cid)
        ctx.store.record_campaign(ctx.campaign_id, validation={"state": "labelling", "config_ids": ids,
                                                               "n_sampled": len(frames), "n_skipped": skipped})
        score = _fw(ValidationScoreTask(campaign_id=ctx.campaign_id), ctx.campaign_id, "validation:score",
                    "validation", ctx.spec.queues["train"], "validation: score the final potential", 5)
        if not ids:
            from fireworks import Workflow

            return spawn(ctx, Workflow([score]))
        return spawn(ctx, label_then(ctx.spec, ctx.campaign_id, ids, "validation", score))


@explicit_serialize
class ValidationScoreTask(SeilearnTask):
    """Errors of the campaign's final potential on its labelled validation frames; the campaign is done."""

    required_params = ["campaign_id"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        doc = ctx.refresh()
        val = doc.get("validation") or {}
        ids = list(val.get("config_ids") or [])
        pid = doc.get("current_potential_id") or doc.get("final_potential_id")
        docs = {d["config_id"]: d for d in ctx.store.configurations.find({"config_id": {"$in": ids}})}
        ok, failed = [], []
        for cid in ids:
            labels = docs[cid].get("labels") or []
            if latest_ok_label(docs[cid]) is not None:
                ok.append(cid)
            else:
                last = labels[-1] if labels else {}
                failed.append({"config_id": cid, "status": last.get("status", "unlabelled"),
                               "reason": last.get("reason")})
        block: dict[str, Any] = {"state": "done", "potential_id": pid, "config_ids": ids, "n_frames": len(ok),
                                 "n_failed": len(failed), "failed": failed, "n_sampled": val.get("n_sampled"),
                                 "n_skipped": val.get("n_skipped", 0), "labeller": ctx.spec.labeller.name}
        if ok:
            ref = ctx.store.get_atoms(ok)
            pred = engines.predict(ctx.spec, ctx.store.potential_file(pid, "mtp").decode(), ref)
            block.update(errors(ref, pred))
            f_ref = np.concatenate([a.get_forces().ravel() for a in ref])
            f_pred = np.concatenate([p["forces"].ravel() for p in pred])
            keep = np.linspace(0, f_ref.size - 1, min(MAX_PLOT_PAIRS, f_ref.size)).astype(int)
            block["force_pairs"] = [[round(float(f_ref[i]), 4), round(float(f_pred[i]), 4)] for i in keep]
            block["plot"] = [str(p) for p in _plot(f_ref, f_pred, block, ctx.results_dir("validation"))]
        ctx.store.potentials.update_one({"potential_id": pid},
                                        {"$set": {"validation": {k: v for k, v in block.items()
                                                                 if k != "force_pairs"}}})
        ctx.store.record_campaign(ctx.campaign_id, validation=block, state="done")
        log.info("validation of %s on %d production frames (%d failed): %s", pid, len(ok), len(failed),
                 {k: block[k]["rmse"] for k in ("energy", "forces", "stress") if k in block})
        return FWAction(stored_data={k: block.get(k) for k in ("n_frames", "n_failed", "energy", "forces", "stress")})


def _plot(f_ref: np.ndarray, f_pred: np.ndarray, block: dict[str, Any], outdir: Path) -> list[Path]:
    """Predicted vs reference force components (PNG and SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    ax.plot(f_ref, f_pred, ".", ms=2, alpha=0.4)
    lim = float(max(np.abs(f_ref).max(), np.abs(f_pred).max(), 0.1))
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.8)
    ax.set_xlabel("reference force component (eV/Å)")
    ax.set_ylabel("MTP force component (eV/Å)")
    ax.set_title(f"{block['n_frames']} production frames: RMSE {block['forces']['rmse']:.0f} meV/Å", fontsize=9)
    fig.tight_layout()
    paths = [outdir / "forces.png", outdir / "forces.svg"]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
