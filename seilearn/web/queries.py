"""Read-only views of a campaign for the dashboard. Every field may be missing (None -> "—" on the page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from seilearn.errors import InputError
from seilearn.selection.schedule import ThresholdSchedule
from seilearn.store.store import Store

PLOT_SUFFIXES = (".png", ".svg")
_ITER_TAG = re.compile(r"-it(\d+)-b\d+$")


def schedule(doc: dict) -> ThresholdSchedule | None:
    """The campaign's threshold schedule (the one model the spec and the decision rule use), or None."""
    data = doc.get("thresholds") or (doc.get("spec") or {}).get("thresholds")
    if not data:
        return None
    try:
        return ThresholdSchedule(save=data.get("save", 1.5), breaks=tuple(data.get("breaks") or ()),
                                 converge_after=int(data.get("converge_after", 1)))
    except (InputError, TypeError, ValueError):
        return None


def thresholds(doc: dict) -> dict:
    """The campaign's thresholds as a dict (empty when unknown)."""
    sched = schedule(doc)
    return sched.to_dict() if sched else {}


def current_break(doc: dict) -> float | None:
    """The break threshold of the current stage, or None."""
    sched, stage = schedule(doc), doc.get("stage")
    return sched.break_at(stage) if sched and isinstance(stage, int) and 0 <= stage < sched.n_stages else None


def labelling_by_iteration(store: Store, campaign_id: str) -> dict[str, dict[str, int]]:
    """Summed label counts (ok, failed, scf_unconverged, reused) per iteration ("seed" for the seed set)."""
    out: dict[str, dict[str, int]] = {}
    for job in store.labelling_jobs.find({"campaign_id": campaign_id}, {"_id": 0, "job_id": 1, "counts": 1}):
        m = _ITER_TAG.search(job.get("job_id", ""))
        key = str(int(m.group(1))) if m else ("seed" if "-seed-" in job.get("job_id", "") else "other")
        c = out.setdefault(key, {"ok": 0, "failed": 0, "scf_unconverged": 0, "reused": 0})
        for k, v in (job.get("counts") or {}).items():
            c[k] = c.get(k, 0) + int(v or 0)
    return out


def iteration_rows(doc: dict, labelling: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per history entry: stage, break, training-set size, preselected/selected/labelled/failed, RMSEs."""
    rows = []
    for h in sorted(doc.get("history") or [], key=lambda h: h.get("iteration", 0)):
        lab = labelling.get(str(h.get("iteration")))
        m = h.get("metrics") or {}
        rows.append({
            "iteration": h.get("iteration"), "stage": h.get("stage"), "threshold_break": h.get("threshold_break"),
            "n_train": h.get("n_train"), "n_preselected": h.get("n_preselected"), "n_unique": h.get("n_unique"),
            "n_selected": h.get("n_selected"),
            "n_labelled": h.get("n_labelled", lab["ok"] if lab else None),
            "n_failed": h.get("n_failed", lab["failed"] + lab["scf_unconverged"] if lab else None),
            "rmse_e": m.get("rmse_energy_mev_atom", m.get("train_rmse_e_mev_atom")),
            "rmse_f": m.get("rmse_forces_mev_a", m.get("train_rmse_f_mev_a")),
            "potential_id": h.get("potential_id"), "decision": h.get("decision"),
        })
    return rows


def cv_rmse(metrics: dict | None) -> tuple[float | None, float | None]:
    """(train, test) cross-validation energy RMSE in meV/atom from ``metrics.cv`` (crossval summary) if present."""
    m = metrics or {}
    cv = m.get("cv") or {}

    def mean(part):
        v = (cv.get(part) or {}).get("rmse_energy_mev_atom")
        return v.get("mean") if isinstance(v, dict) else v

    return (mean("train") if cv else m.get("cv_train_rmse_energy_mev_atom"),
            mean("test") if cv else m.get("cv_test_rmse_energy_mev_atom"))


def potential_rows(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    rows = []
    for p in store.potentials.find({"campaign_id": campaign_id}, {"_id": 0, "training_set": 0}).sort("iteration", 1):
        m = p.get("metrics") or {}
        cv_train, cv_test = cv_rmse(m)
        rows.append({"potential_id": p["potential_id"], "iteration": p.get("iteration"), "n_train": p.get("n_train"),
                     "rmse_e": m.get("rmse_energy_mev_atom", m.get("train_rmse_e_mev_atom")),
                     "rmse_f": m.get("rmse_forces_mev_a", m.get("train_rmse_f_mev_a")),
                     "cv_train": cv_train, "cv_test": cv_test})
    return rows


def last_exploration_grades(store: Store, campaign_id: str) -> tuple[int | None, list[float], list[dict]]:
    """(last iteration, its sampled grades, all runs newest first)."""
    runs = list(store.exploration_runs.find({"campaign_id": campaign_id}, {"_id": 0, "preselected_file": 0})
                .sort("iteration", -1))
    last_it = runs[0].get("iteration") if runs else None
    grades = [float(g) for r in runs if r.get("iteration") == last_it for g in (r.get("grades") or [])]
    return last_it, grades, runs


def ladder_rows(doc: dict) -> list[dict[str, Any]]:
    """The exploration ladder's rungs: length, conditions, selected, iterations."""
    return [{"rung": r.get("rung"), "top_rung": r.get("top_rung"), "steps": "/".join(map(str, r.get("steps") or [])),
             "conditions": "; ".join(r.get("conditions") or []), "n_selected": r.get("n_selected"),
             "iterations": ", ".join(map(str, r.get("iterations") or [])), "decision": r.get("last_decision")}
            for r in sorted(doc.get("ladder") or [], key=lambda r: r.get("rung", 0))]


def production_rows(doc: dict) -> list[dict[str, Any]]:
    """Production runs: status, progress, the largest grade seen, the potentials that ran them."""
    rows = []
    for name, r in sorted((doc.get("production_runs") or {}).items()):
        rows.append({"name": name, "status": r.get("status"), "steps_done": r.get("steps_done"), "steps": r.get("steps"),
                     "time_ps": r.get("time_ps"), "max_grade": r.get("max_grade"), "timestep_fs": r.get("timestep_fs"),
                     "potentials": " → ".join(str(p.get("potential_id")) for p in r.get("potentials") or []),
                     "reason": r.get("reason")})
    return rows


def relearn_rows(doc: dict) -> list[dict[str, Any]]:
    """Relearning episodes of self-healing production, in order."""
    return sorted((dict(e) for e in (doc.get("relearn") or {}).values()),
                  key=lambda e: (str(e.get("run")), e.get("episode") or 0))


def production_plots(doc: dict) -> list[str]:
    """Existing PNG/SVG analysis plots: the campaign's ``production_plots`` and those under ``results_dir``."""
    found = [p for p in doc.get("production_plots") or [] if str(p).endswith(PLOT_SUFFIXES)]
    if doc.get("results_dir") and Path(doc["results_dir"]).is_dir():
        found += sorted(str(p) for p in Path(doc["results_dir"]).rglob("*") if p.suffix in PLOT_SUFFIXES)
    seen: dict[str, None] = {}
    for p in found:
        if Path(p).is_file():
            seen.setdefault(str(p))
    return list(seen)
