"""``seilearn label IN OUT --labeller chgnet|vasp|atomate2-vasp|gpaw``: label configurations, never all-or-nothing."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("label", help="label configurations (energy, forces, stress) with CHGNet, VASP or GPAW",
                       description="Reads IN (.cfg or extxyz), labels each configuration and writes the "
                                   "successes to OUT (.cfg: eV, eV/A, PlusStress eV; else extxyz). Failures are "
                                   "listed per configuration and written to OUT.failed.json. Exit code 0 if "
                                   "any configuration was labelled, 1 if none was.")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--labeller", default="chgnet", choices=("chgnet", "vasp", "atomate2-vasp", "gpaw"))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--species", default="Li,P,S,Cl", help="species order of .cfg types (default Li,P,S,Cl)")
    p.add_argument("--vasp-command", help="command that runs VASP (default: $ASE_VASP_COMMAND or 'vasp_std')")
    p.add_argument("--workdir", help="directory for VASP/GPAW runs (default: OUT.runs)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_label)


def _label(args: argparse.Namespace) -> int:
    from seilearn.errors import InputError
    from seilearn.labelling import get_labeller
    from seilearn.labelling.files import label_file

    species = [s.strip() for s in args.species.split(",") if s.strip()]
    if args.batch_size < 1:
        raise InputError(f"--batch-size {args.batch_size}: give a positive batch size")
    kw: dict = {}
    workdir = args.workdir or f"{args.output}.runs"
    if args.labeller == "chgnet":
        kw["batch_size"] = args.batch_size
    elif args.labeller == "vasp":
        kw.update(workdir=workdir, species=species)
        if args.vasp_command:
            kw["command"] = args.vasp_command
    elif args.labeller == "atomate2-vasp":  # task documents go to the store's atomate2_outputs
        kw.update(workdir=workdir, species=species)
        if args.vasp_command:
            kw["vasp_cmd"] = args.vasp_command
    else:
        kw["workdir"] = workdir
    labeller = get_labeller(args.labeller, **kw)
    r = label_file(labeller, args.input, args.output, species=species, batch_size=args.batch_size,
                   progress=not args.no_progress)
    if r["failed"]:
        print(f"{'index':>6s}  {'status':16s} reason", file=sys.stderr)
        for f in r["failed"]:
            print(f"{f['index']:>6d}  {f['status']:16s} {f['reason']}", file=sys.stderr)
    print(f"labelled {r['ok']} of {r['n']} configurations with {args.labeller}"
          + (f" -> {r['out']}" if r["ok"] else "")
          + (f"; {len(r['failed'])} failed (reasons in {r['failed_path']})" if r["failed"] else ""))
    if r["ok"] == 0:
        print(f"error: no configuration of {args.input} could be labelled; see the reasons above", file=sys.stderr)
        return 1
    return 0
