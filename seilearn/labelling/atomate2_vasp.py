"""DFT labels through atomate2: a MatPES-style VASP static job per configuration, its ``TaskDoc`` kept in a
jobflow ``JobStore`` on seilearn's own MongoDB, and our label made from that task document.

atomate2 writes the inputs (pymatgen ``MatPESStaticSet`` with our INCAR overrides), runs VASP under custodian
(its default handlers and validators) and parses the outputs into an emmet ``TaskDoc``. This module adds what
the campaign needs on top: ISPIN=2 for odd electron counts, deterministic job uuids (a rerun finds the task
document instead of adding a second), the triage of failed or unconverged runs (detours with changed
ALGO/NELM, then quarantine, never an ok label) and the conversion of a task document into a label.

In a campaign the jobs run as FireWorks (``seilearn.workflows.tasks.atomate2``); ``Atomate2VaspLabeller.label``
runs them here with jobflow's ``run_locally`` (``seilearn label --labeller atomate2-vasp``).
"""

from __future__ import annotations

import os
import re
import uuid as uuidlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.units import GPa
from maggma.stores import MongoStore

from seilearn.errors import ConfigError, InputError
from seilearn.labelling.base import Labeller, LabelResult, mask_secrets
from seilearn.labelling.vasp import DEFAULT_DETOURS, NO_FILES, read_potcar_header
from seilearn.species import DEFAULT_SPECIES

NAME = "atomate2-vasp"
KBAR_TO_EV_A3 = 0.1 * GPa
_UUID_NS = uuidlib.UUID("6f0c5e1e-2a51-4d8e-9a53-5e11ea2a7e0b")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,40}$")
UNITS = {"energy": "eV (free energy TOTEN, e_fr_energy)", "forces": "eV/A",
         "stress": "eV/A^3 (ASE Voigt xx yy zz yz xz xy, positive = tensile)"}


class SeilearnMongoStore(MongoStore):
    """A maggma store on a collection of seilearn's database, resolved when it connects.

    Its serialised form (inside each atomate2 firework) holds only the collection name: the server and
    database come from the worker's seilearn settings (``SEILEARN_MONGODB_URI`` or the embedded server),
    so no URI or password is written into the workflow and a restarted embedded server is found again."""

    def __init__(self, collection_name: str, **kwargs: Any) -> None:
        super().__init__(database="seilearn", collection_name=collection_name, **kwargs)

    def connect(self, force_reset: bool = False) -> None:
        if self._coll is None or force_reset:
            from seilearn.config import load_settings
            from seilearn.store.connection import get_client

            settings = load_settings()
            self.database = settings.db_name
            self._coll = get_client(settings)[settings.db_name][self.collection_name]

    @property
    def name(self) -> str:
        return f"seilearn/{self.collection_name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SeilearnMongoStore) and other.collection_name == self.collection_name

    def __hash__(self) -> int:
        return hash(self.collection_name)


def job_store(prefix: str = "atomate2_"):
    """The jobflow JobStore of atomate2 outputs: ``<prefix>outputs`` (task documents, by job uuid) and
    ``<prefix>data`` (large objects atomate2 sends to its ``data`` store) in seilearn's database."""
    from jobflow import JobStore

    return JobStore(SeilearnMongoStore(f"{prefix}outputs"),
                    additional_stores={"data": SeilearnMongoStore(f"{prefix}data")})


def job_uuid(key: str, attempt: int) -> str:
    """Deterministic jobflow uuid of attempt ``attempt`` for ``key`` (a rerun makes the same job)."""
    return str(uuidlib.uuid5(_UUID_NS, f"{key}#{attempt}"))


def input_set(incar: dict[str, Any]):
    """The MatPES static input set with ``incar`` as user INCAR settings (atomate2's MatPES GGA static)."""
    from pymatgen.io.vasp.sets import MatPESStaticSet

    return MatPESStaticSet(user_incar_settings=dict(incar))


def potcar_root() -> Path | None:
    """pymatgen's POTCAR directory (``PMG_VASP_PSP_DIR`` in the environment or ~/.config/.pmgrc.yaml)."""
    from pymatgen.core import SETTINGS

    value = SETTINGS.get("PMG_VASP_PSP_DIR") or os.environ.get("PMG_VASP_PSP_DIR")
    return Path(value).expanduser() if value else None


def potcar_zval(symbol: str, functional: str) -> float:
    """ZVAL of POTCAR ``symbol`` (e.g. Li_sv) of ``functional`` (e.g. PBE_64) in pymatgen's layout."""
    from monty.os.path import zpath
    from pymatgen.io.vasp.inputs import PotcarSingle

    root = potcar_root()
    if root is None:
        raise ConfigError("labeller atomate2-vasp: no POTCAR directory to count electrons (ISPIN); set "
                          "PMG_VASP_PSP_DIR (holding POT_PAW_PBE_64/POTCAR.<symbol>) or set ispin: 1 or 2")
    sub = PotcarSingle.functional_dir[functional]
    for cand in (root / sub / f"POTCAR.{symbol}", root / sub / symbol / "POTCAR"):
        path = Path(zpath(str(cand)))
        if path.is_file():
            return read_potcar_header(path)[1]
    raise ConfigError(f"labeller atomate2-vasp: POTCAR {symbol} ({functional}) not found under {root / sub}; "
                      "install the POTCARs there (pymatgen's layout) or fix PMG_VASP_PSP_DIR")


def electron_count(atoms: Atoms, potcar_symbols: Sequence[str], functional: str) -> float:
    """NELECT of a neutral cell: the POTCAR valences (ZVAL) summed over the atoms."""
    by_element = {sym.split("_")[0]: potcar_zval(sym, functional) for sym in potcar_symbols}
    return float(sum(by_element[s] for s in atoms.get_chemical_symbols()))


def site_order(atoms: Atoms, structure: dict[str, Any]) -> np.ndarray:
    """For each atom of ``atoms``, the index of the same atom in a TaskDoc's (sorted) output structure."""
    from pymatgen.core import Structure

    out = Structure.from_dict(structure)
    frac_in = np.linalg.solve(np.asarray(out.lattice.matrix).T, np.asarray(atoms.positions).T).T
    dist = out.lattice.get_all_distances(frac_in, out.frac_coords)
    same = np.array([[a == str(site.specie) for site in out] for a in atoms.get_chemical_symbols()])
    dist = np.where(same, dist, np.inf)
    order = dist.argmin(axis=1)
    if len(set(order.tolist())) != len(atoms) or not np.all(dist[np.arange(len(atoms)), order] < 1e-2):
        raise InputError("the task document's structure does not match the configuration (site order unknown)")
    return order


def custodian_corrections(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The corrections custodian made (handler, errors, actions), from a TaskDoc's ``custodian`` field."""
    out = []
    for run in task.get("custodian") or []:
        for corr in run.get("corrections") or []:
            handler = corr.get("handler")
            name = handler.get("@class") if isinstance(handler, dict) else str(handler)
            out.append({"handler": name, "errors": corr.get("errors"), "actions": corr.get("actions")})
    return out


def label_from_task(atoms: Atoms, doc: dict[str, Any]) -> LabelResult:
    """Our label from a JobStore document whose ``output`` is an atomate2 VASP ``TaskDoc`` (as a dict).

    ``ok`` only when the task document says the run succeeded and the SCF converged; else ``scf_unconverged``
    or ``failed`` with the reason (the caller's triage decides on detours)."""
    task = doc["output"]
    calc = (task.get("calcs_reversed") or [{}])[0]
    incar = (calc.get("input") or {}).get("incar") or (task.get("input") or {}).get("incar") or {}
    state = task.get("state")
    prov = {"uuid": doc["uuid"], "task_label": task.get("task_label"), "state": getattr(state, "value", state),
            "dir_name": task.get("dir_name"), "incar": incar,
            "kpoints": _kpoints(calc), "potcar": (task.get("input") or {}).get("potcar"),
            "run_type": str(calc.get("run_type")), "vasp_version": calc.get("vasp_version"),
            "custodian_corrections": custodian_corrections(task), "completed_at": str(task.get("completed_at"))}
    steps = ((calc.get("output") or {}).get("ionic_steps") or [])
    if not steps or prov["state"] != "successful":  # emmet: VASP finished and the SCF converged
        nelm = incar.get("NELM", "?")
        n = len(steps[-1].get("electronic_steps") or []) if steps else 0
        if steps and n >= int(nelm if str(nelm).isdigit() else 10 ** 9):
            return LabelResult(status="scf_unconverged", provenance=prov,
                               reason=f"electronic SCF not converged in {n} of NELM={nelm} steps "
                                      f"(ALGO={incar.get('ALGO', 'Normal')}); task document {doc['uuid']}")
        return LabelResult(status="failed", provenance=prov,
                           reason=f"task document {doc['uuid']} has state {task.get('state')!r}")
    last = steps[-1]
    order = site_order(atoms, last.get("structure") or (task.get("output") or {}).get("structure"))
    forces = np.asarray(last["forces"], dtype=float)[order]
    s = -np.asarray(last["stress"], dtype=float) * KBAR_TO_EV_A3  # VASP: kBar, positive = compressive
    stress = s[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    energy = float(last["e_fr_energy"])
    if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
        return LabelResult(status="failed", reason=f"task document {doc['uuid']}: non-finite energy or forces",
                           provenance=prov)
    stats = (calc.get("output") or {}).get("run_stats") or (task.get("run_stats") or {}).get("standard") or {}
    wall = stats.get("Elapsed time (sec)") or stats.get("elapsed_time")
    return LabelResult(status="ok", energy=energy, forces=forces, stress=stress, units=dict(UNITS),
                       wall_time=float(wall) if wall else None, provenance=prov)


def _kpoints(calc: dict[str, Any]) -> Any:
    kp = (calc.get("input") or {}).get("kpoints")
    if isinstance(kp, dict):
        return {k: kp.get(k) for k in ("generation_style", "kpoints", "usershift") if k in kp} or None
    return kp


class Atomate2VaspLabeller(Labeller):
    """Static VASP labels through atomate2 (see the module docstring). Settings:

    ``incar`` INCAR overrides of the MatPES static set (e.g. ENCUT, KSPACING); ``ispin`` ``auto`` (2 for an odd
    electron count or ``atoms.info['odd_electrons']``, else 1), 1 or 2; ``detours`` the INCAR updates tried, in
    order, when a run fails or its SCF does not converge; ``vasp_cmd`` the VASP command (default atomate2's
    ``VASP_CMD`` setting); ``max_errors`` custodian's error budget per run; ``collection_prefix`` of the
    JobStore collections; ``workdir`` where the runs are made (in a campaign: the VASP fireworks' launch
    directory, relative paths under the campaign's results directory; default the rocket's launch directory)."""

    name = NAME

    def __init__(self, incar: dict[str, Any] | None = None, ispin: str | int = "auto",
                 detours: Sequence[dict[str, Any]] = DEFAULT_DETOURS, vasp_cmd: str | None = None,
                 max_errors: int | None = None, collection_prefix: str = "atomate2_",
                 workdir: str | os.PathLike | None = None, species: Sequence[str] = DEFAULT_SPECIES) -> None:
        if ispin not in ("auto", 1, 2):
            raise InputError(f"labeller.settings.ispin: {ispin!r} is not auto, 1 or 2")
        if not _PREFIX.match(str(collection_prefix)):
            raise InputError(f"labeller.settings.collection_prefix: {collection_prefix!r} is not a collection "
                             "name prefix (a letter, then letters, digits or _)")
        if not isinstance(incar or {}, dict) or not all(isinstance(d, dict) for d in detours):
            raise InputError("labeller.settings.incar must be a mapping and detours a list of mappings of INCAR keys")
        self.incar = {**NO_FILES, **{k.upper(): v for k, v in (incar or {}).items()}}
        self.ispin = ispin
        self.detours = [{k.upper(): v for k, v in d.items()} for d in detours]
        self.vasp_cmd = vasp_cmd
        self.max_errors = None if max_errors is None else int(max_errors)
        self.collection_prefix = str(collection_prefix)
        self.workdir = Path(workdir) if workdir else None
        self.allowed_species = list(species)

    def settings(self) -> dict[str, Any]:
        import atomate2
        import custodian
        import emmet.core
        import jobflow
        import pymatgen.core
        from atomate2 import SETTINGS

        return {"name": self.name, "maker": "atomate2 MatPesGGAStaticMaker (pymatgen MatPESStaticSet)",
                "incar": dict(self.incar), "ispin": self.ispin, "detours": self.detours,
                "vasp_cmd": mask_secrets(self.vasp_cmd or SETTINGS.VASP_CMD),
                "max_errors": self.max_errors or SETTINGS.VASP_CUSTODIAN_MAX_ERRORS,
                "job_store": {"outputs": f"{self.collection_prefix}outputs", "data": f"{self.collection_prefix}data"},
                "versions": {"atomate2": atomate2.__version__, "jobflow": jobflow.__version__,
                             "emmet-core": emmet.core.__version__, "pymatgen": pymatgen.core.__version__,
                             "custodian": custodian.__version__}}

    def store(self):
        return job_store(self.collection_prefix)

    def attempts(self) -> int:
        return 1 + len(self.detours)

    def incar_for(self, atoms: Atoms, attempt: int) -> dict[str, Any]:
        """INCAR overrides of ``attempt`` (0: the settings; k: detour k on top) with ISPIN decided."""
        incar = dict(self.incar)
        if attempt:
            incar.update(self.detours[attempt - 1])
        if "ISPIN" not in incar:
            incar["ISPIN"] = self.spin(atoms)
        return incar

    def spin(self, atoms: Atoms) -> int:
        """ISPIN: as set, or 2 when the cell has an odd number of electrons (flagged by the cutter or counted
        from the POTCAR valences)."""
        if self.ispin != "auto":
            return int(self.ispin)
        if atoms.info.get("odd_electrons"):
            return 2
        from pymatgen.io.ase import AseAtomsAdaptor

        vis = input_set(self.incar)
        vis.structure = AseAtomsAdaptor.get_structure(atoms)
        nelect = electron_count(atoms, vis.potcar_symbols, vis.potcar_functional)
        return 2 if round(nelect) % 2 else 1

    def make_job(self, atoms: Atoms, key: str, attempt: int):
        """The atomate2 static job of ``attempt`` for ``atoms``, with its deterministic uuid."""
        from atomate2.vasp.jobs.matpes import MatPesGGAStaticMaker
        from pymatgen.io.ase import AseAtomsAdaptor

        run_kwargs: dict[str, Any] = {}
        if self.vasp_cmd:
            run_kwargs["vasp_cmd"] = self.vasp_cmd
        if self.max_errors is not None:
            run_kwargs["max_errors"] = self.max_errors
        maker = MatPesGGAStaticMaker(name=f"seilearn static {key} try{attempt}",
                                     input_set_generator=input_set(self.incar_for(atoms, attempt)),
                                     run_vasp_kwargs=run_kwargs,
                                     # keep the task document of an unconverged run (atomate2's default raises
                                     # and stores nothing) and let the collecting firework run (True would
                                     # defuse it): our triage reads the document and decides on a detour
                                     stop_children_kwargs={"handle_unsuccessful": False})
        structure = AseAtomsAdaptor.get_structure(Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=True))
        job = maker.make(structure)
        job.set_uuid(job_uuid(key, attempt))
        return job

    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        """Run each configuration's jobs here (jobflow run_locally), detours included."""
        from jobflow.managers.local import run_locally

        from seilearn.store.hashing import structure_hash

        store = self.store()
        root = self.workdir or Path("atomate2_runs")
        results = []
        for atoms in atoms_list:
            key = structure_hash(atoms)[:16]
            res = None
            for attempt in range(self.attempts()):
                uid = job_uuid(key, attempt)
                store.connect()
                if store.query_one({"uuid": uid}, properties=["uuid"]) is None:
                    # a task document made before (same configuration and settings) is reused
                    root.mkdir(parents=True, exist_ok=True)
                    run_locally(self.make_job(atoms, key, attempt), store=store, create_folders=True,
                                root_dir=root, log=False)
                res = outcome(self, store, atoms, key, attempt)
                if res is not None:
                    break
            assert res is not None
            results.append(res)
        return results


def outcome(lab: Atomate2VaspLabeller, store, atoms: Atoms, key: str, attempt: int) -> LabelResult | None:
    """The triaged result of ``key`` after ``attempt`` from the task documents in ``store``, or None when the
    run failed or did not converge and a detour is left to try.

    Ok: the label (noting the detour that converged). Out of detours: quarantined, ``scf_unconverged`` or
    ``failed`` with every attempt's reason, never an ok label."""
    results = []
    for a in range(attempt + 1):
        uid = job_uuid(key, a)
        doc = store.query_one({"uuid": uid}, load=True)
        results.append(failed_run(uid) if doc is None else label_from_task(atoms, doc))
    res = results[-1]
    if not res.ok and attempt + 1 < lab.attempts():
        return None
    reasons = [f"[{attempt_label(lab, a)}] {r.reason}" for a, r in enumerate(results)]
    if res.ok and attempt:
        res.reason = f"converged after detour ({'; '.join(reasons[:-1])})"
    elif not res.ok:
        res.reason = "quarantined after " + "; ".join(reasons)
        res.provenance["quarantined"] = True
    res.provenance["attempts"] = [job_uuid(key, a) for a in range(attempt + 1)]
    return res


def attempt_label(lab: Atomate2VaspLabeller, attempt: int) -> str:
    return "default" if attempt == 0 else ", ".join(f"{k}={v}" for k, v in lab.detours[attempt - 1].items())


def failed_run(uid: str) -> LabelResult:
    """The result of a job that left no task document (VASP or custodian gave up; the firework failed)."""
    return LabelResult(status="failed", reason=f"no task document {uid}: the VASP job failed (see its firework or "
                                               f"run directory)", provenance={"uuid": uid, "state": "no task document"})
