"""``seilearn launch local|queue``: run rockets here, or submit them to SLURM/PBS with our own caps."""

from __future__ import annotations

import argparse

from seilearn.cli import command_group


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "launch", "Run FireWorks rockets: locally in parallel, or through a queue")
    p = grp.add_parser("local", help="run rockets on this machine until the campaign has nothing left to run")
    p.add_argument("--rockets", type=int, default=2)
    p.add_argument("--campaign", help="only this campaign's fireworks")
    p.add_argument("--category", action="append", help="only these categories (repeatable)")
    p.set_defaults(func=_local)
    p = grp.add_parser("queue", help="submit queue jobs for one category, capped by our own queued/running jobs")
    p.add_argument("--worker", required=True, help="FWorker YAML (launchers/templates/fworker_<category>.yaml)")
    p.add_argument("--qadapter", required=True, help="CommonAdapter YAML (launchers/templates/qadapter_*.yaml)")
    p.add_argument("--max-queued", type=int, default=10)
    p.add_argument("--max-running", type=int, default=50)
    p.add_argument("--launch-dir", default=".")
    p.add_argument("--dry-run", action="store_true", help="print how many jobs would be submitted")
    p.set_defaults(func=_queue)


def _local(args: argparse.Namespace) -> int:
    from seilearn.config import load_settings
    from seilearn.launchers.local import counts, launch_local
    from seilearn.store import get_launchpad

    launch_local(args.rockets, campaign_id=args.campaign, categories=args.category)
    c = counts(get_launchpad(load_settings()), args.campaign)
    print("fireworks: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    return 1 if c.get("FIZZLED") else 0


def _queue(args: argparse.Namespace) -> int:
    from seilearn.config import load_settings
    from seilearn.launchers.queue import submit
    from seilearn.store import get_launchpad

    n = submit(get_launchpad(load_settings()), args.worker, args.qadapter, max_queued=args.max_queued,
               max_running=args.max_running, launch_dir=args.launch_dir, dry_run=args.dry_run)
    print(f"{'would submit' if args.dry_run else 'submitted'} {n} job(s)")
    return 0
