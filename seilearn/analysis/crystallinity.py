"""Crystalline fraction of the antifluorite SEI product by polyhedral template matching (OVITO).

PTM runs on the anion sublattice alone (S, P, Cl; Li removed), fcc and hcp enabled, RMSD cutoff
0.15; an anion counts as crystalline when it matches and at least 6 of its 12 anion neighbours also
match. c = crystalline anions / 7Z (seven anions per formula unit of 5Li2S.Li3P.LiCl).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

ANIONS = ("S", "P", "Cl")


def crystalline_anions(atoms: Atoms, rmsd_cutoff: float = 0.15, min_neighbours: int = 6) -> dict[str, np.ndarray]:
    """Boolean masks (over all atoms) of crystalline fcc and hcp anions."""
    from ovito.data import DataCollection
    from ovito.io.ase import ase_to_ovito
    from ovito.modifiers import PolyhedralTemplateMatchingModifier
    from ovito.pipeline import Pipeline, StaticSource

    sym = np.asarray(atoms.get_chemical_symbols())
    idx = np.where(np.isin(sym, ANIONS))[0]
    fcc = np.zeros(len(atoms), bool)
    hcp = np.zeros(len(atoms), bool)
    if len(idx) < 13:
        return {"fcc": fcc, "hcp": hcp}
    sub = atoms[idx]
    data = ase_to_ovito(sub)
    pipe = Pipeline(source=StaticSource(data=data))
    ptm = PolyhedralTemplateMatchingModifier(rmsd_cutoff=rmsd_cutoff, output_ordering=False)
    for t in ptm.structures:
        t.enabled = t.id in (int(PolyhedralTemplateMatchingModifier.Type.FCC), int(PolyhedralTemplateMatchingModifier.Type.HCP))
    pipe.modifiers.append(ptm)
    out: DataCollection = pipe.compute()
    types = np.asarray(out.particles["Structure Type"])
    is_fcc = types == int(PolyhedralTemplateMatchingModifier.Type.FCC)
    is_hcp = types == int(PolyhedralTemplateMatchingModifier.Type.HCP)
    matched = is_fcc | is_hcp
    # neighbour filter: of the 12 nearest anions of a matched anion, at least min_neighbours match too
    # (an isolated PTM hit in an amorphous region is noise, not a nucleus)
    cell = np.asarray(sub.cell)
    if np.allclose(cell, np.diag(np.diag(cell))) and sub.pbc.all():
        from scipy.spatial import cKDTree

        box = np.diag(cell)
        tree = cKDTree(np.mod(sub.positions, box), boxsize=box)
        _, nn = tree.query(np.mod(sub.positions, box), k=13)
        nn = nn[:, 1:]
    else:  # triclinic or open boundaries: OVITO's finder handles any cell
        from ovito.data import NearestNeighborFinder

        nn, _ = NearestNeighborFinder(12, out).find_all()
    ok = matched & (matched[np.asarray(nn)].sum(axis=1) >= min_neighbours)
    fcc[idx] = ok & is_fcc
    hcp[idx] = ok & is_hcp
    return {"fcc": fcc, "hcp": hcp}


def crystalline_fraction(atoms: Atoms, **kw) -> dict[str, float]:
    """c (total), c_fcc and c_hcp as fractions of 7Z anions (Z = number of P, falling back to anions/7)."""
    masks = crystalline_anions(atoms, **kw)
    sym = np.asarray(atoms.get_chemical_symbols())
    z = int(np.sum(sym == "P")) or max(1, int(np.isin(sym, ANIONS).sum()) // 7)
    n = 7 * z
    return {"c": float((masks["fcc"] | masks["hcp"]).sum() / n), "c_fcc": float(masks["fcc"].sum() / n),
            "c_hcp": float(masks["hcp"].sum() / n)}
