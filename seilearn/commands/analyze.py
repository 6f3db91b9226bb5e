"""``seilearn analyze TRAJ`` (time series, fits, stages, plots) and ``seilearn analyze plot CSV...`` (overlay)."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from seilearn.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze", help="SEI analysis of a production trajectory (alpha, crystallinity, growth laws, stages)",
        description="seilearn analyze TRAJ [options]: reduced fraction alpha, N(PS_k), PTM crystallinity "
                    "(fcc/hcp), amorphous fraction and Li consumed per frame -> DIR/LABEL.csv, LABEL.json "
                    "(fits, stages) and plots. seilearn analyze plot RUN1.csv RUN2.csv --labels A B --out "
                    "fig.png overlays several runs. seilearn analyze export TRAJ --frame N --out f.extxyz "
                    "writes one frame with a per-atom class and colour.")
    p.add_argument("inputs", nargs="+", metavar="TRAJ", help="trajectory, or 'plot CSV...', or 'export TRAJ'")
    p.add_argument("--format", default="extxyz", choices=("extxyz", "lammps-dump"))
    p.add_argument("--every", type=int, default=1, help="analyse every n-th frame")
    p.add_argument("--workers", type=int, default=1, help="processes over frames")
    p.add_argument("--dt", type=float, help="ps per LAMMPS timestep (time = timestep x dt)")
    p.add_argument("--cutoff", type=float, default=3.0, help="P-S bond cutoff in A (default 3.0)")
    p.add_argument("--species", default="Li,P,S,Cl", help="LAMMPS type order, comma separated")
    p.add_argument("--label", help="run label (default: trajectory file stem)")
    p.add_argument("--labels", nargs="+", help="labels of the runs for 'plot'")
    p.add_argument("--frame", type=int, default=-1, help="frame index for 'export' (default last)")
    p.add_argument("--out", default="analysis", help="output directory (analyze), figure (plot) or extxyz (export)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_handler)


def _handler(args: argparse.Namespace) -> int:
    mode, rest = args.inputs[0], args.inputs[1:]
    if mode == "plot":
        return _plot(rest, args)
    if mode == "export":
        return _export(rest, args)
    if rest:
        raise InputError(f"seilearn analyze takes one trajectory, got {len(args.inputs)}; analyse runs "
                         "separately and overlay them with 'seilearn analyze plot A.csv B.csv'")
    from seilearn.analysis.trajectory import analyze_trajectory

    species = tuple(x.strip() for x in args.species.split(",") if x.strip())
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, *a, **k: print(f"warning: {msg}", flush=True)
        out = analyze_trajectory(mode, args.out, label=args.label or Path(mode).stem, fmt=args.format,
                                 every=args.every, workers=args.workers, dt_ps=args.dt, cutoff=args.cutoff,
                                 species=species, progress=not args.no_progress)
    final = out["final"]
    print(f"{out['frames']} frames; final t = {final['time_ps']:g} ps: alpha = {final['alpha']:.4f}, "
          f"c = {final['c']:.4f} (fcc {final['c_fcc']:.4f}, hcp {final['c_hcp']:.4f}), "
          f"amorphous = {final['amorphous']:.4f}, Li consumed = {final['li_consumed']}")
    print(json.dumps(out["stages"]))
    print(f"wrote {out['timeseries_csv']}, {Path(out['timeseries_csv']).with_suffix('.json')}, "
          + ", ".join(out["plots"]))
    return 0


def _plot(csvs: list[str], args: argparse.Namespace) -> int:
    from seilearn.analysis.plots import overlay_runs

    if not csvs:
        raise InputError("seilearn analyze plot needs at least one CSV written by 'seilearn analyze'")
    labels = args.labels or [Path(c).stem for c in csvs]
    if len(labels) != len(csvs):
        raise InputError(f"--labels has {len(labels)} names for {len(csvs)} CSV files; give one per file")
    for c in csvs:
        if not Path(c).is_file():
            raise InputError(f"{c}: CSV not found; run 'seilearn analyze TRAJ' first")
    paths = overlay_runs(dict(zip(labels, csvs)), Path(args.out))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _export(rest: list[str], args: argparse.Namespace) -> int:
    from ase.io import read

    from seilearn.analysis.export import export_classified

    if len(rest) != 1:
        raise InputError("seilearn analyze export takes one trajectory: analyze export TRAJ --frame N --out F")
    fmt = {"extxyz": "extxyz", "lammps-dump": "lammps-dump-text"}[args.format]
    kw = {"specorder": args.species.split(",")} if args.format == "lammps-dump" else {}
    try:
        atoms = read(rest[0], index=args.frame, format=fmt, **kw)
    except (OSError, IndexError, ValueError) as exc:
        raise InputError(f"{rest[0]}: cannot read frame {args.frame} ({exc}); check the path and --frame") from exc
    out = args.out if args.out.endswith((".xyz", ".extxyz")) else str(Path(args.out) / "classified.extxyz")
    counts = export_classified(atoms, out, args.cutoff)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
