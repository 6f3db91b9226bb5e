"""Cut every frame of a list: grade (nbh), choose centres, cut, attach the parent's provenance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from seilearn.cutting.cut import CutSettings, choose_centres, fitted_cut, parent_source
from seilearn.errors import InputError

DEFAULT_THRESHOLD = 1.5  # the paper's save threshold: a centre must be at least this extrapolative


def frame_grades(frames: Sequence[Atoms], potential=None, active_set=None, where: str = "frames") -> list[np.ndarray]:
    """Per-atom nbh grades of each frame: computed with the potential and its nbh active set when both are given
    (seilearn.selection's grading), else the frames' own ``arrays['nbh_grades']``."""
    if potential is not None and active_set is not None:
        from seilearn.selection import grade_configurations

        if active_set.mode != "nbh":
            raise InputError(f"cutting needs per-atom (nbh) grades but the active set is in {active_set.mode} mode; "
                             "build an nbh active set from the training set (seilearn grade --mode nbh --rebuild)")
        return [np.asarray(g.arrays["nbh_grades"], float)
                for g in grade_configurations(potential, active_set, list(frames), mode="nbh", progress=True)]
    missing = [k for k, f in enumerate(frames) if "nbh_grades" not in f.arrays]
    if missing:
        raise InputError(f"{where}: frame {missing[0]} has no per-atom grades (nbh_grades) and there is no potential "
                         "with an nbh active set to grade it; pass the potential and its training set, or grade the "
                         "frames first with `seilearn grade --mode nbh`")
    return [np.asarray(f.arrays["nbh_grades"], float) for f in frames]


def cut_frames(frames: Sequence[Atoms], *, cutoff: float | None = None, potential=None, active_set=None,
               settings: CutSettings | None = None, per_frame: int = 1, threshold: float = DEFAULT_THRESHOLD,
               min_spacing: float | None = None, where: str = "frames") -> list[Atoms]:
    """Cuts of every frame around up to ``per_frame`` atoms graded above ``threshold`` (highest first, at least
    ``min_spacing`` apart, default twice the cutoff). ``cutoff`` defaults to the potential's.

    Each cut's ``info['cut']`` holds its provenance: parent_hash, parent_frame, exploration_run_id, md_step,
    centre (index in the parent), grade, radius, mode, box; ``arrays['parent_index']`` and ``arrays['core']``.
    Everything is validated before anything is cut.
    """
    from seilearn.store.hashing import structure_hash

    settings = settings or CutSettings()
    if cutoff is None:
        if potential is None:
            raise InputError("cutting needs the MTP cutoff: pass the potential (or cutoff)")
        cutoff = potential.cutoff
    settings.check(cutoff)
    if per_frame < 1:
        raise InputError(f"per_frame {per_frame} must be at least 1")
    spacing = 2.0 * cutoff if min_spacing is None else float(min_spacing)
    if spacing < 0:
        raise InputError(f"min_spacing {min_spacing} A must not be negative")
    grades = frame_grades(frames, potential, active_set, where)
    floor = potential.min_dist if potential is not None else 0.0
    cuts: list[Atoms] = []
    for k, (frame, g) in enumerate(zip(frames, grades)):
        if len(g) != len(frame):
            raise InputError(f"{where}: frame {k} has {len(g)} nbh_grades for {len(frame)} atoms")
        centres = choose_centres(frame, g, per_frame, threshold, spacing)
        if not centres:
            continue
        parent_hash = structure_hash(frame)
        src = parent_source(frame)
        for c in centres:
            cut = fitted_cut(frame, c, cutoff, settings, floor, where=f"{where}: frame {k}")
            cut.info["cut"].update({"parent_hash": parent_hash, "parent_frame": k, "grade": float(g[c]),
                                    "threshold": float(threshold), **src})
            cuts.append(cut)
    return cuts
