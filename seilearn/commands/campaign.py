"""``seilearn campaign create|run|status|pause|resume|extend``: the active-learning campaign."""

from __future__ import annotations

import argparse
import json

from seilearn.cli import command_group


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "campaign", "Active-learning campaigns on FireWorks")
    p = grp.add_parser("create", help="validate a campaign spec (YAML) and submit its workflow")
    p.add_argument("spec")
    p.set_defaults(func=_create)
    p = grp.add_parser("run", help="create (or resume) a campaign and run it here with local rockets to the end")
    p.add_argument("spec")
    p.add_argument("--rockets", type=int, default=2, help="rocket processes in parallel (default 2)")
    p.set_defaults(func=_run)
    p = grp.add_parser("status", help="state, stage, iterations and convergence evidence of a campaign")
    p.add_argument("campaign_id", nargs="?", help="default: the most recently updated campaign")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    for name, text in (("pause", "pause fireworks that have not started"), ("resume", "resume paused fireworks")):
        p = grp.add_parser(name, help=text)
        p.add_argument("campaign_id")
        p.set_defaults(func=_pause if name == "pause" else _resume)
    p = grp.add_parser("extend", help="allow more iterations and continue a stopped or converged loop")
    p.add_argument("campaign_id")
    p.add_argument("--iterations", type=int, default=5)
    p.set_defaults(func=_extend)


def _settings():
    from seilearn.config import load_settings

    return load_settings()


def _create(args: argparse.Namespace) -> int:
    from seilearn.workflows.campaign import create_campaign
    from seilearn.workflows.spec import load_spec

    spec = load_spec(args.spec)
    cid, created = create_campaign(_settings(), spec)
    print(f"campaign {cid} {'submitted' if created else 'already exists (nothing submitted)'}; "
          f"run rockets with `seilearn launch local` and watch with `seilearn campaign status {cid}`")
    return 0


def _run(args: argparse.Namespace) -> int:
    from seilearn.workflows.run import run_campaign

    return run_campaign(args.spec, rockets=args.rockets)


def _status(args: argparse.Namespace) -> int:
    from seilearn.workflows.campaign import format_status, status

    doc = status(_settings(), args.campaign_id)
    print(json.dumps(doc, indent=2, default=str) if args.json else format_status(doc))
    return 0


def _pause(args: argparse.Namespace) -> int:
    from seilearn.workflows.campaign import pause

    print(f"paused {pause(_settings(), args.campaign_id)} fireworks of {args.campaign_id}; running ones finish")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from seilearn.workflows.campaign import resume

    print(f"resumed {resume(_settings(), args.campaign_id)} fireworks of {args.campaign_id}")
    return 0


def _extend(args: argparse.Namespace) -> int:
    from seilearn.workflows.campaign import extend

    print(extend(_settings(), args.campaign_id, args.iterations))
    return 0
