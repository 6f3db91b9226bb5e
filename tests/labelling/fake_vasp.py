"""A mock VASP executable (``python fake_vasp.py``) for the ``vasp`` labeller's tests: labels ./POSCAR with a
Lennard-Jones toy model and writes the outputs of a static run (vasprun.xml, OUTCAR, OSZICAR, CONTCAR) with
the writers of ``vasp_reference`` (the same realistic files as the atomate2 references).

Mock behaviour, from environment variables: FAKE_VASP_UNCONVERGED_UNLESS=<ALGO> runs NELM SCF steps
without converging unless INCAR has that ALGO; FAKE_VASP_DIE_NATOMS=<n> dies half-way (truncated
vasprun.xml, exit 1) for cells of n atoms.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
from ase import Atoms

if __package__ in (None, ""):  # run as a script by the labeller
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.labelling import vasp_reference  # noqa: E402

MASS = vasp_reference.MASS
# the INCAR keys the writers need when a test gives only a few
_DEFAULTS = {"ENCUT": 680.0, "KSPACING": 0.22, "ISPIN": 1, "NELM": 60, "EDIFF": 1e-5, "ALGO": "Normal"}


def vasprun_xml(atoms: Atoms, energy: float, forces: np.ndarray, stress_ase: np.ndarray, incar: dict,
                n_scf: int = 12) -> str:
    """vasprun.xml text of a static run; ``stress_ase`` (ASE Voigt, eV/A^3) is written in VASP's kBar/sign."""
    return vasp_reference.vasprun_xml(atoms, {**_DEFAULTS, **incar}, energy, forces, stress_ase, n_scf)


def outcar(atoms: Atoms, energy: float, elapsed: float = 12.5, incar: dict | None = None) -> str:
    forces = np.zeros((len(atoms), 3))
    return vasp_reference.outcar(atoms, {**_DEFAULTS, **(incar or {})}, energy, forces, 12, elapsed)


def _toy(atoms: Atoms):
    from ase.calculators.lj import LennardJones

    a = atoms.copy()
    a.calc = LennardJones(sigma=2.2, epsilon=0.05, rc=6.0, smooth=True)
    return a.get_potential_energy(), a.get_forces(), a.get_stress()


def read_incar(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("#")[0].split("=", 1)
            v = v.strip()
            try:
                out[k.strip().upper()] = int(v)
            except ValueError:
                try:
                    out[k.strip().upper()] = float(v)
                except ValueError:
                    out[k.strip().upper()] = v
    return out


def main() -> int:
    """Mock VASP: label ./POSCAR with the toy model, write vasprun.xml, OUTCAR, OSZICAR, CONTCAR."""
    from ase.io import read

    atoms = read("POSCAR", format="vasp")
    incar = {**_DEFAULTS, **read_incar(Path("INCAR"))}
    energy, forces, stress = _toy(atoms)
    nelm = int(incar["NELM"])
    need = os.environ.get("FAKE_VASP_UNCONVERGED_UNLESS")
    n_scf = nelm if need and str(incar["ALGO"]).lower() != need.lower() else 12
    print(" running on    1 total cores\n POSCAR found :  entries")
    text = vasp_reference.vasprun_xml(atoms, incar, energy, forces, stress, n_scf)
    if os.environ.get("FAKE_VASP_DIE_NATOMS") == str(len(atoms)):
        Path("vasprun.xml").write_text(text[: len(text) // 2])
        print(" BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES", file=sys.stderr)
        return 1
    Path("vasprun.xml").write_text(text)
    Path("OUTCAR").write_text(vasp_reference.outcar(atoms, incar, energy, forces, n_scf, elapsed=12.5))
    Path("OSZICAR").write_text(vasp_reference.oszicar(energy, incar, n_scf))
    shutil.copy("POSCAR", "CONTCAR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
