"""Cutting inside a campaign: frames larger than the labeller takes are replaced by neighbourhood cuts before
select_add, and cut configurations get their training weights from their stored core flags."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ase import Atoms

from seilearn.cutting.cut import CutSettings
from seilearn.cutting.frames import DEFAULT_THRESHOLD, cut_frames
from seilearn.cutting.records import cut_record
from seilearn.cutting.weights import apply_cut_weights, core_flags

log = logging.getLogger("seilearn.cutting")
# centres per large frame: select_add then keeps the D-optimal ones, so extra candidates cost grading only
PER_FRAME = 10


def cut_large_frames(frames: Sequence[Atoms], *, mtp_text: str, almtp: bytes, species: Sequence[str],
                     train_atoms: Sequence[Atoms], max_atoms: int, per_frame: int = PER_FRAME) -> list[Atoms]:
    """``frames`` with every frame of more than ``max_atoms`` atoms replaced by its box cuts (in place, in order).

    Centres are the frame's atoms graded above its run's save threshold (``info['source']['threshold_save']``);
    a frame whose atoms all grade below it (possible in cfg mode) gives one cut around its most extrapolative atom.
    Each cut's ``info['source']`` is its parent's plus ``cut`` (:func:`seilearn.cutting.records.cut_record`).
    Grades come from the campaign's active set when it is in nbh mode, else from an nbh active set of the training set.
    """
    big = [f for f in frames if len(f) > max_atoms]
    if not big:
        return list(frames)
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import Potential
    from seilearn.selection import ActiveSet, build_active_set

    pot = Potential(read_mtp(mtp_text), species=list(species))
    aset = ActiveSet.from_bytes(almtp, species=list(species))
    if aset.mode != "nbh":
        aset = build_active_set(pot, list(train_atoms), "nbh")
    settings = CutSettings(max_atoms=max_atoms)
    out: list[Atoms] = []
    for frame in frames:
        if len(frame) <= max_atoms:
            out.append(frame)
            continue
        source: dict[str, Any] = dict(frame.info.get("source") or {})
        threshold = source.get("threshold_save") or DEFAULT_THRESHOLD
        cuts = cut_frames([frame], potential=pot, active_set=aset, settings=settings, per_frame=per_frame,
                          threshold=float(threshold))
        if not cuts:
            cuts = cut_frames([frame], potential=pot, active_set=aset, settings=settings, per_frame=1,
                              threshold=float("-inf"))
        for c in cuts:
            c.info["source"] = {**source, "cut": cut_record(c)}
        log.info("frame of %d atoms (run %s, step %s) -> %d cuts of %s atoms", len(frame),
                 source.get("exploration_run_id"), source.get("md_step"), len(cuts),
                 "/".join(str(len(c)) for c in cuts))
        out.extend(cuts)
    return out


def weigh_cuts(store, config_ids: Sequence[str], atoms_list: Sequence[Atoms], weights) -> int:
    """Set the training weights (``weights``: core, buffer, energy) of the cut configurations among ``atoms_list``
    from the core flags stored in their source; returns how many were cuts."""
    docs = store.configurations.find({"config_id": {"$in": list(config_ids)}, "source.cut": {"$exists": True}},
                                     {"config_id": 1, "source.cut.core_atoms": 1})
    cores = {d["config_id"]: d["source"]["cut"].get("core_atoms", []) for d in docs}
    n = 0
    for cid, atoms in zip(config_ids, atoms_list):
        if cid in cores:
            atoms.info["cut"] = {"core_atoms": cores[cid]}
            apply_cut_weights(atoms, weights, core_flags(atoms))
            n += 1
    return n
