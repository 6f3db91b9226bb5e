"""``seilearn grade`` and ``seilearn select-add``: MLIP's calculate_grade and select_add."""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from seilearn.errors import InputError

log = logging.getLogger("seilearn.selection")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grade", help="extrapolation (MaxVol) grades of configurations",
        description="Grade IN.cfg against the active set and write OUT.cfg with Feature MV_grade (and per-atom "
                    "nbh_grades in nbh mode). The active set is, in this order: --active-set FILE if it exists, "
                    "the one stored in POT (.almtp), or built from TRAIN.cfg; with --active-set FILE the active set used is saved there when FILE does not exist yet (or with --rebuild).")
    p.add_argument("pot", help="potential: .mtp, or .almtp (with or without an active set)")
    p.add_argument("files", nargs="+", metavar="CFG", help="[TRAIN.cfg] IN.cfg OUT.cfg")
    p.add_argument("--mode", choices=("cfg", "nbh"), help="selection rows (default: the stored active set's, else nbh)")
    p.add_argument("--active-set", help=".almtp file to reuse (if it exists) or to save the built active set to")
    p.add_argument("--rebuild", action="store_true", help="build the active set from TRAIN.cfg even if POT has one")
    p.add_argument("--species", help="comma-separated species of the MTP types (default: the potential's, "
                                     "else Li,P,S,Cl truncated to species_count)")
    p.set_defaults(func=_grade)

    s = subparsers.add_parser(
        "select-add", help="D-optimality selection of new training configurations (MLIP's select_add)",
        description="Write to OUT.cfg the configurations of CANDIDATES.cfg that MaxVol adds to the active set "
                    "of TRAIN.cfg (with Feature selected_eqn_inds).")
    s.add_argument("pot", help="potential: .mtp or .almtp (its #MVS weights choose the mode)")
    s.add_argument("train", help="training set .cfg")
    s.add_argument("candidates", help="candidate configurations .cfg")
    s.add_argument("out", help="output .cfg")
    s.add_argument("--limit", type=int, help="select at most K configurations (highest grade first)")
    s.add_argument("--mode", choices=("cfg", "nbh"), help="selection rows (default: POT's weights, else nbh)")
    s.add_argument("--threshold", type=float, default=1.001, help="select threshold (default 1.001)")
    s.add_argument("--species", help="comma-separated species of the MTP types")
    s.set_defaults(func=_select_add)


def load_potential(path: str, species_arg: str | None = None):
    """(Potential, ActiveSet or None) from an .mtp or .almtp path."""
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import Potential
    from seilearn.selection.active_set import ActiveSet, has_active_set
    from seilearn.species import DEFAULT_SPECIES

    if not Path(path).is_file():
        raise InputError(f"{path}: no such potential file")
    model = read_mtp(Path(path))
    if species_arg:
        species = [s.strip() for s in species_arg.split(",") if s.strip()]
    elif _model_species(model):
        species = _model_species(model)
    else:
        if model.species_count > len(DEFAULT_SPECIES):
            raise InputError(f"{path}: {model.species_count} species and no species list; pass --species")
        species = list(DEFAULT_SPECIES[: model.species_count])
    pot = Potential(model, species)
    aset = ActiveSet.read(path, species) if has_active_set(path) else None
    return pot, aset


def _model_species(model) -> list[str]:
    """The species list a potential file carries (motep keeps atomic numbers), or []."""
    from ase.data import chemical_symbols

    raw = getattr(model, "species", None)
    raw = [] if raw is None else list(raw)
    if len(raw) != model.species_count:
        return []
    return [s if isinstance(s, str) else chemical_symbols[int(s)] for s in raw]


def _read(path: str, species):
    from seilearn.selection.cfgio import read_cfg_for_selection

    return read_cfg_for_selection(path, species)


def _grade(args: argparse.Namespace) -> int:
    from seilearn.mtp.cfg import write_cfg
    from seilearn.selection.active_set import ActiveSet, build_active_set
    from seilearn.selection.grading import grade_configurations

    if len(args.files) not in (2, 3):
        raise InputError("seilearn grade needs POT [TRAIN.cfg] IN.cfg OUT.cfg")
    train_path = args.files[0] if len(args.files) == 3 else None
    in_path, out_path = args.files[-2:]
    if train_path is not None and not (Path(train_path).is_file() and os.access(train_path, os.R_OK)):
        # given but not needed when POT carries an active set: still an error, never silently skipped
        raise InputError(f"{train_path}: no such training .cfg (or not readable); fix the path or leave it out")
    pot, aset = load_potential(args.pot, args.species)
    t0 = time.time()
    if args.active_set and Path(args.active_set).is_file() and not args.rebuild:
        aset = ActiveSet.read(args.active_set, pot.species)
    elif args.rebuild or aset is None or (args.mode and aset.mode != args.mode):
        aset = None
    if aset is None:
        if train_path is None:
            raise InputError(f"{args.pot} has no active set (of mode {args.mode or 'nbh'}); pass TRAIN.cfg to build one")
        train = _read(train_path, pot.species)
        aset = build_active_set(pot, train, args.mode or "nbh", progress=True)
        log.info("built the %s active set from %d configurations (%d of %d rows filled) in %.2f s", aset.mode,
                 len(train), aset.filled, aset.n, time.time() - t0)
    if args.active_set and not Path(args.active_set).is_file() or (args.active_set and args.rebuild):
        aset.write(args.active_set, species=pot.species)
    graded = grade_configurations(pot, aset, _read(in_path, pot.species), progress=True)
    write_cfg(out_path, graded, pot.species)
    top = max((a.info["mv_grade"] for a in graded), default=0.0)
    print(f"graded {len(graded)} configurations ({aset.mode} mode), max grade {top:.6g} -> {out_path}")
    return 0


def _select_add(args: argparse.Namespace) -> int:
    from seilearn.mtp.cfg import write_cfg
    from seilearn.selection.features import SelectionWeights
    from seilearn.selection.select_add import select_add_details

    pot, aset = load_potential(args.pot, args.species)
    if args.mode:
        weights = SelectionWeights.for_mode(args.mode)
    elif aset is not None:
        weights = aset.weights
    else:
        weights = SelectionWeights.for_mode("nbh")
    train = _read(args.train, pot.species)
    candidates = _read(args.candidates, pot.species)
    result = select_add_details(pot, train, candidates, mode=weights, limit=args.limit, threshold=args.threshold)
    out = []
    for k in result.indices:
        atoms = candidates[k]
        feats = dict(atoms.info.get("mlip_features", {}))
        feats["selected_eqn_inds"] = ",".join(str(e) for e in result.selected_eqn_inds.get(k, []))
        atoms.info["mlip_features"] = feats
        out.append(atoms)
    write_cfg(args.out, out, pot.species)
    print(f"selected {len(out)} of {len(candidates)} candidates ({weights.mode} mode) -> {args.out}")
    return 0
