"""`seilearn mtp calc-efs POT CFG OUT`: energies, forces and stresses of every configuration (MLIP's calc-efs)."""

from __future__ import annotations

import argparse
import sys

from seilearn.cli import command_group
from seilearn.errors import InputError
from seilearn.species import DEFAULT_SPECIES


def register(sub: argparse._SubParsersAction) -> None:
    grp = command_group(sub, "mtp", "Moment tensor potentials: evaluate, train, cross-validate")
    p = grp.add_parser("calc-efs", help="evaluate a potential (.mtp or .almtp) on every configuration of a .cfg file")
    p.add_argument("pot", metavar="POT", help="the potential, .mtp or .almtp")
    p.add_argument("cfg", metavar="CFG", help="input configurations (.cfg)")
    p.add_argument("out", metavar="OUT", help="output .cfg with energies, forces and stresses (written atomically)")
    p.add_argument("--species", default=",".join(DEFAULT_SPECIES),
                   help="chemical symbol of each MTP type, comma-separated (default Li,P,S,Cl; extra ones are ignored)")
    p.add_argument("--allow-short", action="store_true",
                   help="evaluate configurations with atoms closer than the potential's min_dist (MLIP's behaviour) "
                        "instead of rejecting them")
    p.set_defaults(func=_calc_efs)


def _calc_efs(args: argparse.Namespace) -> int:
    from seilearn.mtp.cfg import iread_cfg, write_cfg
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import MTPCalculator, Potential

    model = read_mtp(args.pot)
    species = [s.strip() for s in args.species.split(",") if s.strip()][: model.species_count]
    pot = Potential(model, species)
    calc = MTPCalculator(pot)
    out = []
    items = iread_cfg(args.cfg, species)
    if sys.stderr.isatty():  # tqdm's own rule (disable=None), without its import (~20 ms) when there is no bar
        from tqdm import tqdm

        items = tqdm(items, desc="calc-efs", unit="cfg", file=sys.stderr)
    for index, atoms in enumerate(items):
        if not args.allow_short:
            pot.check_distances(atoms, where=f"{args.cfg}: configuration {index} (or pass --allow-short)")
        atoms.info.pop("mlip_features", None)  # MLIP's calc-efs drops the input's features
        atoms.info.pop("mv_grade", None)
        atoms.arrays.pop("nbh_grades", None)
        atoms.calc = calc
        atoms.get_potential_energy()
        atoms.calc = _frozen(atoms, calc)
        # MLIP writes which model made the labels and the shortest contact; same keys, our name
        features = {"EFS_by": f"seilearn_MTP{model.alpha_scalar_moments + 1}"}
        dmin = pot.min_distance(atoms)
        if dmin is not None:
            features["mindist"] = f"{dmin:.6f}"
        atoms.info["mlip_features"] = features
        out.append(atoms)
    if not out:
        raise InputError(f"{args.cfg}: no configurations (expected BEGIN_CFG ... END_CFG blocks)")
    write_cfg(args.out, out, species)
    print(f"wrote {len(out)} configurations to {args.out}", file=sys.stderr)
    return 0


def _frozen(atoms, calc):
    from ase.calculators.singlepoint import SinglePointCalculator

    res = calc.results
    return SinglePointCalculator(atoms, energy=res["energy"], forces=res["forces"], stress=res.get("stress"))
