"""``seilearn cut``: DFT-sized configurations cut around the extrapolative atoms of large frames."""

from __future__ import annotations

import argparse
import logging
import time

from seilearn.errors import InputError

log = logging.getLogger("seilearn.cutting")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cut", help="cut DFT-sized configurations around extrapolative atoms of large frames",
        description="Grade the atoms of every frame of FRAMES.cfg (nbh mode: POT's active set, else one built from "
                    "TRAIN.cfg, else the frames' own nbh_grades), take up to K centres graded above the threshold "
                    "(highest first, at least D apart) and write one configuration per centre to OUT.cfg, with "
                    "its provenance in Feature cut (JSON: parent hash, frame, centre, radius, mode, box, parent "
                    "index of every atom, core atoms, electrons). box: a periodic box (the fcc cell, a rhombic "
                    "dodecahedron) whose atoms within the radius of the centre are exactly the parent's; "
                    "cluster: the open sphere in vacuum (MLIP-3's cut_extrapolative_nbh).")
    p.add_argument("pot", help="potential: .mtp, or .almtp (with or without an active set)")
    p.add_argument("files", nargs="+", metavar="CFG", help="[TRAIN.cfg] FRAMES.cfg OUT.cfg")
    p.add_argument("--radius", type=float,
                   help="exact radius around the centre, at least the MTP cutoff (default: the largest radius up to "
                        "twice the cutoff whose cut has at most --max-atoms atoms)")
    p.add_argument("--max-atoms", type=int, default=200,
                   help="at most this many atoms per cut (default 200, the VASP labeller's)")
    p.add_argument("--mode", choices=("box", "cluster"), default="box", help="periodic box (default) or open cluster")
    p.add_argument("--per-frame", type=int, default=1, help="centres per frame, K (default 1, as MLIP-3)")
    p.add_argument("--min-spacing", type=float, help="minimum distance between centres of a frame, D "
                                                      "(default twice the cutoff)")
    p.add_argument("--threshold", type=float, default=1.5,
                   help="a centre's grade must exceed this (default 1.5, the paper's save threshold)")
    p.add_argument("--vacuum", type=float, default=9.0, help="vacuum around a cluster (A, default 9)")
    p.add_argument("--species", help="comma-separated species of the MTP types (default: the potential's)")
    p.set_defaults(func=_cut)


def _cut(args: argparse.Namespace) -> int:
    from seilearn.commands.selection import load_potential
    from seilearn.cutting import CutSettings, cut_frames
    from seilearn.cutting.records import to_features
    from seilearn.mtp.cfg import write_cfg
    from seilearn.selection import build_active_set
    from seilearn.selection.cfgio import read_cfg_for_selection

    if len(args.files) not in (2, 3):
        raise InputError("seilearn cut needs POT [TRAIN.cfg] FRAMES.cfg OUT.cfg")
    train_path = args.files[0] if len(args.files) == 3 else None
    frames_path, out_path = args.files[-2:]
    settings = CutSettings(radius=args.radius, max_atoms=args.max_atoms, mode=args.mode,
                           vacuum=args.vacuum)
    pot, aset = load_potential(args.pot, args.species)
    settings.check(pot.cutoff)  # bad settings fail before any file is read
    frames = read_cfg_for_selection(frames_path, pot.species)
    if aset is not None and aset.mode != "nbh":
        aset = None
    if aset is None and train_path is not None:
        t0 = time.time()
        aset = build_active_set(pot, read_cfg_for_selection(train_path, pot.species), "nbh", progress=True)
        log.info("built the nbh active set from %s in %.2f s", train_path, time.time() - t0)
    if aset is None:
        log.info("%s has no nbh active set and no TRAIN.cfg was given: using the frames' own nbh_grades", args.pot)
    cuts = cut_frames(frames, potential=pot if aset is not None else None, cutoff=pot.cutoff, active_set=aset,
                      settings=settings, per_frame=args.per_frame, threshold=args.threshold,
                      min_spacing=args.min_spacing, where=frames_path)
    write_cfg(out_path, [to_features(c) for c in cuts], pot.species, write_nbh_grades=False)
    print(f"{'frame':>5} {'centre':>7} {'grade':>10} {'radius':>6} {'atoms':>5} {'core':>4} {'electrons':>9}  "
          "composition")
    for c in cuts:
        i = c.info["cut"]
        odd = " odd (spin-polarised)" if c.info["odd_electrons"] else ""
        comp = " ".join(f"{s}{n}" for s, n in i["composition"].items())
        print(f"{i['parent_frame']:>5} {i['centre']:>7} {i['grade']:>10.4g} {i['radius']:>6.2f} {i['n_atoms']:>5} "
              f"{i['n_core']:>4} {str(i['electrons']):>9}  {comp}{odd}")
    print(f"{len(cuts)} {args.mode} cuts from {len(frames)} frames -> {out_path} (electrons: valence of the VASP PBE "
          "PAWs Li_sv 3, P 5, S 6, Cl 7)")
    return 0
