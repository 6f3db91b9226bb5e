"""Campaign lifecycle: create (validate first, then submit), status, pause, resume, extend."""

from __future__ import annotations

from typing import Any

from seilearn.config import Settings
from seilearn.errors import EmptyStoreError, InputError, SeilearnError
from seilearn.store import Store, get_launchpad
from seilearn.store.store import now
from seilearn.workflows.builders import iteration_workflow, seed_workflow
from seilearn.workflows.spec import CampaignSpec

ACTIVE_FW_STATES = ["READY", "WAITING", "RESERVED", "RUNNING"]


def check_runnable(spec: CampaignSpec) -> None:
    """What must hold on this machine before anything is submitted (the labeller's software, seed file)."""
    from pathlib import Path

    if spec.seed_set.file and not Path(spec.seed_set.file).is_file():
        raise InputError(f"seed_set.file: {spec.seed_set.file} does not exist")
    from seilearn.structures.resolve import structure_path

    for i, task in enumerate(spec.exploration):
        path = structure_path(task.structure)
        if path is not None and not path.is_file():
            raise InputError(f"exploration[{i}].structure: {path} does not exist")


def create_campaign(settings: Settings, spec: CampaignSpec, *, resume: bool = True) -> tuple[str, bool]:
    """Create the campaign and submit its first workflow; an existing campaign of the same name is reused
    when ``resume`` (its stored spec must match). Returns (campaign_id, created)."""
    check_runnable(spec)
    store = Store.open(settings)
    lp = get_launchpad(settings)
    cid = spec.name
    existing = store.campaigns.find_one({"campaign_id": cid})
    if existing:
        if not resume:
            raise SeilearnError(f"campaign {cid!r} exists; pick another name in the spec or resume it")
        stored, given = dict(existing["spec"]), spec.to_dict()
        if stored.get("max_iterations", 0) >= given["max_iterations"]:
            stored["max_iterations"] = given["max_iterations"]  # raised by `campaign extend`: same campaign
        if stored != given:
            raise SeilearnError(f"campaign {cid!r} exists with a different spec; rename the campaign or use "
                                f"`seilearn campaign extend {cid}`")
        if lp.fireworks.count_documents({"spec._seilearn.campaign_id": cid}, limit=1):
            return cid, False
    store.record_campaign(cid, name=spec.name, spec=spec.to_dict(), state="created", stage=0, iteration=0,
                          thresholds=spec.thresholds.to_dict(), history=[], created=now())
    lp.add_wf(seed_workflow(spec, cid))
    return cid, True


def fw_counts(lp, campaign_id: str) -> dict[str, int]:
    return {d["_id"]: d["n"] for d in lp.fireworks.aggregate([
        {"$match": {"spec._seilearn.campaign_id": campaign_id}}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}])}


def progress(store: Store, lp, campaign_id: str) -> dict[str, Any]:
    """What a runner prints every few seconds, from small records only: the campaign, its firework states and
    the current potential's training-set size (``n_train``). ``status`` counts the configurations, which makes
    the server decode every record with its forces: 0.1-0.8 s of server time per call on a 400-configuration
    campaign, taken from the rockets' cores when polled every 5 s."""
    doc = store.get_campaign(campaign_id)
    doc["fireworks"] = fw_counts(lp, campaign_id)
    pid = doc.get("current_potential_id")
    pot = store.potentials.find_one({"potential_id": pid}, {"n_train": 1}) if pid else None
    doc["n_train"] = (pot or {}).get("n_train")
    return doc


def status(settings: Settings, campaign_id: str | None = None) -> dict[str, Any]:
    """The campaign document plus firework counts and training-set size."""
    store = Store.open(settings, must_exist=True)
    if campaign_id is None:
        latest = store.campaigns.find_one({}, sort=[("updated_at", -1)])
        if latest is None:
            raise EmptyStoreError("no campaigns yet; start one with `seilearn campaign run "
                                  "workflows/examples/lpsc_li_local.yaml` (or `seilearn campaign create SPEC.yaml`)")
        campaign_id = latest["campaign_id"]
    doc = store.get_campaign(campaign_id)
    lp = get_launchpad(settings)
    doc["fireworks"] = fw_counts(lp, campaign_id)
    doc["n_configurations"] = store.configurations.count_documents({"source.campaign_id": campaign_id})
    doc["n_labelled"] = store.configurations.count_documents({"source.campaign_id": campaign_id,
                                                              "labels.status": "ok"})
    from seilearn.launchers.queue import queue_state

    doc["queue"] = queue_state()  # seilearn's batch jobs (sl-<category>), where a scheduler answers here
    return doc


def format_status(doc: dict[str, Any]) -> str:
    spec = doc.get("spec", {})
    breaks = spec.get("thresholds", {}).get("breaks", [])
    stage = doc.get("stage", 0)
    lines = [f"campaign {doc['campaign_id']}: {doc.get('state')}",
             f"  stage {stage + 1}/{len(breaks)}: break threshold {breaks[stage] if stage < len(breaks) else '-'}, "
             f"save {spec.get('thresholds', {}).get('save')}; iteration {doc.get('iteration')}"
             + (f"; ladder rung {doc.get('rung')}" if doc.get("rung") else ""),
             f"  training set: {doc.get('n_labelled')} labelled of {doc.get('n_configurations')} configurations",
             "  fireworks: " + (", ".join(f"{k} {v}" for k, v in sorted(doc.get("fireworks", {}).items())) or "none")]
    from seilearn.launchers.queue import format_queue

    lines += format_queue(doc.get("queue"))
    hist = sorted(doc.get("history", []), key=lambda h: h["iteration"])
    if hist:
        lines.append(f"  {'it':>3} {'stage':>5} {'break':>6} {'rung':>4} {'steps':>9} {'train':>6} {'presel':>7} "
                     f"{'unique':>7} {'select':>7}  {'E rmse':>7} {'F rmse':>7}  decision")
        for h in hist:
            m = h.get("metrics") or {}
            e, f = m.get("rmse_energy_mev_atom"), m.get("rmse_forces_mev_a")
            steps = "/".join(str(s) for s in h.get("steps") or []) or "-"
            lines.append(f"  {h['iteration']:>3} {h.get('stage', 0) + 1:>5} {_fmt(h.get('threshold_break')):>6} "
                         f"{h.get('rung') or 0:>4} {steps:>9} "
                         f"{_fmt(h.get('n_train')):>6} {_fmt(h.get('n_preselected')):>7} {_fmt(h.get('n_unique')):>7} "
                         f"{_fmt(h.get('n_selected')):>7}  {_fmt(e):>7} {_fmt(f):>7}  {h.get('decision', '')}")
    for r in doc.get("ladder") or []:
        lines.append(f"  ladder rung {r['rung']}/{r.get('top_rung')}: {'/'.join(map(str, r.get('steps') or []))} steps, "
                     f"{len(r.get('conditions') or [])} conditions ({'; '.join(r.get('conditions') or [])}), "
                     f"{r.get('n_selected', 0)} selected over iterations {r.get('iterations')}")
    conv = doc.get("convergence")
    if conv:
        lines.append(f"  convergence: {'converged' if conv.get('converged') else 'not converged'} — "
                     f"{conv.get('rule') or conv.get('reason')}")
    lines += production_lines(doc)
    if doc.get("production_plots"):
        lines.append("  plots: " + ", ".join(doc["production_plots"]))
    return "\n".join(lines)


def production_lines(doc: dict[str, Any]) -> list[str]:
    """Production runs, their relearning episodes and the validation on production frames."""
    lines = []
    for name, run in sorted((doc.get("production_runs") or {}).items()):
        grade = f", max grade {run['max_grade']:.2f}" if run.get("max_grade") is not None else ""
        why = f" — {run['reason']}" if run.get("reason") else ""
        simulated = f" ({run['time_ps']:.2f} ps)" if run.get("time_ps") is not None else ""
        lines.append(f"  production {name}: {run.get('status')}, {run.get('steps_done')}/{run.get('steps')} steps"
                     f"{simulated}{grade}, potential {run.get('potential_id')}{why}")
    for ev in sorted((doc.get("relearn") or {}).values(), key=lambda e: (str(e.get("run")), e.get("episode", 0))):
        trip = (f"unphysical ({ev['failure']})" if ev.get("failure") else
                f"grade {_fmt(ev.get('grade'))} > {_fmt(ev.get('threshold_break'))}")
        line = (f"  relearn {ev.get('run')} #{ev.get('episode')}: {trip} at step {ev.get('step')} with "
                f"{ev.get('potential_id')}; "
                f"{_fmt(ev.get('n_selected'))} selected ({_fmt(ev.get('n_selected_production'))} from production) "
                f"-> {ev.get('state')}")
        if ev.get("new_potential_id"):
            line += f" at step {ev.get('resumed_from_step')} with {ev['new_potential_id']}"
        if ev.get("reason"):
            line += f" — {ev['reason']}"
        lines.append(line)
    val = doc.get("validation") or {}
    if val.get("state") == "done":
        parts = [f"{q} rmse {val[q]['rmse']:.1f} {val[q]['unit']} (max {val[q]['max']:.1f})"
                 for q in ("energy", "forces", "stress") if val.get(q)]
        failed = f", {val['n_failed']} failed to label (excluded)" if val.get("n_failed") else ""
        lines.append(f"  validation on production frames: {', '.join(parts) or 'no labelled frame'}; "
                     f"{val.get('n_frames')} frames{failed}; potential {val.get('potential_id')}")
    elif val:
        lines.append(f"  validation on production frames: {val.get('state')} ({len(val.get('config_ids') or [])} frames)")
    return lines


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 1000 else f"{v:.3g}"
    return str(v)


def pause(settings: Settings, campaign_id: str) -> int:
    """Pause every firework of the campaign that has not started; running ones finish."""
    store = Store.open(settings, must_exist=True)
    doc = store.get_campaign(campaign_id)
    lp = get_launchpad(settings)
    ids = [d["fw_id"] for d in lp.fireworks.find({"spec._seilearn.campaign_id": campaign_id,
                                                  "state": {"$in": ["READY", "WAITING"]}}, {"fw_id": 1})]
    for fw_id in ids:
        lp.pause_fw(fw_id)
    store.record_campaign(campaign_id, state="paused", state_before_pause=doc.get("state"))
    return len(ids)


def resume(settings: Settings, campaign_id: str) -> int:
    store = Store.open(settings, must_exist=True)
    doc = store.get_campaign(campaign_id)
    lp = get_launchpad(settings)
    ids = [d["fw_id"] for d in lp.fireworks.find({"spec._seilearn.campaign_id": campaign_id, "state": "PAUSED"},
                                                 {"fw_id": 1})]
    for fw_id in ids:
        lp.resume_fw(fw_id)
    if doc.get("state") == "paused":
        store.record_campaign(campaign_id, state=doc.get("state_before_pause") or "running")
    return len(ids)


def extend(settings: Settings, campaign_id: str, iterations: int) -> str:
    """Allow ``iterations`` more iterations and, if the loop has stopped, add one more exploration iteration
    at the current stage with the current potential."""
    store = Store.open(settings, must_exist=True)
    doc = store.get_campaign(campaign_id)
    spec = CampaignSpec.from_dict(doc["spec"])
    spec.max_iterations += iterations
    store.record_campaign(campaign_id, spec=spec.to_dict())
    lp = get_launchpad(settings)
    if lp.fireworks.count_documents({"spec._seilearn.campaign_id": campaign_id, "state": {"$in": ACTIVE_FW_STATES}}):
        return f"max_iterations raised to {spec.max_iterations}; the campaign is still running"
    pid = doc.get("current_potential_id")
    if not pid:
        raise SeilearnError(f"campaign {campaign_id} has no trained potential yet; nothing to extend")
    it = int(doc.get("iteration", 0)) + 1
    stage, rung = int(doc.get("stage", 0)), int(doc.get("rung", 0))
    lp.add_wf(iteration_workflow(spec, campaign_id, it, stage, pid, rung))
    store.record_campaign(campaign_id, state="running", iteration=it)
    return f"added exploration iteration {it} at stage {stage + 1} with {pid}; max_iterations {spec.max_iterations}"


def launch_intervals(lp, campaign_id: str) -> list[tuple[float, float, str]]:
    """(start, end, kind) in epoch seconds of every finished launch of the campaign's fireworks."""
    from fireworks.utilities.fw_serializers import reconstitute_dates

    kinds = {d["fw_id"]: d["spec"]["_seilearn"].get("kind", "?")
             for d in lp.fireworks.find({"spec._seilearn.campaign_id": campaign_id}, {"fw_id": 1, "spec._seilearn": 1})}
    out = []
    # read the state history only: a launch's action may name task classes this version no longer has
    for doc in lp.launches.find({"fw_id": {"$in": list(kinds)}}, {"_id": 0, "fw_id": 1, "state_history": 1}):
        times = {h["state"]: reconstitute_dates(h.get("created_on")) for h in doc.get("state_history") or []}
        start, end = times.get("RUNNING"), times.get("COMPLETED") or times.get("FIZZLED")
        if start and end:
            out.append((start.timestamp(), end.timestamp(), kinds[doc["fw_id"]]))
    return sorted(out)


def rocket_utilisation(lp, campaign_id: str, rockets: int) -> dict[str, Any]:
    """How busy ``rockets`` rockets were over the campaign's span (first launch start to last launch end):
    busy rocket-seconds over rockets x span, the idle fraction, and the seconds with k fireworks running."""
    spans = launch_intervals(lp, campaign_id)
    if not spans:
        return {"rockets": rockets, "span_s": 0.0, "busy_s": 0.0, "idle_fraction": None, "seconds_at": {}}
    t0, t1 = spans[0][0], max(e for _, e, _ in spans)
    busy = sum(e - s for s, e, _ in spans)
    events = sorted([(s, 1) for s, _, _ in spans] + [(e, -1) for _, e, _ in spans])
    at: dict[int, float] = {}
    level, last = 0, t0
    for t, step in events:
        at[level] = at.get(level, 0.0) + (t - last)
        level, last = level + step, t
    by_kind: dict[str, float] = {}
    for s, e, kind in spans:
        by_kind[kind] = by_kind.get(kind, 0.0) + (e - s)
    span = t1 - t0
    return {"rockets": rockets, "span_s": span, "busy_s": busy,
            "idle_fraction": max(0.0, 1.0 - busy / (rockets * span)) if span > 0 else None,
            "seconds_at": {k: round(v, 1) for k, v in sorted(at.items())},
            "busy_by_kind_s": {k: round(v, 1) for k, v in sorted(by_kind.items())}}
