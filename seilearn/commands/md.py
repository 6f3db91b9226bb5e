"""``seilearn explore``, ``seilearn md produce`` and ``seilearn md decks``: exploration MD with grades,
checkpointed production MD, and LAMMPS decks for clusters."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seilearn.errors import InputError

_SCHEDULE_HELP = ("a number, a linear ramp over the run like 300:600, or points VALUE@FRACTION like "
                  "300@0,600@0.5,600@1 (VALUE@NSTEPstep for an absolute step)")


def register(subparsers: argparse._SubParsersAction) -> None:
    from seilearn.cli import command_group

    e = subparsers.add_parser(
        "explore", help="grade-monitored exploration MD with the current MTP",
        description="Run STRUCTURE with POT under NPT (or NVT), grade every k steps against the active set, write "
                    "frames above --save to preselected.cfg, stop at --break (status stopped_at_break, exit 0). "
                    "Writes trajectory.extxyz, preselected.cfg and summary.json to --out.")
    _structure_args(e)
    e.add_argument("--steps", type=int, required=True)
    e.add_argument("--temperature", required=True, help=f"K: {_SCHEDULE_HELP}")
    e.add_argument("--pressure", help="bar, a number or a schedule like --temperature; NPT when given, else NVT")
    e.add_argument("--save", type=float, default=1.5, help="threshold_save (default 1.5)")
    e.add_argument("--break", dest="brk", type=float, default=5.5, help="threshold_break (default 5.5)")
    e.add_argument("--active-set", help=".almtp with the active set (default: the one stored in POT)")
    e.add_argument("--grade-every", type=int, default=20, help="grade every k steps (default 20: grading < 20 %% of the run for 416 atoms)")
    e.add_argument("--timestep", type=float, default=1.0, help="fs (default 1)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--stage", help="threshold-schedule stage recorded with each preselected frame")
    e.add_argument("--out", default="explore", help="output directory (default ./explore)")
    e.set_defaults(func=_explore)

    grp = command_group(subparsers, "md", "molecular dynamics: production runs and LAMMPS decks")
    p = grp.add_parser("produce", help="checkpointed NPT production MD (resumes when re-run in the same --out)",
                       description="NPT Nose-Hoover production run; frames every --dump-every steps to "
                                   "trajectory.extxyz (time in ps in info); re-running resumes from the checkpoint.")
    _structure_args(p)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--temperature", required=True, help=f"K: {_SCHEDULE_HELP}")
    p.add_argument("--pressure", default="1", help="bar, a number or a schedule like --temperature (default 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timestep", type=float, default=1.0, help="fs (default 1)")
    p.add_argument("--dump-every", type=int, default=1000)
    p.add_argument("--out", default="production", help="output directory (default ./production)")
    p.set_defaults(func=_produce)

    d = grp.add_parser("decks", help="LAMMPS pair_style mlip decks (MLIP-2 or MLIP-3) for clusters",
                       description="Write one run directory per run: in.lammps, structure.data, mlip.ini (MLIP-2) "
                                   "and run.sh. Production: the paper's grid (300/350/400 K, 1 bar and 1 kbar, "
                                   "two seeds) unless --temperature/--pressure/--seed are given.")
    d.add_argument("structure", help="structure file or bulk/interface name")
    d.add_argument("potential", help="potential file name as the cluster run directory will see it")
    d.add_argument("--supercell", help="e.g. 2,2,2")
    d.add_argument("--mlip", type=int, choices=(2, 3), default=2, help="MLIP version syntax (default 2)")
    d.add_argument("--explore", action="store_true", help="exploration deck (one rank, preselection on)")
    d.add_argument("--save", type=float, default=1.5)
    d.add_argument("--break", dest="brk", type=float, default=5.5)
    d.add_argument("--active-set", help="MLIP-2 select:load-state file")
    d.add_argument("--temperature", type=float, nargs="*")
    d.add_argument("--pressure", type=float, nargs="*")
    d.add_argument("--seed", type=int, nargs="*")
    d.add_argument("--steps", type=int, default=10_000_000)
    d.add_argument("--ranks", type=int, default=64, help="MPI ranks for production (exploration uses 1)")
    d.add_argument("--launcher", choices=("srun", "mpirun", "none"), default="srun")
    d.add_argument("--out", default="decks")
    d.set_defaults(func=_decks)


def _structure_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("structure", help="structure file (extxyz, POSCAR, .cfg, ...) or a name: li, lpsc, li2s, li3p, "
                                     "licl, antifluorite, interface-mini, interface-I, interface-II")
    p.add_argument("potential", help="potential .mtp or .almtp")
    p.add_argument("--supercell", help="repeat the structure, e.g. 2,2,2")
    p.add_argument("--species", help="comma-separated species of the MTP types")


def _schedules(args: argparse.Namespace):
    """--temperature and --pressure as schedules (pressure None when not given), checked against --steps."""
    from seilearn.md.schedules import pressure_schedule, temperature_schedule

    temperature = temperature_schedule(args.temperature, "--temperature")
    pressure = pressure_schedule(args.pressure, "--pressure") if args.pressure is not None else None
    for sched in (temperature, pressure):
        if sched is not None:
            sched.check(args.steps)
    return temperature, pressure


def load_structure(name: str, supercell: str | None = None, species=None):
    """A structure from a file or by name (see seilearn.structures.resolve); ``supercell`` as ``2,2,2``."""
    from seilearn.structures.resolve import resolve_structure

    reps = None
    if supercell:
        try:
            reps = [int(k) for k in supercell.split(",")]
        except ValueError:
            reps = []
        if len(reps) != 3 or min(reps) < 1:
            raise InputError(f"--supercell {supercell!r}: give three positive integers like 2,2,2")
    return resolve_structure(name, reps, species)


def _explore(args: argparse.Namespace) -> int:
    from seilearn.commands.selection import load_potential
    from seilearn.fileio import atomic_write
    from seilearn.md.exploration import run_exploration, write_preselected
    from seilearn.selection.active_set import ActiveSet

    temperature, pressure = _schedules(args)  # a malformed schedule is reported before the potential is loaded
    pot, aset = load_potential(args.potential, args.species)
    if args.active_set:
        aset = ActiveSet.read(args.active_set, pot.species)
    if aset is None:
        raise InputError(f"{args.potential} has no active set; pass --active-set FILE.almtp "
                         "(build one with `seilearn grade ... --active-set`)")
    atoms = load_structure(args.structure, args.supercell, pot.species)
    pot.check(atoms, args.structure)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = {"potential": Path(args.potential).name}
    if args.stage is not None:
        info["stage"] = args.stage
    res = run_exploration(atoms, pot, aset, steps=args.steps, temperature=temperature,
                          pressure_bar=pressure if pressure is not None else 1.0,
                          ensemble="npt" if args.pressure is not None else "nvt", timestep_fs=args.timestep,
                          grade_every=args.grade_every, threshold_save=args.save, threshold_break=args.brk,
                          seed=args.seed, frame_info=info, trajectory=out / "trajectory.extxyz")
    write_preselected(out / "preselected.cfg", res.preselected, pot.species)
    summary = {**res.summary(), "n_preselected": res.n_preselected}
    with atomic_write(out / "summary.json") as fh:
        json.dump(summary, fh, indent=1)
    print(f"{res.status}: {res.steps_done} steps, max grade {res.max_grade:.3g}, "
          f"{len(res.preselected)} preselected -> {out}")
    return 0 if res.status in ("completed", "stopped_at_break") else 1


def _produce(args: argparse.Namespace) -> int:
    from seilearn.commands.selection import load_potential
    from seilearn.fileio import atomic_write
    from seilearn.md.production import run_production

    temperature, pressure = _schedules(args)
    pot, _ = load_potential(args.potential, args.species)
    atoms = load_structure(args.structure, args.supercell, pot.species)
    pot.check(atoms, args.structure)
    res = run_production(atoms, pot, outdir=args.out, steps=args.steps, temperature=temperature,
                         pressure_bar=pressure, timestep_fs=args.timestep, dump_every=args.dump_every,
                         seed=args.seed)
    with atomic_write(Path(args.out) / "summary.json") as fh:
        json.dump(res.summary(), fh, indent=1)
    print(f"{res.status}: {res.steps_done} steps, {res.time_ps:.2f} ps, {res.frames} frames -> {res.trajectory}")
    for change in res.timestep_history[1:]:  # a halved timestep means less simulated time: say so, and why
        print(f"  timestep {change['timestep_fs']:g} fs from step {change['from_step']}: {change.get('reason', '')}")
    return 0 if res.status == "completed" else 1


def _decks(args: argparse.Namespace) -> int:
    import itertools
    import shlex

    from seilearn.fileio import atomic_write
    from seilearn.md import lammps_decks as ld

    atoms = load_structure(args.structure, args.supercell)
    temps = args.temperature or list(ld.PAPER_TEMPERATURES_K)
    pressures = args.pressure or list(ld.PAPER_PRESSURES_BAR)
    seeds = args.seed or list(ld.PAPER_SEEDS)
    out = Path(args.out)
    for T, P, seed in itertools.product(temps, pressures, seeds):
        s = ld.DeckSettings(potential=args.potential, temperature_K=T, pressure_bar=P, seed=seed, steps=args.steps,
                            exploration=args.explore, mlip_version=args.mlip, threshold_save=args.save,
                            threshold_break=args.brk, active_set=args.active_set)
        run_dir = out / ld.run_name(s)
        ld.write_deck(run_dir, atoms, s)
        cmd = ld.lammps_command(s, ranks=1 if args.explore else args.ranks, launcher=args.launcher)
        with atomic_write(run_dir / "run.sh") as fh:
            fh.write("#!/bin/sh\n# exit status 8 = MLIP breaking threshold exceeded (stopped_at_break)\n"
                     f"{shlex.join(cmd)}\n")
        print(run_dir)
    return 0
