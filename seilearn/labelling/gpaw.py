"""GPAW labeller (optional): plane-wave PBE (PW mode gives the stress), one structure at a time.

Install (slow, not part of the default environment): ``apt-get install libxc-dev libopenblas-dev
libfftw3-dev``, a ``siteconfig.py`` with ``compiler='g++'``, ``noblas=False`` and
``libraries += ['fftw3', 'openblas']``, then ``pip install gpaw gpaw-data``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.errors import ConfigError
from seilearn.labelling.base import Labeller, LabelResult


def gpaw_available() -> str | None:
    """None if GPAW can be imported, else why not."""
    try:
        import gpaw  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not installed here"
        return f"GPAW is not importable ({type(exc).__name__}: {exc})"
    return None


class GPAWLabeller(Labeller):
    """PBE labels from GPAW in plane-wave mode (``ecut`` eV, k-point density ``kpt_density`` per 1/A)."""

    name = "gpaw"

    def __init__(self, workdir: str | os.PathLike = "gpaw_runs", ecut: float = 500.0, kpt_density: float = 3.0,
                 smearing: float = 0.05, convergence_energy: float = 1e-5, maxiter: int = 200) -> None:
        why = gpaw_available()
        if why:
            raise ConfigError(f"labeller gpaw: {why}; install it (see seilearn/labelling/gpaw.py) or use chgnet")
        self.workdir = Path(workdir)
        self.ecut, self.kpt_density, self.smearing = float(ecut), float(kpt_density), float(smearing)
        self.convergence_energy, self.maxiter = float(convergence_energy), int(maxiter)

    def settings(self) -> dict[str, Any]:
        import ase
        import gpaw

        return {"name": self.name, "mode": f"PW({self.ecut})", "xc": "PBE", "kpt_density": self.kpt_density,
                "smearing": f"fermi-dirac {self.smearing}", "convergence_energy": self.convergence_energy,
                "maxiter": self.maxiter, "versions": {"gpaw": gpaw.__version__, "ase": ase.__version__}}

    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        from gpaw import GPAW, PW, KohnShamConvergenceError

        out = []
        self.workdir.mkdir(parents=True, exist_ok=True)
        for k, atoms in enumerate(atoms_list):
            a = atoms.copy()
            a.calc = GPAW(mode=PW(self.ecut), xc="PBE", kpts={"density": self.kpt_density, "gamma": True},
                          occupations={"name": "fermi-dirac", "width": self.smearing}, maxiter=self.maxiter,
                          convergence={"energy": self.convergence_energy},
                          txt=str(self.workdir / f"{k:05d}_{a.get_chemical_formula()}.txt"))
            try:
                energy = a.get_potential_energy(force_consistent=True)
                forces = a.get_forces()
                stress = a.get_stress(voigt=True) if a.pbc.all() else None
            except KohnShamConvergenceError as exc:
                out.append(LabelResult(status="scf_unconverged", reason=f"GPAW SCF not converged: {exc}"))
                continue
            out.append(LabelResult(status="ok", energy=float(energy), forces=np.asarray(forces),
                                   stress=None if stress is None else np.asarray(stress)))
        return out
