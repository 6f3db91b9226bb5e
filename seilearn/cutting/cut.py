"""Cut DFT-sized configurations around extrapolative atoms of a large frame.

``box`` (default): a periodic box around the centre atom (a rhombic dodecahedron: the fcc cell). Every parent
atom within ``radius`` of the centre (the exact region; radius >= the MTP cutoff, by default twice it: the
centre's neighbours and theirs) is kept exactly where it is relative to the centre, and no periodic image comes
closer to the centre than ``radius``, so the centre's neighbourhood (and its grade) is that of the parent frame.
The rest of the box is filled with the parent's atoms; where the periodic faces bring atoms closer than their
minimum contact, outer atoms are deleted (a whole P-S unit at a time), never an atom of the exact region. If that
would need deleting an exact-region atom, the box grows by 0.25 A and the cut is redone.

``cluster``: the open sphere of radius ``radius`` (units kept whole) in vacuum, non-periodic, as MLIP-3's
``mlp cut_extrapolative_nbh`` writes it.

Every cut carries its provenance in ``atoms.info['cut']`` and per-atom ``arrays['parent_index']`` and
``arrays['core']`` (the centre and its neighbours within the MTP cutoff).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.cutting.chemistry import BOND_CUTOFF, PAW_NAMES, composition, electron_count, min_contact, units
from seilearn.cutting.geometry import box_lattice, corner_radius, displacements, image_distances, in_cell
from seilearn.errors import InputError

MODES = ("box", "cluster")
GROW_STEP = 0.25  # A: box growth when the exact region cannot be kept, and the radius search step
MAX_GROWTH = 6.0  # A: units reach 4.1 A beyond the exact sphere; past R + 4.1 + contact/2 they cannot clash
VACUUM = 9.0  # A around a cluster (MLIP-3's paper)


@dataclass(frozen=True)
class CutSettings:
    """How to cut. ``radius`` None: the largest radius in [cutoff, 2 cutoff] whose cut fits ``max_atoms``."""

    radius: float | None = None
    max_atoms: int | None = None
    mode: str = "box"
    vacuum: float = VACUUM

    def check(self, cutoff: float) -> None:
        """InputError naming the bad setting and the fix."""
        if self.mode not in MODES:
            raise InputError(f"cut mode {self.mode!r} must be one of {', '.join(MODES)}")
        if self.radius is not None and not self.radius >= cutoff:
            raise InputError(f"radius {self.radius} A is below the MTP cutoff {cutoff} A: the centre's neighbourhood "
                             f"would not be reproduced; use a radius of at least {cutoff} A")
        if self.max_atoms is not None and self.max_atoms < 1:
            raise InputError(f"max_atoms {self.max_atoms} must be a positive number of atoms")
        if self.vacuum < 0:
            raise InputError(f"vacuum {self.vacuum} A must not be negative")


class _Region:
    """Displacements around one centre with their species and units, reused across radii."""

    def __init__(self, parent: Atoms, centre: int, reach: float) -> None:
        self.index, self.vec = displacements(parent, centre, reach)
        order = np.argsort(np.einsum("ij,ij->i", self.vec, self.vec), kind="stable")
        self.index, self.vec = self.index[order], self.vec[order]  # the centre first
        self.dist = np.sqrt(np.einsum("ij,ij->i", self.vec, self.vec))
        self.symbols = np.asarray(parent.get_chemical_symbols())[self.index]
        self.unit = units(self.symbols, self.vec)
        sizes = np.bincount(self.unit)
        # a unit enters a box when one of its P (or the lone atom) is inside
        self.anchor = (self.symbols == "P") | (sizes[self.unit] == 1)

    def protected(self, radius: float) -> np.ndarray:
        """Atoms of the units that reach into the exact region."""
        hit = np.unique(self.unit[self.dist <= radius + 1e-9])
        return np.isin(self.unit, hit)


def _contact_table(symbols: np.ndarray, floor: float) -> tuple[dict[str, int], np.ndarray]:
    species = sorted(set(symbols.tolist()))
    table = np.array([[min_contact(a, b, floor) for b in species] for a in species])
    return {s: k for k, s in enumerate(species)}, table


def _box_selection(region: _Region, radius: float, min_dist: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """(selected atoms of the region, box lattice, inradius, outer atoms deleted) of a box cut."""
    from seilearn.mtp.potential import neighbour_pairs

    protected = region.protected(radius)
    code, table = _contact_table(region.symbols, min_dist)
    types = np.array([code[s] for s in region.symbols])
    inradius = radius
    while True:
        lattice = box_lattice(inradius)
        inside = in_cell(region.vec, lattice)
        keep_units = set(region.unit[region.anchor & inside].tolist()) | set(region.unit[protected].tolist())
        sel = np.isin(region.unit, list(keep_units))
        n_start = int(sel.sum())
        grow = False
        # an image coming within the exact radius is a foreign atom in the exact region
        cand = np.flatnonzero(sel & ~inside)
        intruders = cand[image_distances(region.vec[cand], lattice) < radius]
        if protected[intruders].any():
            grow = True
        else:
            sel &= ~np.isin(region.unit, region.unit[intruders])
        if not grow:
            idx = np.flatnonzero(sel)
            pts = region.vec[idx]
            i, j, shift = neighbour_pairs(Atoms(positions=pts, cell=lattice, pbc=True), float(table.max()))
            half = i < j
            i, j = i[half], j[half]
            d = pts[j] + shift[half] - pts[i]
            gi, gj = idx[i], idx[j]
            dist = np.sqrt(np.einsum("ij,ij->i", d, d))
            new = np.linalg.norm(region.vec[gj] - region.vec[gi] - d, axis=1) > 1e-6  # not a parent contact
            clash = new & (dist < table[types[gi], types[gj]])
            removed: set[int] = set()
            for a, b in zip(gi[clash], gj[clash]):
                ua, ub = int(region.unit[a]), int(region.unit[b])
                if ua in removed or ub in removed:
                    continue
                if protected[a] and protected[b]:
                    grow = True
                    break
                victim = ub if protected[a] or (not protected[b] and region.dist[b] >= region.dist[a]) else ua
                removed.add(victim)
            if not grow:
                sel &= ~np.isin(region.unit, list(removed))
                return sel, lattice, inradius, n_start - int(sel.sum())
        inradius += GROW_STEP
        if inradius > radius + MAX_GROWTH + 1e-9:  # pragma: no cover - impossible geometrically
            raise InputError(f"cannot build a periodic box around radius {radius} A without clashes in the exact "
                             "region; use cluster mode")


def cut_neighbourhood(parent: Atoms, centre: int, cutoff: float, radius: float, settings: CutSettings,
                      min_dist: float = 0.0, region: _Region | None = None) -> Atoms:
    """One cut around atom ``centre`` of ``parent`` (exact radius ``radius`` >= ``cutoff``)."""
    if region is None:
        region = _Region(parent, centre, _reach(settings, radius))
    if settings.mode == "cluster":
        sel = region.protected(radius)
        vec = region.vec[sel]
        side = 2.0 * float(region.dist[sel].max()) + settings.vacuum
        lattice = np.eye(3) * side
        positions, pbc, inradius, deleted = vec + 0.5 * side, False, None, 0
    else:
        sel, lattice, inradius, deleted = _box_selection(region, radius, min_dist)
        positions, pbc = region.vec[sel] + 0.5 * lattice.sum(axis=0), True
    symbols = region.symbols[sel].tolist()
    cut = Atoms(symbols=symbols, positions=positions, cell=lattice, pbc=pbc)
    cut.arrays["parent_index"] = region.index[sel].astype(np.int64)
    cut.arrays["core"] = region.dist[sel] <= cutoff + 1e-9
    electrons = electron_count(symbols)
    cut.info["cut"] = {
        "mode": settings.mode, "shape": "rhombic dodecahedron (fcc cell)" if settings.mode == "box" else "sphere",
        "centre": int(centre), "centre_in_cut": 0, "radius": float(radius), "cutoff": float(cutoff),
        "box_inradius": inradius, "box": lattice.tolist(), "n_atoms": len(cut), "n_core": int(cut.arrays["core"].sum()),
        "composition": composition(symbols), "electrons": electrons,
        "paw": {s: PAW_NAMES.get(s) for s in composition(symbols)},
        "deleted_outer": deleted,
    }
    cut.info["odd_electrons"] = bool(electrons is not None and electrons % 2 == 1)
    return cut


def _reach(settings: CutSettings, radius: float) -> float:
    if settings.mode == "cluster":
        return radius + 2.0 * BOND_CUTOFF
    return corner_radius(radius + MAX_GROWTH) + 2.0 * BOND_CUTOFF


def fitted_cut(parent: Atoms, centre: int, cutoff: float, settings: CutSettings, min_dist: float = 0.0,
               where: str = "frame") -> Atoms:
    """The cut at ``settings.radius``, or (radius None) at the largest radius in [cutoff, 2 cutoff] whose cut has
    at most ``settings.max_atoms`` atoms (0.25 A steps). InputError when no radius fits."""
    settings.check(cutoff)
    limit = settings.max_atoms
    if settings.radius is not None:
        cut = cut_neighbourhood(parent, centre, cutoff, settings.radius, settings, min_dist)
        if limit is not None and len(cut) > limit:
            raise InputError(f"{where}: the cut of radius {settings.radius} A around atom {centre} has {len(cut)} "
                             f"atoms, more than max_atoms {limit}; lower --radius or raise --max-atoms")
        return cut
    top = 2.0 * cutoff
    region = _Region(parent, centre, _reach(settings, top))
    if limit is None:
        return cut_neighbourhood(parent, centre, cutoff, top, settings, min_dist, region)
    radii = np.arange(top, cutoff - 1e-9, -GROW_STEP)
    radii[-1] = max(radii[-1], cutoff)
    if radii[-1] > cutoff + 1e-9:
        radii = np.append(radii, cutoff)
    # counts are not monotonic in the radius (a box grows past clashes), so scan down from the top; every atom of
    # the exact region's units is in the cut, a free lower bound that skips radii without building their box
    for r in radii:
        if int(region.protected(float(r)).sum()) <= limit:
            cut = cut_neighbourhood(parent, centre, cutoff, float(r), settings, min_dist, region)
            if len(cut) <= limit:
                return cut
    smallest = len(cut_neighbourhood(parent, centre, cutoff, float(radii[-1]), settings, min_dist, region))
    raise InputError(f"{where}: max_atoms {limit} is smaller than one neighbourhood: the smallest {settings.mode} "
                     f"cut (radius = cutoff {cutoff} A) around atom {centre} has {smallest} atoms; "
                     f"raise max_atoms to at least {smallest}")


def choose_centres(atoms: Atoms, grades: np.ndarray, per_frame: int, threshold: float, min_spacing: float) -> list[int]:
    """Up to ``per_frame`` atoms graded above ``threshold``, highest first, at least ``min_spacing`` apart
    (over periodic images)."""
    grades = np.asarray(grades, float)
    allowed = grades > threshold
    picked: list[int] = []
    while len(picked) < per_frame and allowed.any():
        i = int(np.flatnonzero(allowed)[np.argmax(grades[allowed])])
        picked.append(i)
        allowed[i] = False
        near, vec = displacements(atoms, i, min_spacing)
        allowed[near[np.einsum("ij,ij->i", vec, vec) < min_spacing * min_spacing]] = False
    return picked


def parent_source(parent: Atoms) -> dict[str, Any]:
    """The parent's exploration provenance (run, MD step) from ``info['source']``, ``info`` or .cfg features."""
    src = dict(parent.info.get("source") or {})
    feats = parent.info.get("mlip_features") or {}
    out = {"exploration_run_id": src.get("exploration_run_id", parent.info.get("exploration_run_id",
                                                                               feats.get("exploration_run_id"))),
           "md_step": src.get("md_step", parent.info.get("md_step", feats.get("md_step")))}
    if out["md_step"] is not None:
        out["md_step"] = int(out["md_step"])
    return out
