"""Make the inputs of the MLIP-3 reference data with seilearn alone (structures, CHGNet labels, training).

Two sets, both level-8 MTPs with a 5.0 A cutoff trained by ``seilearn.mtp.training.train``:

- ``li/``: one species (Li bcc, 54 and 53 atoms); small enough to keep MLIP-3's active sets (.almtp).
- ``lpscl/``: Li, P, S, Cl (a seilearn seed set without interfaces); its active sets (269 x 269) are not kept,
  the tests rebuild them and compare the grades and the selection with MLIP-3's.

Run: ``python tests/data/mlip3/make_inputs.py [OUTDIR]`` (default: this folder), then ``run_mlp.sh``
(README.md). The same seeds give the same structures; the CHGNet labels and the training are
reproducible on one machine (BLAS threading may change the last digits elsewhere).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from seilearn.labelling.chgnet import CHGNetLabeller
from seilearn.mtp.cfg import write_cfg
from seilearn.mtp.mtpfile import write_mtp
from seilearn.mtp.training import train
from seilearn.structures import li_bcc
from seilearn.structures.seeds import seed_set

LEVEL, CUTOFF = 8, 5.0
LI = ["Li"]
LPSCL = ["Li", "P", "S", "Cl"]


def _perturbed(atoms: Atoms, rng: np.random.Generator, rattle: float, strain: float) -> Atoms:
    a = atoms.copy()
    eps = rng.uniform(-strain, strain, (3, 3))
    a.set_cell(a.cell.array @ (np.eye(3) + 0.5 * (eps + eps.T)), scale_atoms=True)
    a.positions += rng.normal(0.0, rattle, a.positions.shape)
    a.wrap()
    return a


def _labelled(atoms_list: list[Atoms]) -> list[Atoms]:
    out = []
    for atoms, res in zip(atoms_list, CHGNetLabeller().label(atoms_list)):
        if not res.ok:
            raise RuntimeError(f"CHGNet failed on {atoms.get_chemical_formula()}: {res.reason}")
        a = atoms.copy()
        a.calc = SinglePointCalculator(a, energy=res.energy, forces=res.forces, stress=res.stress)
        out.append(a)
    return out


def ghost_cut(atoms: Atoms, cutoff: float = CUTOFF) -> tuple[Atoms, np.ndarray]:
    """A LAMMPS-subdomain-like cut of a periodic cell: the atoms with x below half the box are
    local, every periodic image within ``cutoff`` of them is a ghost; the result is non-periodic."""
    frac = atoms.get_scaled_positions()
    local = np.where(frac[:, 0] < 0.5)[0]
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    pos, num, ghost = [atoms.positions[local]], [atoms.numbers[local]], [np.zeros(len(local), bool)]
    centres, local_set = atoms.positions[local], set(local.tolist())
    for s in shifts:
        images = atoms.positions + s @ atoms.cell.array
        keep = [i for i in range(len(atoms)) if not (s == 0).all() or i not in local_set]
        d = np.linalg.norm(images[keep][:, None, :] - centres[None, :, :], axis=2).min(axis=1)
        near = np.asarray(keep)[d < cutoff]
        pos.append(images[near])
        num.append(atoms.numbers[near])
        ghost.append(np.ones(len(near), bool))
    return Atoms(numbers=np.concatenate(num), positions=np.concatenate(pos), pbc=False), np.concatenate(ghost)


def write_ghost_cfg(path: Path, frames: list[tuple[Atoms, np.ndarray]]) -> None:
    """MLIP's ``ghost`` column (true/false), as MLIP's LAMMPS interface saves preselected neighbourhoods."""
    lines = []
    for atoms, ghost in frames:
        lines += ["BEGIN_CFG", " Size", f"    {len(atoms)}",
                  " AtomData:  id type       cartes_x      cartes_y      cartes_z     ghost"]
        for i, (p, g) in enumerate(zip(atoms.positions, ghost)):
            lines.append(f"    {i + 1:6d} {0:4d} {p[0]:14.8f} {p[1]:14.8f} {p[2]:14.8f} {str(bool(g)).lower():>9}")
        lines += ["END_CFG", ""]
    path.write_text("\n".join(lines))


def make_li(out: Path) -> None:
    rng = np.random.default_rng(11)
    cell = li_bcc().repeat(3)  # 54 atoms
    vacancy = cell.copy()
    del vacancy[13]
    frames = [_perturbed(cell, rng, 0.06, 0.02), _perturbed(vacancy, rng, 0.10, 0.03), _perturbed(cell, rng, 0.14, 0.03)]
    # more configurations than the potential has parameters (26), so cfg-mode active sets are not
    # filled up with MLIP's small diagonal placeholder rows
    small = li_bcc().repeat(2)  # 16 atoms
    frames += [_perturbed(small, rng, rng.uniform(0.04, 0.15), 0.04) for _ in range(27)]
    train_set = _labelled(frames)
    model, _ = train(train_set, LI, level=LEVEL, cutoff=CUTOFF, max_iter=150, seed=0)
    write_mtp(out / "pot.mtp", model)
    write_cfg(out / "train.cfg", train_set, LI)
    probes = [_perturbed(cell, rng, 0.12, 0.02), _perturbed(vacancy, rng, 0.16, 0.03)]
    write_cfg(out / "probe.cfg", _labelled(probes), LI)
    write_ghost_cfg(out / "candidates.cfg", [ghost_cut(_perturbed(cell, rng, 0.30, 0.06)),
                                             ghost_cut(_perturbed(cell, rng, 0.08, 0.01))])


def make_lpscl(out: Path) -> None:
    def pick(n: int, seed: int) -> list[Atoms]:
        frames = seed_set(n=3 * n, seed=seed, max_atoms=32)
        return [a for a in frames if "interface" not in a.info["seed_kind"] and len(a) <= 60][:n]

    train_set = _labelled(pick(10, 1))
    model, _ = train(train_set, LPSCL, level=LEVEL, cutoff=CUTOFF, max_iter=60, seed=0)
    write_mtp(out / "pot.mtp", model)
    write_cfg(out / "train.cfg", train_set, LPSCL)
    write_cfg(out / "candidates.cfg", _labelled(pick(6, 2)), LPSCL)


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent
    for name, make in (("li", make_li), ("lpscl", make_lpscl)):
        (root / name).mkdir(parents=True, exist_ok=True)
        make(root / name)


if __name__ == "__main__":
    main(sys.argv[1:])
