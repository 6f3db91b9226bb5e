"""Bulk phases of the Li-P-S-Cl system: Li6PS5Cl (ordered), Li bcc, Li2S, Li3P, LiCl and the
antifluorite solid solution 5Li2S.Li3P.LiCl (the crystalline SEI product)."""

from __future__ import annotations

import functools

import numpy as np
from ase import Atoms
from ase.build import bulk as ase_bulk
from ase.neighborlist import neighbor_list
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from seilearn.errors import InputError

A_LPSC = 10.28
D_PS = 2.05
LI_48H = (0.3175, 0.3175, 0.0195)


def _from_spacegroup(sg: str, lattice: Lattice, species: list[str], coords: list) -> Atoms:
    s = Structure.from_spacegroup(sg, lattice, species, coords, tol=1e-3)
    s.merge_sites(tol=0.05, mode="delete")
    return AseAtomsAdaptor.get_atoms(s)


@functools.lru_cache(maxsize=16)
def _lpsc_cached(a: float, n_patterns: int, seed: int, li_model: str) -> Atoms:
    return _lpsc(a, n_patterns, seed, li_model)


def lpsc(a: float = A_LPSC, n_patterns: int = 64, seed: int = 0, li_model: str = "48h") -> Atoms:
    """Ordered Li6PS5Cl conventional cell (see ``_lpsc``); cached, a fresh copy each call.

    ``li_model``: ``"48h"`` (one Li of each close 48h pair, lowest-Ewald pattern of ``n_patterns``)
    or ``"24g"`` (Li midway between the two sites of each pair)."""
    if li_model not in ("48h", "24g"):
        raise InputError(f"unknown LPSC Li model {li_model!r}; choose 48h or 24g")
    if not a > 0:
        raise InputError(f"LPSC lattice constant must be positive, got {a}")
    return _lpsc_cached(float(a), int(n_patterns), int(seed), li_model).copy()


def _lpsc(a: float = A_LPSC, n_patterns: int = 64, seed: int = 0, li_model: str = "48h") -> Atoms:
    """Ordered Li6PS5Cl conventional cell (Li24P4S20Cl4), F-43m; Li on half of 48h, one site of each
    close pair, the pattern with the lowest Ewald energy of formal charges among ``n_patterns``."""
    x = 0.5 + D_PS / (np.sqrt(3) * a)
    frame = _from_spacegroup("F-43m", Lattice.cubic(a), ["P", "S", "S", "Cl"],
                             [[0.5, 0.5, 0.5], [x, x, x], [0.25, 0.25, 0.25], [0.0, 0.0, 0.0]])
    li = _from_spacegroup("F-43m", Lattice.cubic(a), ["Li"], [list(LI_48H)])
    li_pos = li.get_positions()
    if len(li_pos) != 48:
        raise RuntimeError(f"48h expansion gave {len(li_pos)} sites")
    # pair each 48h site with its nearest 48h neighbour (about 1.9 A apart): one Li per pair
    cell = np.asarray(frame.cell)
    diff = li_pos[:, None, :] - li_pos[None, :, :]
    frac = np.linalg.solve(cell.T, diff.reshape(-1, 3).T).T
    frac -= np.round(frac)
    dist = np.linalg.norm(frac @ cell, axis=1).reshape(48, 48)
    np.fill_diagonal(dist, np.inf)
    partner = dist.argmin(axis=1)
    pairs = sorted({tuple(sorted((i, int(partner[i])))) for i in range(48)})
    if len(pairs) != 24:
        raise RuntimeError(f"expected 24 Li site pairs, found {len(pairs)}")
    if li_model == "24g":
        frac_li = np.linalg.solve(cell.T, li_pos.T).T
        mid = [frac_li[p] + 0.5 * ((frac_li[q] - frac_li[p]) - np.round(frac_li[q] - frac_li[p])) for p, q in pairs]
        out = frame + Atoms("Li" * 24, scaled_positions=np.array(mid) % 1.0, cell=frame.cell, pbc=True)
        out = out[np.argsort(out.numbers, kind="stable")]
        out.info["li_model"] = "24g"
        return out
    from pymatgen.analysis.ewald import EwaldSummation

    rng = np.random.default_rng(seed)
    best, best_e = None, np.inf
    for _ in range(n_patterns):
        choice = [p[int(rng.integers(2))] for p in pairs]
        atoms = frame + Atoms("Li" * 24, positions=li_pos[choice], cell=frame.cell, pbc=True)
        s = AseAtomsAdaptor.get_structure(atoms)
        s.add_oxidation_state_by_element({"Li": 1, "P": 5, "S": -2, "Cl": -1})
        e = EwaldSummation(s).total_energy
        if e < best_e:
            best, best_e = atoms, e
    best = best[np.argsort(best.numbers, kind="stable")]
    best.info["ewald_energy_eV"] = float(best_e)
    best.info["li_model"] = "48h"
    return best


def check_lpsc(atoms: Atoms, d_ps: float = D_PS, tol: float = 0.01, min_contact: float = 1.9) -> None:
    """Raise ``InputError`` unless ``atoms`` is Li6PS5Cl (any multiple), charge balanced, every P with
    four S at ``d_ps`` and no contact below ``min_contact``."""
    from seilearn.structures.validate import charge, shortest_contacts

    sym = atoms.get_chemical_symbols()
    n = {e: sym.count(e) for e in ("Li", "P", "S", "Cl")}
    if n["P"] == 0 or any(n[e] != k * n["P"] for e, k in (("Li", 6), ("S", 5), ("Cl", 1))) or sum(n.values()) != len(sym):
        raise InputError(f"composition {atoms.get_chemical_formula()} is not a multiple of Li6PS5Cl")
    if charge(atoms) != 0:
        raise InputError(f"formal charge {charge(atoms)} != 0")
    i, j, d = neighbor_list("ijd", atoms, d_ps + 0.5)
    s = np.array(sym)
    for p in np.where(s == "P")[0]:
        ds = d[(i == p) & (s[j] == "S")]
        if len(ds) != 4 or np.any(np.abs(ds - d_ps) > tol):
            raise InputError(f"P {p} has S neighbours at {np.round(ds, 3).tolist()} A, expected four at {d_ps} A")
    contacts = shortest_contacts(atoms, min_contact)
    if contacts:
        raise InputError(f"contacts shorter than {min_contact} A: {contacts}")


def li_bcc(a: float = A_LPSC / 3) -> Atoms:
    """Conventional bcc Li (2 atoms); the default a = a_LPSC/3 matches the interface models."""
    return ase_bulk("Li", "bcc", a=a, cubic=True)


def li2s(a: float = 5.71) -> Atoms:
    return _antifluorite(["S"] * 4, a)


def _antifluorite(anions: list[str], a: float) -> Atoms:
    """Conventional antifluorite cell: anions on fcc, Li on the 8 tetrahedral sites."""
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    tet = np.array([[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)])
    return Atoms(anions + ["Li"] * 8, scaled_positions=np.vstack([fcc, tet]), cell=[a, a, a], pbc=True)


def li3p(a: float = 4.27, c: float = 7.59) -> Atoms:
    return _from_spacegroup("P6_3/mmc", Lattice.hexagonal(a, c), ["Li", "Li", "P"],
                            [[0, 0, 0.25], [1 / 3, 2 / 3, 0.583], [1 / 3, 2 / 3, 0.25]])


def licl(a: float = 5.13) -> Atoms:
    return ase_bulk("LiCl", "rocksalt", a=a, cubic=True)


def antifluorite_solid_solution(reps: tuple[int, int, int] = (7, 1, 1), a: float = 5.75, seed: int = 0) -> Atoms:
    """5Li2S.Li3P.LiCl: S/P/Cl 5:1:1 at random on the fcc anion sites of a primitive-cell supercell
    (a multiple of 7 anions), Li filling the tetrahedral sites (2 per anion balances the charge)."""
    prim = ase_bulk("Li2S", "fluorite", a=a)  # ase puts S first, then the two Li
    cell = prim.repeat(reps)
    anion = [i for i, s in enumerate(cell.get_chemical_symbols()) if s == "S"]
    n = len(anion)
    if n % 7:
        raise InputError(f"the solid solution needs a multiple of 7 anions, the supercell {reps} has {n}")
    labels = np.array(["S"] * (5 * n // 7) + ["P"] * (n // 7) + ["Cl"] * (n // 7))
    np.random.default_rng(seed).shuffle(labels)
    symbols = cell.get_chemical_symbols()
    for i, lab in zip(anion, labels):
        symbols[i] = str(lab)
    cell.set_chemical_symbols(symbols)
    return cell


BUILDERS = {"lpsc": lpsc, "li": li_bcc, "li2s": li2s, "li3p": li3p, "licl": licl,
            "antifluorite": antifluorite_solid_solution}


def bulk(name: str, supercell: tuple[int, int, int] | None = None, **kwargs) -> Atoms:
    """A bulk phase by name: lpsc, li, li2s, li3p, licl, antifluorite; ``kwargs`` go to its builder
    (e.g. ``a=``), ``supercell`` repeats it."""
    if name not in BUILDERS:
        raise InputError(f"unknown bulk phase {name!r}; choose from {', '.join(BUILDERS)}")
    atoms = BUILDERS[name](**kwargs)
    if supercell is not None:
        if len(supercell) != 3 or any(int(k) < 1 for k in supercell):
            raise InputError(f"supercell must be three positive integers, got {supercell}")
        atoms = atoms.repeat(tuple(int(k) for k in supercell))
    return atoms
