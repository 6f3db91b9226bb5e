"""VASP labeller: MatPES-style PBE static inputs (pymatgen) written by ASE's Vasp calculator (ASE's POTCAR
layout, ``VASP_PP_PATH``), run under custodian with atomate2's handlers, parsed into emmet's TaskDoc and
labelled as atomate2-vasp does. An unconverged SCF is never returned as data: it takes the detours
(changed ALGO/NELM) and, if still unconverged, is returned as ``scf_unconverged`` with the reason.
"""

from __future__ import annotations

import os
import shlex
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.errors import ConfigError
from seilearn.labelling.base import Labeller, LabelResult, mask_secrets
from seilearn.species import DEFAULT_SPECIES

# the detours an unconverged SCF takes, in order (VASP wiki: ALGO=All for hard cases, Damped with a small TIME)
DEFAULT_DETOURS: tuple[dict[str, Any], ...] = ({"ALGO": "All", "NELM": 200}, {"ALGO": "Damped", "TIME": 0.5, "NELM": 300})
# INCAR keys the static set writes that a labelling run does not need (big files)
NO_FILES = {"LCHARG": False, "LAECHG": False, "LWAVE": False, "LORBIT": None}


def potcar_dir() -> Path | None:
    """The POTCAR root from ``VASP_PP_PATH`` (ASE layout) or ``PMG_VASP_PSP_DIR``, or None."""
    for var in ("VASP_PP_PATH", "PMG_VASP_PSP_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return None


def read_potcar_header(path: Path) -> tuple[str, float]:
    """(TITEL, ZVAL) of a single-element POTCAR."""
    titel = zval = None
    for line in path.read_text(errors="replace").splitlines():
        if "TITEL" in line and titel is None:
            titel = line.split("=", 1)[1].strip()
        elif "ZVAL" in line and zval is None:
            zval = float(line.split("ZVAL")[1].split("=")[1].split()[0])
        if titel is not None and zval is not None:
            break
    if titel is None or zval is None:
        raise ConfigError(f"{path}: not a POTCAR (no TITEL/ZVAL line); check VASP_PP_PATH")
    return titel, zval


class VaspLabeller(Labeller):
    """Static PBE labels from VASP. ``command`` runs VASP in the run directory (default $ASE_VASP_COMMAND)."""

    name = "vasp"

    def __init__(self, workdir: str | os.PathLike = "vasp_runs", command: str | None = None,
                 species: Sequence[str] = DEFAULT_SPECIES, pp_path: str | os.PathLike | None = None,
                 pp_subdir: str = "potpaw_PBE", encut: float = 680.0, ediff: float = 1e-5, kspacing: float = 0.22,
                 ismear: int = 0, sigma: float = 0.05, lreal: bool | str = False, nelm: int = 100,
                 ispin: int = 1, incar: dict[str, Any] | None = None,
                 detours: Sequence[dict[str, Any]] = DEFAULT_DETOURS, use_custodian: bool = True,
                 max_errors: int = 5, polling_time_step: int = 10) -> None:
        self.workdir = Path(workdir)
        self.command = command or os.environ.get("ASE_VASP_COMMAND") or os.environ.get("VASP_COMMAND") or "vasp_std"
        self.allowed_species = list(species)
        self.pp_path = Path(pp_path) if pp_path else None
        self.pp_subdir = pp_subdir
        self.user_incar = {"ENCUT": encut, "EDIFF": ediff, "KSPACING": kspacing, "ISMEAR": ismear, "SIGMA": sigma,
                           "LREAL": lreal, "NELM": nelm, "ISPIN": ispin, **NO_FILES, **(incar or {})}
        self.detours = [dict(d) for d in detours]
        self.use_custodian = use_custodian
        self.max_errors = int(max_errors)
        self.polling_time_step = int(polling_time_step)
        self._count = 0

    # -- settings and inputs -------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        import ase
        import custodian
        import pymatgen.core

        return {"name": self.name, "input_set": "pymatgen MatPESStaticSet (PBE static)",
                "incar": {k: v for k, v in self.user_incar.items()}, "detours": self.detours,
                "command": mask_secrets(self.command), "potcar_subdir": self.pp_subdir,
                "custodian": self.use_custodian, "max_errors": self.max_errors,
                "versions": {"ase": ase.__version__, "pymatgen": pymatgen.core.__version__,
                             "custodian": custodian.__version__}}

    def incar_for(self, atoms: Atoms) -> tuple[dict[str, Any], list[str]]:
        """(INCAR dict, POTCAR symbols per element) of the static set for ``atoms``."""
        from pymatgen.io.ase import AseAtomsAdaptor
        from pymatgen.io.vasp.sets import MatPESStaticSet

        vis = MatPESStaticSet(AseAtomsAdaptor.get_structure(atoms), user_incar_settings=self.user_incar)
        incar = {k: v for k, v in dict(vis.incar).items() if v is not None}
        if atoms.info.get("odd_electrons"):  # flagged by the neighbourhood cutter: a radical needs spin polarisation
            incar["ISPIN"] = 2
        return incar, list(vis.potcar_symbols)

    def _pp_root(self) -> Path:
        root = self.pp_path or potcar_dir()
        if root is None:
            raise ConfigError("no POTCAR directory: set VASP_PP_PATH (holding potpaw_PBE/<element>/POTCAR) "
                              "or PMG_VASP_PSP_DIR")
        if not (root / self.pp_subdir).is_dir():
            raise ConfigError(f"POTCAR directory {root / self.pp_subdir} does not exist; set VASP_PP_PATH to the "
                              f"folder that holds {self.pp_subdir}/")
        return root

    def write_inputs(self, atoms: Atoms, directory: str | os.PathLike, extra: dict[str, Any] | None = None):
        """Write INCAR, POSCAR, KPOINTS, POTCAR and POTCAR.spec; returns the ASE Vasp calculator."""
        from ase.calculators.vasp import Vasp

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        root = self._pp_root()
        incar, potcar_symbols = self.incar_for(atoms)
        incar.update(extra or {})
        magmom = incar.pop("MAGMOM", None)
        atoms = atoms.copy()
        if magmom is not None and incar.get("ISPIN", 1) == 2:
            atoms.set_initial_magnetic_moments(np.asarray(magmom, dtype=float)[: len(atoms)])
        elements = list(dict.fromkeys(s.split("_")[0] for s in potcar_symbols))
        setups = {el: sym[len(el):] for el, sym in zip(elements, potcar_symbols) if sym != el}
        for sym in potcar_symbols:
            if not (root / self.pp_subdir / sym / "POTCAR").is_file():
                raise ConfigError(f"POTCAR {root / self.pp_subdir / sym / 'POTCAR'} is missing; install the PBE "
                                  f"POTCARs under VASP_PP_PATH")
        params = {k.lower(): v for k, v in incar.items()}
        old = os.environ.get("VASP_PP_PATH")
        os.environ["VASP_PP_PATH"] = str(root)
        try:
            warnings.filterwarnings("ignore", message="Loaded VASP_PP_PATH from environment")
            calc = Vasp(directory=str(directory), command=self.command, setups=setups, pp=self.pp_subdir.replace("potpaw_", ""),
                        gamma=True, **params)
            calc.write_input(atoms)
        finally:
            if old is None:
                os.environ.pop("VASP_PP_PATH", None)
            else:
                os.environ["VASP_PP_PATH"] = old
        spec = [f"{el} {sym}" for el, sym in zip(elements, potcar_symbols)]
        ordered = list(dict.fromkeys(atoms.get_chemical_symbols()[i] for i in calc.sort))
        spec = sorted(spec, key=lambda line: ordered.index(line.split()[0]))
        (directory / "POTCAR.spec").write_text("\n".join(line.split()[1] for line in spec) + "\n")
        return calc

    # -- running ------------------------------------------------------------------------------------
    def _run(self, directory: Path) -> str | None:
        """Run VASP in ``directory`` (under custodian with atomate2's handlers and validators unless disabled);
        the error text or None."""
        import subprocess

        if not self.use_custodian:
            with open(directory / "vasp.out", "w") as out:
                rc = subprocess.run(shlex.split(self.command), cwd=directory, stdout=out,
                                    stderr=subprocess.STDOUT).returncode
            return None if rc == 0 else f"VASP command exited with {rc}"
        from atomate2.vasp.run import run_vasp
        from custodian.custodian import CustodianError
        from monty.os import cd

        try:
            with cd(directory):
                run_vasp(vasp_cmd=self.command, max_errors=self.max_errors,
                         custodian_kwargs={"polling_time_step": self.polling_time_step, "monitor_freq": 3})
        except CustodianError as exc:
            return f"custodian: {mask_secrets(str(exc)).splitlines()[0]}"
        except Exception as exc:  # noqa: BLE001 - a broken run is one structure's failure
            return f"{type(exc).__name__}: {mask_secrets(str(exc))}"
        return None

    def parse(self, directory: str | os.PathLike, atoms: Atoms) -> LabelResult:
        """The label of the finished run in ``directory``, through emmet's TaskDoc (atoms in ``atoms``' order)."""
        from emmet.core.tasks import TaskDoc

        from seilearn.labelling.atomate2_vasp import label_from_task

        directory = Path(directory)
        missing = [f for f in ("vasprun.xml", "OUTCAR", "CONTCAR") if not (directory / f).is_file()]
        if missing:
            return LabelResult(status="failed", reason=f"VASP left no {', '.join(missing)} (it died?)")
        try:
            task = TaskDoc.from_directory(directory).model_dump(mode="json")
        except Exception as exc:  # noqa: BLE001 - truncated outputs: the run died
            text = str(exc).splitlines()[0] if str(exc) else ""
            return LabelResult(status="failed", reason=f"vasprun.xml or OUTCAR unreadable (VASP died?): "
                                                       f"{type(exc).__name__}: {text}")
        res = label_from_task(atoms, {"uuid": str(directory), "output": task})
        res.provenance = {}
        res.reason = res.reason and res.reason.replace(f"; task document {directory}", "")
        return res

    def _label_one(self, atoms: Atoms) -> LabelResult:
        t0 = time.time()
        # a fresh directory per structure: stale outputs of an earlier run must never be parsed as this one's
        while True:
            self._count += 1
            base = self.workdir / f"{self._count:05d}_{atoms.get_chemical_formula()}"
            if not base.exists() and not base.with_name(base.name + "_detour1").exists():
                break
        reasons = []
        for attempt, extra in enumerate([{}] + self.detours):
            directory = base if attempt == 0 else base.with_name(base.name + f"_detour{attempt}")
            directory.mkdir(parents=True, exist_ok=True)
            try:
                self.write_inputs(atoms, directory, extra)
            except ConfigError as exc:
                return LabelResult(status="failed", reason=str(exc), wall_time=time.time() - t0)
            err = self._run(directory)
            res = self.parse(directory, atoms)
            if res.status == "failed" and err:
                res.reason = f"{err}; {res.reason}"
            label = "default" if attempt == 0 else ", ".join(f"{k}={v}" for k, v in extra.items())
            if res.status != "scf_unconverged":
                if res.ok and attempt:
                    res.reason = f"converged after detour {label} ({'; '.join(reasons)})"
                res.wall_time = time.time() - t0
                return res
            reasons.append(f"[{label}] {res.reason}")
        (base / "QUARANTINED").write_text("\n".join(reasons) + "\n")
        return LabelResult(status="scf_unconverged", reason="; ".join(reasons), wall_time=time.time() - t0)

    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        return [self._label_one(a) for a in atoms_list]
