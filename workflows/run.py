"""The main job: create or resume a campaign and drive it to the end with local rockets, showing progress."""

from __future__ import annotations

import time
from pathlib import Path

from seilearn.config import load_settings


def run_campaign(spec_path: str | Path, rockets: int = 2, poll_s: float = 5.0) -> int:
    """Run (or resume) the campaign of ``spec_path`` here; Ctrl-C stops it and the same call resumes it."""
    from seilearn.launchers.local import launch_local
    from seilearn.store import Store, get_launchpad
    from seilearn.workflows.campaign import create_campaign, format_status, progress, status
    from seilearn.workflows.spec import load_spec

    settings = load_settings()
    spec = load_spec(spec_path)
    cid, created = create_campaign(settings, spec)
    print(f"[seilearn] campaign {cid}: {'created' if created else 'resuming'}; store {settings.db_name} "
          f"({'embedded server' if settings.embedded else 'external MongoDB'}); results in {settings.work_dir / cid}",
          flush=True)
    procs = launch_local(rockets, campaign_id=cid, wait=False, idle_exit_s=5.0)
    last = ""
    t0 = time.time()
    store, lp = Store.open(settings, must_exist=True), get_launchpad(settings)
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(poll_s)
            line = _progress_line(progress(store, lp, cid))
            if line != last:
                print(f"[seilearn {time.time() - t0:7.0f} s] {line}", flush=True)
                last = line
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        print("\n[seilearn] interrupted; run the same command again to resume (finished work is kept)", flush=True)
        return 130
    doc = status(settings, cid)
    print(format_status(doc))
    print("\n" + results_line(doc, settings.work_dir / cid))
    print("[seilearn] web GUI and dashboard: `seilearn webgui` then open http://127.0.0.1:5000 "
          "(dashboard under /seilearn/)")
    print(f"[seilearn] provenance of any configuration: `seilearn provenance CONFIG_ID`; "
          f"dataset: `seilearn dataset stats --campaign {cid}`")
    fizzled = doc.get("fireworks", {}).get("FIZZLED", 0)
    if fizzled:
        print(f"[seilearn] {fizzled} firework(s) failed: `seilearn lpad get_fws -s FIZZLED -d more`")
        return 1
    return 0 if doc.get("state") in ("done", "converged") else 1


def results_line(doc: dict, campaign_dir: Path) -> str:
    """Where the results are: only a folder that exists (a campaign stopped early may have written none)."""
    found = [Path(p) for p in (doc.get("results_dir"), campaign_dir) if p and Path(p).is_dir()]
    if found:
        return f"[seilearn] results: {found[0]}"
    return f"[seilearn] no results folder: the campaign stopped ({doc.get('state')}) before writing any"


def _progress_line(doc: dict) -> str:
    fws = doc.get("fireworks", {})
    breaks = doc.get("spec", {}).get("thresholds", {}).get("breaks", [])
    stage = doc.get("stage", 0)
    hist = sorted(doc.get("history", []), key=lambda h: h["iteration"])
    last = hist[-1] if hist else {}
    return (f"{doc.get('state')}: iteration {doc.get('iteration')}, stage {stage + 1}/{len(breaks)} "
            f"(break {breaks[stage] if stage < len(breaks) else '-'}), training set {doc.get('n_train', '-')}, "
            f"last selection {last.get('n_selected', '-')}; fireworks "
            + " ".join(f"{k.lower()} {v}" for k, v in sorted(fws.items())))
