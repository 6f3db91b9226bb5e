"""`seilearn build interface|bulk|seeds`: structures written as extxyz, LAMMPS data or MLIP .cfg."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ase import Atoms

from seilearn.errors import InputError
from seilearn.fileio import atomic_write
from seilearn.species import DEFAULT_SPECIES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build structures: interface models, bulk phases, seed sets",
                       description="Build structures and write them (.extxyz/.xyz, .data/.lmp LAMMPS data, .cfg).")
    p.set_defaults(func=lambda args, p=p: (p.print_help(), 2)[1])
    grp = p.add_subparsers(dest="build_command", metavar="SUBCOMMAND")

    i = grp.add_parser("interface", help="Li(110)/LPSC(110) sandwich: model I, II, mini or a custom size")
    i.add_argument("--model", default="mini", help="I, II or mini (default mini)")
    i.add_argument("--a-lpsc", type=float, default=10.28, help="LPSC lattice constant, A (default 10.28)")
    i.add_argument("--a-li", type=float, default=None, help="Li bcc lattice constant, A (default a_lpsc/3)")
    i.add_argument("--nx", type=int, default=None, help="LPSC cells (a/sqrt2) along [1-10], even")
    i.add_argument("--ny", type=int, default=None, help="LPSC cells (a) along [001]")
    i.add_argument("--lpsc-layers", type=int, default=None, help="LPSC periods of a/sqrt2 along [110], even")
    i.add_argument("--li-layers", type=int, default=None, help="Li (110) layers, even")
    i.add_argument("--out", required=True, help="output file (.extxyz, .xyz, .data, .lmp, .cfg)")
    i.set_defaults(func=_interface)

    b = grp.add_parser("bulk", help="a bulk phase: lpsc, li, li2s, li3p, licl, antifluorite")
    b.add_argument("phase")
    b.add_argument("--supercell", default=None, help="repeats, e.g. 2,2,2")
    b.add_argument("--out", required=True)
    b.set_defaults(func=_bulk)

    s = grp.add_parser("seeds", help="a reproducible, diverse seed training set")
    s.add_argument("--n", type=int, default=500)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--max-atoms", type=int, default=64, help="size cap for bulk cells (default 64)")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_seeds)


def write_structures(path: str | Path, images: Sequence[Atoms], species: Sequence[str] = DEFAULT_SPECIES) -> None:
    """Write ``images`` by extension: extxyz (.extxyz/.xyz), LAMMPS data (.data/.lmp, one image,
    atom_style atomic, types in ``species`` order) or MLIP .cfg."""
    from ase.io import write

    path = Path(path)
    ext = path.suffix.lower()
    if ext in (".extxyz", ".xyz"):
        with atomic_write(path) as fh:
            write(fh, list(images), format="extxyz")
    elif ext in (".data", ".lmp"):
        if len(images) != 1:
            raise InputError(f"{path}: LAMMPS data holds one structure, got {len(images)}; use .extxyz or .cfg")
        with atomic_write(path) as fh:
            write(fh, images[0], format="lammps-data", atom_style="atomic", specorder=list(species), masses=True)
    elif ext == ".cfg":
        from seilearn.mtp.cfg import write_cfg

        write_cfg(path, list(images), list(species))
    else:
        raise InputError(f"{path}: unknown output extension {ext!r}; use .extxyz, .xyz, .data, .lmp or .cfg")


def _interface(args: argparse.Namespace) -> int:
    from seilearn.structures.interface import build_interface, report

    cells = None
    if args.nx is not None or args.ny is not None:
        from seilearn.structures.interface import MODELS

        if args.model not in MODELS:
            raise InputError(f"unknown interface model {args.model!r}; choose I, II or mini")
        dx, dy = MODELS[args.model][0]
        cells = (args.nx or dx, args.ny or dy)
    atoms = build_interface(args.model, a_lpsc=args.a_lpsc, a_li=args.a_li, lpsc_cells=cells,
                            lpsc_periods=args.lpsc_layers, li_layers=args.li_layers)
    write_structures(args.out, [atoms])
    print(report(atoms).text())
    print(f"wrote {args.out}")
    return 0


def _parse_supercell(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    try:
        reps = tuple(int(x) for x in text.split(","))
    except ValueError:
        reps = ()
    if len(reps) != 3 or min(reps) < 1:
        raise InputError(f"--supercell {text!r}: give three positive integers, e.g. 2,2,2")
    return reps  # type: ignore[return-value]


def _bulk(args: argparse.Namespace) -> int:
    from seilearn.structures.phases import bulk
    from seilearn.structures.validate import shortest_contacts

    atoms = bulk(args.phase, supercell=_parse_supercell(args.supercell))
    write_structures(args.out, [atoms])
    contacts = ", ".join(f"{k} {v:.2f} A" for k, v in sorted(shortest_contacts(atoms).items()))
    print(f"{atoms.get_chemical_formula()}: {len(atoms)} atoms, volume {atoms.get_volume():.2f} A^3; "
          f"shortest contacts: {contacts}")
    print(f"wrote {args.out}")
    return 0


def _seeds(args: argparse.Namespace) -> int:
    from seilearn.structures.seeds import seed_set

    images = seed_set(n=args.n, seed=args.seed, max_atoms=args.max_atoms)
    write_structures(args.out, images)
    kinds = Counter(a.info["seed_kind"] for a in images)
    print(f"{len(images)} configurations, {sum(len(a) for a in images)} atoms; "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), file=sys.stdout)
    print(f"wrote {args.out}")
    return 0
