"""Orchestration overhead of the active-learning workflow on the embedded server.

Runs the tiny campaign (tests/workflow/tiny_campaign.yaml) end to end with local rockets and splits
every firework's wall time into science (structures, labelling, training, MD, selection, analysis;
recorded by the tasks as ``engine_s``) and the rest: FireWorks bookkeeping, store reads/writes,
GridFS transfers, provenance. Prints a table per firework kind and per iteration.

Also prints how busy the rockets were: busy rocket-seconds over rockets x the campaign's span, and the
seconds spent with 0, 1, 2, ... fireworks running.

Usage: python benchmarks/orchestration.py [SPEC.yaml]
       python benchmarks/orchestration.py --measure CAMPAIGN [--rockets N]   (an existing store, e.g. the
       main job's: SEILEARN_HOME=... python benchmarks/orchestration.py --measure lpsc-li-local)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def print_utilisation(campaign_id: str, rockets: int) -> None:
    from seilearn.config import load_settings
    from seilearn.store import get_launchpad
    from seilearn.workflows.campaign import rocket_utilisation

    u = rocket_utilisation(get_launchpad(load_settings()), campaign_id, rockets)
    if u["idle_fraction"] is None:
        print(f"campaign {campaign_id}: no finished launches")
        return
    print(f"\nrockets: {rockets}, campaign span {u['span_s']:.1f} s, busy {u['busy_s']:.1f} rocket-s, "
          f"idle fraction {u['idle_fraction']:.1%}")
    print("seconds with k fireworks running: " + ", ".join(f"{k}: {v:.0f}" for k, v in u["seconds_at"].items()))
    print("busy rocket-seconds by kind: " + ", ".join(f"{k} {v:.0f}" for k, v in u["busy_by_kind_s"].items()))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        rockets = int(sys.argv[sys.argv.index("--rockets") + 1]) if "--rockets" in sys.argv else 2
        print_utilisation(sys.argv[2], rockets)
        return
    spec = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "tests" / "workflow" / "tiny_campaign.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SEILEARN_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("SEILEARN_MONGODB_URI", None)
        from seilearn.config import load_settings
        from seilearn.store import get_launchpad, server
        from seilearn.workflows.run import run_campaign

        settings = load_settings()
        t0 = time.time()
        rc = run_campaign(spec, rockets=2, poll_s=2.0)
        wall = time.time() - t0
        lp = get_launchpad(settings)
        from seilearn.workflows.spec import load_spec

        print_utilisation(load_spec(spec).name, 2)
        per_kind: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        for fw in lp.fireworks.find({}, {"fw_id": 1, "spec._seilearn": 1, "launches": 1}):
            kind = fw["spec"]["_seilearn"]["kind"]
            for launch in lp.launches.find({"launch_id": {"$in": fw.get("launches", [])}, "state": "COMPLETED"}):
                data = (launch.get("action") or {}).get("stored_data") or {}
                runtime = float(launch.get("runtime_secs") or 0.0)
                per_kind[kind].append((runtime, float(data.get("task_s", 0.0)), float(data.get("engine_s", 0.0))))
        server.stop(settings.db_path)
    print(f"\ncampaign {spec}: exit {rc}, wall {wall:.1f} s (2 rockets, 2-core machine)\n")
    print(f"{'firework kind':<14}{'n':>4}{'launch s':>10}{'science s':>11}{'overhead s':>12}{'overhead/fw':>13}{'share':>8}")
    tot_run = tot_eng = 0.0
    n_all = 0
    for kind, rows in sorted(per_kind.items()):
        run = sum(r[0] for r in rows)
        eng = sum(r[2] for r in rows)
        tot_run += run
        tot_eng += eng
        n_all += len(rows)
        print(f"{kind:<14}{len(rows):>4}{run:>10.2f}{eng:>11.2f}{run - eng:>12.2f}{(run - eng) / len(rows):>13.3f}"
              f"{(run - eng) / run if run else 0:>8.1%}")
    print(f"{'all':<14}{n_all:>4}{tot_run:>10.2f}{tot_eng:>11.2f}{tot_run - tot_eng:>12.2f}"
          f"{(tot_run - tot_eng) / max(n_all, 1):>13.3f}{(tot_run - tot_eng) / tot_run if tot_run else 0:>8.1%}")


if __name__ == "__main__":
    main()
