"""Li(110)/LPSC(110) interface models (cube-on-cube, [1-10] || [1-10], [001] || [001]).

x runs along [1-10], y along [001], z along [110]. The LPSC slab is cut with every PS4 unit whole
(its S atoms follow their P across the cut), the Li slab sits above it with a gap on both sides,
and the cell is periodic in z (a sandwich, no vacuum). Model I and II follow the paper's sizes;
``mini`` is a ~250-atom cell for local active learning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from seilearn.errors import InputError
from seilearn.structures.phases import A_LPSC, li_bcc, lpsc
from seilearn.structures.validate import shortest_contacts

MODELS = {  # LPSC in-plane cells (x, y), LPSC periods along z, Li in-plane cells (x, y), Li layers
    "I": ((6, 3), 8, (9, 9), 26),
    "II": ((12, 6), 8, (18, 18), 26),
    "mini": ((2, 1), 2, (3, 3), 8),
}
GAP = 2.4


def _reorient(conv: Atoms, vectors: np.ndarray) -> Atoms:
    """Atoms of a cubic cell re-expressed in the orthorhombic cell whose rows are ``vectors``
    (cartesian, along x, y, z after rotation)."""
    span = int(np.ceil(np.abs(vectors).sum(axis=0).max() / conv.cell.lengths().min())) + 1
    tiled = conv.repeat((2 * span + 1,) * 3)
    tiled.positions -= conv.cell.sum(axis=0) * span
    frac = np.linalg.solve(vectors.T, tiled.positions.T).T
    keep = np.all((frac > -1e-6) & (frac < 1 - 1e-6), axis=1)
    lengths = np.linalg.norm(vectors, axis=1)
    out = Atoms(numbers=tiled.numbers[keep], scaled_positions=frac[keep] % 1.0, cell=np.diag(lengths), pbc=True)
    return out


def lpsc_110(a: float = A_LPSC, nx: int = 2, ny: int = 1, nz: int = 2) -> Atoms:
    """LPSC in the (110) frame, ``nx`` x ``ny`` x ``nz`` cells of (a/sqrt2, a, a/sqrt2).

    The ordered Li arrangement breaks the F centring, so the true period in the (110) frame is
    (a sqrt2, a, a sqrt2) (8 formula units): ``nx`` and ``nz`` must be even."""
    if nx % 2 or nz % 2:
        raise InputError(f"LPSC (110) repeats along [1-10] and [110] must be even (ordered Li has period "
                         f"a*sqrt2 there), got {nx} and {nz}")
    vec = np.array([[a, -a, 0.0], [0.0, 0.0, a], [a, a, 0.0]])
    return _reorient(lpsc(a), vec).repeat((nx // 2, ny, nz // 2))


def li_110(a_li: float, nx: int, ny: int, layers: int) -> Atoms:
    """Li bcc in the (110) frame: cell (a sqrt2, a) in plane, two (110) layers per a sqrt2 along z."""
    if layers % 2:
        raise InputError(f"Li layers must be even (two (110) layers per period), got {layers}")
    vec = np.array([[a_li, -a_li, 0.0], [0.0, 0.0, a_li], [a_li, a_li, 0.0]])
    return _reorient(li_bcc(a_li), vec).repeat((nx, ny, layers // 2))


def _whole_ps4(slab: Atoms) -> Atoms:
    """Unwrap every PS4 unit along z so none is cut by the slab boundary."""
    i, j, d, D = neighbor_list("ijdD", slab, 2.4)
    sym = np.array(slab.get_chemical_symbols())
    pos = slab.get_positions()
    for p in np.where(sym == "P")[0]:
        for k, vec in zip(j[(i == p)], D[(i == p)]):
            if sym[k] == "S":
                pos[k] = pos[p] + vec
    slab.set_positions(pos)
    return slab


@dataclass
class InterfaceReport:
    """What ``report`` measures on an interface (or any) cell; ``text()`` is the CLI summary."""

    formula: str
    n_atoms: int
    n_formula_units: int
    n_li_metal: int
    area: float
    li_strain: tuple[float, float]
    shortest: dict[str, float]

    def text(self) -> str:
        s = ", ".join(f"{k} {v:.2f} A" for k, v in sorted(self.shortest.items()))
        return (f"{self.formula}: {self.n_atoms} atoms ({self.n_formula_units} LPSC f.u. + {self.n_li_metal} Li metal)\n"
                f"  interface area {self.area:.2f} A^2; strain on Li x {100 * self.li_strain[0]:+.2f} %, "
                f"y {100 * self.li_strain[1]:+.2f} %\n  shortest contacts: {s}")


def build_interface(model: str = "mini", a_lpsc: float = A_LPSC, a_li: float | None = None,
                    lpsc_cells: tuple[int, int] | None = None, lpsc_periods: int | None = None,
                    li_cells: tuple[int, int] | None = None, li_layers: int | None = None,
                    gap: float = GAP, min_contact: float = 1.9) -> Atoms:
    """An interface model (I, II or mini) or a custom size; the Li slab is strained onto LPSC.

    ``lpsc_cells``: LPSC in-plane cells (a/sqrt2 along [1-10], a along [001]; the first must be even);
    ``lpsc_periods``: LPSC periods of a/sqrt2 along [110] (even); ``li_cells``: Li in-plane cells
    (a_Li sqrt2, a_Li), by default the nearest match to the LPSC width; ``li_layers``: Li (110)
    layers (even). ``info`` holds the model, formula units, Li metal count, area and Li strain.
    Raises ``InputError`` if any contact is shorter than ``min_contact``.
    """
    if model not in MODELS:
        raise InputError(f"unknown interface model {model!r}; choose I, II or mini")
    (lx, ly), lz, _, layers = MODELS[model]
    lx, ly = lpsc_cells or (lx, ly)
    lz = lpsc_periods or lz
    layers = li_layers or layers
    a_li = a_li or a_lpsc / 3
    if min(lx, ly, lz, layers) < 1 or a_li <= 0 or a_lpsc <= 0:
        raise InputError("interface cell counts and lattice constants must be positive")
    el = _whole_ps4(lpsc_110(a_lpsc, lx, ly, lz))
    width = np.array([el.cell[0, 0], el.cell[1, 1]])
    if li_cells is None:  # nearest whole number of Li cells across the LPSC width
        li_cells = tuple(int(max(1, round(w / c))) for w, c in zip(width, (a_li * np.sqrt(2), a_li)))
    mx, my = li_cells
    li = li_110(a_li, mx, my, layers)
    li_width = np.array([li.cell[0, 0], li.cell[1, 1]])
    strain = width / li_width - 1.0
    if np.any(np.abs(strain) > 0.05):
        raise InputError(f"Li slab strain {100 * strain} % exceeds 5 %: choose Li cells matching the LPSC width")
    li.set_cell([width[0], width[1], li.cell[2, 2]], scale_atoms=True)
    z_el = el.positions[:, 2]
    bottom, top = z_el.min(), z_el.max()
    li_pos = li.get_positions()
    li_pos[:, 2] += top + gap - li_pos[:, 2].min()
    height = li_pos[:, 2].max() + gap - bottom
    el.positions[:, 2] -= bottom
    li_pos[:, 2] -= bottom
    atoms = el + Atoms(numbers=li.numbers, positions=li_pos)
    atoms.set_cell([width[0], width[1], height])
    atoms.pbc = True
    atoms.wrap()
    n_fu = int(np.sum(atoms.numbers == 15))
    atoms.info.update({"model": model, "n_formula_units": n_fu, "n_li_metal": len(li), "interface_area": float(
        width[0] * width[1]), "li_strain": strain.tolist()})
    short = shortest_contacts(atoms, min_contact)
    if short:
        raise InputError(f"interface has contacts shorter than {min_contact} A ({short}); "
                         f"increase the gap or match the lattice constants")
    return atoms


def report(atoms: Atoms) -> InterfaceReport:
    """Composition, area, Li strain and shortest contacts by element pair."""
    shortest = shortest_contacts(atoms, 3.0)
    return InterfaceReport(formula=atoms.get_chemical_formula(), n_atoms=len(atoms),
                           n_formula_units=atoms.info.get("n_formula_units", int(np.sum(atoms.numbers == 15))),
                           n_li_metal=atoms.info.get("n_li_metal", 0), area=atoms.info.get("interface_area", float(
                               atoms.cell[0, 0] * atoms.cell[1, 1])),
                           li_strain=tuple(atoms.info.get("li_strain", (0.0, 0.0))), shortest=shortest)
