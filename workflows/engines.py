"""The one place where the workflow calls seilearn's science modules.

FireTasks stay about orchestration (ids, provenance, idempotency); this module turns a campaign spec
into calls of structures, labelling, mtp, selection, md and analysis, and frames into bytes for GridFS.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read, write

from seilearn.workflows.spec import CampaignSpec, ExplorationRun, ProductionRun

_ENGINE_SECONDS = [0.0]


def timed(func):
    """Count the wall time spent in science code, so orchestration overhead can be measured apart."""
    import functools
    import time

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _ENGINE_SECONDS[0] += time.perf_counter() - t0

    return wrapper


def take_engine_seconds() -> float:
    """Seconds spent in engine calls since the last call (per firework)."""
    value, _ENGINE_SECONDS[0] = _ENGINE_SECONDS[0], 0.0
    return value


# -- structures ------------------------------------------------------------------------------------

@timed
def seed_structures(spec: CampaignSpec) -> list[Atoms]:
    """The campaign's seed configurations: imported from a file or generated reproducibly."""
    seed = spec.seed_set
    if seed.file:
        return _read_any(seed.file, spec.elements)
    from seilearn.structures import seed_set

    return seed_set(n=seed.n, seed=seed.seed, max_atoms=seed.max_atoms)


def structure(name: str, supercell: list[int] | None = None, elements: list[str] | None = None) -> Atoms:
    """An exploration or production starting structure (see seilearn.structures.resolve)."""
    from seilearn.structures.resolve import resolve_structure

    return resolve_structure(name, supercell, elements)


def _read_any(path: str, species: list[str] | None) -> list[Atoms]:
    from seilearn.structures.resolve import read_structure

    return read_structure(path, species, index=":")


# -- labelling -------------------------------------------------------------------------------------

@timed
def labeller(spec: CampaignSpec):
    from seilearn.labelling import get_labeller

    return get_labeller(spec.labeller.name, **spec.labeller.settings)


@timed
def label(lab, atoms_list: list[Atoms]):
    """Label a batch (per-structure results; see seilearn.labelling)."""
    return lab.label(atoms_list)


def labeller_record(lab) -> dict[str, Any]:
    """The labeller's settings as stored with each label (JSON-normalised so reruns compare equal)."""
    return json.loads(json.dumps({"name": lab.name, **lab.settings()}, default=str))


# -- training and active set -----------------------------------------------------------------------

def training_settings(spec: CampaignSpec) -> dict[str, Any]:
    return spec.mtp.to_dict()


def train_kwargs(spec: CampaignSpec, seed: int) -> dict[str, Any]:
    """Keyword arguments of ``seilearn.mtp.training.train`` for this spec (unset optional keys keep the
    trainer's own defaults)."""
    m = spec.mtp
    kw: dict[str, Any] = {"level": m.level, "cutoff": m.cutoff, "max_iter": m.max_iter, "seed": m.seed + seed}
    if m.pretrain_iter is not None:
        kw["pretrain_iter"] = m.pretrain_iter
    if m.min_dist is not None:
        kw["min_dist"] = m.min_dist
    return kw


def warm_kwargs(spec: CampaignSpec) -> dict[str, Any]:
    """The stopping rule of a warm retrain (``mtp.warm_tol``, ``mtp.warm_patience``)."""
    return {"tol": spec.mtp.warm_tol, "patience": spec.mtp.warm_patience}


@timed
def train(spec: CampaignSpec, atoms: list[Atoms], *, init_text: str | None, seed: int) -> tuple[str, dict[str, Any]]:
    """Train (or continue) an MTP; returns the .mtp text and metrics. Cross-validation (``mtp.cv_folds``) runs
    as fireworks of its own beside the next exploration (``cv_fold``), so it never holds up the loop."""
    from seilearn.mtp.mtpfile import read_mtp, to_text
    from seilearn.mtp.training import train as mtp_train

    init = read_mtp(init_text) if init_text else None
    kw = train_kwargs(spec, seed) | (warm_kwargs(spec) if init is not None else {})
    model, log = mtp_train(atoms, spec.elements, init=init, **kw)
    return to_text(model), _metrics(log)


@timed
def cv_fold(spec: CampaignSpec, atoms: list[Atoms], fold: int, *, seed: int) -> dict[str, Any]:
    """Fold ``fold`` of the spec's k-fold cross-validation of a training set (a fresh fit without that fold)."""
    from seilearn.mtp.crossval import fold_indices, run_fold

    test = fold_indices(len(atoms), spec.mtp.cv_folds, seed)[fold]
    res = run_fold(atoms, spec.elements, test, train_kwargs(spec, seed))
    res["fold"] = fold
    return res


def cv_summary(fold_results: list[dict[str, Any]]) -> dict[str, Any]:
    from seilearn.mtp.crossval import summarize

    out = summarize(sorted(fold_results, key=lambda r: r["fold"]))
    out.pop("per_fold", None)
    return out


def _metrics(log: Any) -> dict[str, Any]:
    if hasattr(log, "to_dict"):
        log = log.to_dict()
    if isinstance(log, dict):
        final = log.get("final", log)
        return {k: float(v) for k, v in final.items() if isinstance(v, (int, float))}
    return {}


@timed
def active_set(spec: CampaignSpec, mtp_text: str, atoms: list[Atoms],
               parent_almtp: bytes | None = None) -> tuple[bytes, dict[str, Any]]:
    """The MaxVol active set of the training set: (.almtp file bytes, how it was built).

    With ``parent_almtp`` (a warm retrain) MaxVol starts from the parent's active rows, re-evaluated with the new
    potential (``update_active_set``); otherwise it is built from eps * I as ``mlp train`` does."""
    from seilearn.selection import build_active_set, update_active_set

    pot = _potential(spec, mtp_text)
    parent = _active_set_from(parent_almtp, spec.elements) if parent_almtp is not None else None
    if parent is not None and parent.mode == spec.selection.mode:
        aset = update_active_set(pot, atoms, parent)
    else:
        aset = build_active_set(pot, atoms, mode=spec.selection.mode)
    info = {"start": "parent" if aset.seeded else "eps", "seeded_rows": aset.seeded, "swaps": aset.state.swaps,
            "filled_rows": aset.filled, "log_abs_det": aset.state.log_abs_det}
    return aset.to_bytes(mtp_text=mtp_text, species=spec.elements), info


def _potential(spec: CampaignSpec, mtp_text: str):
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import Potential

    return Potential(read_mtp(mtp_text), species=spec.elements)


def _active_set_from(almtp: bytes, species: list[str] | None = None):
    from seilearn.selection import ActiveSet

    return ActiveSet.from_bytes(almtp, species=species)


def select_kwargs(spec: CampaignSpec) -> dict[str, Any]:
    """Keyword arguments of ``seilearn.selection.select_add`` for this spec."""
    return {"mode": spec.selection.mode, "limit": spec.selection.limit_per_iteration}


@timed
def select(spec: CampaignSpec, mtp_text: str, almtp: bytes, train_atoms: list[Atoms], pool: list[Atoms]) -> list[int]:
    """Indices of ``pool`` that D-optimality adds to the active set (MLIP's select_add)."""
    from seilearn.selection import select_add

    return list(select_add(_potential(spec, mtp_text), train_atoms, pool, **select_kwargs(spec),
                           active_set=_active_set_from(almtp, spec.elements)))


# -- exploration and production MD -----------------------------------------------------------------

@timed
def explore(spec: CampaignSpec, run: ExplorationRun, mtp_text: str, almtp: bytes, *, save: float, brk: float,
            seed: int, workdir: Path | None = None,
            worker_command: str | None = None) -> tuple[dict[str, Any], list[Atoms]]:
    """Grade-monitored MD; returns (result fields for the run record, preselected frames). ``engine: lammps`` runs
    the MLIP-3 deck in ``workdir`` with the worker's ``_fw_env.lammps_command`` or else the spec's."""
    atoms = structure(run.structure, run.supercell, spec.elements)
    if run.engine == "lammps":
        from seilearn.md.lammps import engine as lmp
        from seilearn.md.lammps.command import choose_command

        if workdir is None:
            raise ValueError("engine lammps needs a run directory")
        command, source = choose_command(spec.exploration[run.task_index].lammps_command, worker_command)
        res = lmp.explore(atoms, almtp, spec.elements, workdir, command=command, command_source=source,
                          steps=run.steps, temperature=run.temperature_K, pressure_bar=run.pressure_bar,
                          ensemble=run.ensemble, timestep_fs=run.timestep_fs, grade_every=run.grade_every,
                          threshold_save=save, threshold_break=brk, seed=seed % 900_000_000 + 1)
        return res.summary(), list(res.preselected)
    from seilearn.md.exploration import run_exploration

    pot = _potential(spec, mtp_text)
    res = run_exploration(atoms, pot, _active_set_from(almtp, spec.elements), steps=run.steps,
                          temperature=run.temperature_K, pressure_bar=run.pressure_bar,
                          ensemble=run.ensemble, timestep_fs=run.timestep_fs,
                          grade_every=run.grade_every, threshold_save=save, threshold_break=brk,
                          seed=seed, mode=spec.selection.mode)
    frames = list(res.preselected)
    return res.summary(), frames


@timed
def produce(spec: CampaignSpec, run: ProductionRun, mtp_text: str, outdir: Path,
            worker_command: str | None = None) -> dict[str, Any]:
    """One production run in ``outdir`` (ASE, or with ``engine: lammps`` the MLIP-3 deck, resumed from its
    restart files after a kill)."""
    atoms = structure(f"interface-{run.model}", None, spec.elements)
    if run.engine == "lammps":
        from seilearn.md.lammps import engine as lmp
        from seilearn.md.lammps.command import choose_command

        command, source = choose_command(spec.production.lammps_command, worker_command)
        return lmp.produce(atoms, mtp_text, spec.elements, outdir, command=command, command_source=source,
                           steps=run.steps, temperature=run.temperature_K, pressure_bar=run.pressure_bar,
                           timestep_fs=run.timestep_fs, dump_every=run.dump_every, seed=run.seed + 1)
    from seilearn.md.production import run_production

    res = run_production(atoms, _potential(spec, mtp_text), outdir=outdir, steps=run.steps,
                         temperature=run.temperature_K, pressure_bar=run.pressure_bar,
                         timestep_fs=run.timestep_fs, dump_every=run.dump_every, seed=run.seed)
    return res.summary()


@timed
def produce_watched(spec: CampaignSpec, run: ProductionRun, mtp_text: str, almtp: bytes, outdir: Path, *,
                    potential_id: str, grade_every: int, save: float, brk: float) -> dict[str, Any]:
    """A local production run graded every ``grade_every`` steps against the potential's active set: it stops
    cleanly above ``brk``, or when it goes unphysical between two checks (status ``extrapolating``), and resumes
    from its checkpoint when run again with another ``potential_id`` (seilearn.md.production)."""
    from seilearn.md.production import run_production

    pot = _potential(spec, mtp_text)
    aset = _active_set_from(almtp, spec.elements)
    res = run_production(structure(f"interface-{run.model}", None, spec.elements), pot, outdir=outdir,
                         steps=run.steps, temperature=run.temperature_K, pressure_bar=run.pressure_bar,
                         timestep_fs=run.timestep_fs, dump_every=run.dump_every, seed=run.seed,
                         grader=lambda atoms: aset.grade(pot, atoms), grade_every=grade_every,
                         threshold_save=save, threshold_break=brk, potential_id=potential_id,
                         learn_on_failure=True)
    return res.summary()


@timed
def predict(spec: CampaignSpec, mtp_text: str, atoms_list: list[Atoms]) -> list[dict[str, Any]]:
    """Energy (eV), forces (eV/A) and stress (ASE Voigt, eV/A^3) of the MTP on each configuration."""
    calc = _potential(spec, mtp_text).calculator()
    out = []
    for atoms in atoms_list:
        a = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        a.calc = calc
        out.append({"energy": float(a.get_potential_energy()), "forces": np.array(a.get_forces()),
                    "stress": np.array(a.get_stress()) if a.cell.rank == 3 else None})
    return out


# -- analysis ----------------------------------------------------------------------------------------

@timed
def analyze(trajectory: str, outdir: Path, label: str, fmt: str = "extxyz", dt_ps: float | None = None,
            species: list[str] | None = None) -> dict[str, Any]:
    """Analysis of a production trajectory (extxyz, or a LAMMPS dump streamed frame by frame)."""
    from seilearn.analysis import analyze_trajectory

    kw: dict[str, Any] = {"fmt": fmt, "dt_ps": dt_ps}
    if species:
        kw["species"] = tuple(species)
    return analyze_trajectory(trajectory, outdir=outdir, label=label, **kw)


@timed
def overlay(series: dict[str, str], outdir: Path) -> list[Path]:
    from seilearn.analysis.plots import overlay_runs

    return overlay_runs(series, outdir)


# -- frames <-> GridFS -------------------------------------------------------------------------------

def put_frames(store, frames: list[Atoms], filename: str, **metadata: Any) -> str:
    buf = io.StringIO()
    clean = []
    for f in frames:
        a = Atoms(numbers=f.numbers, positions=f.positions, cell=f.cell, pbc=f.pbc)
        a.info.update({k: v for k, v in f.info.items() if isinstance(v, (int, float, str, np.integer, np.floating))})
        clean.append(a)
    write(buf, clean, format="extxyz")
    return store.put_file(buf.getvalue().encode(), filename, **metadata)


def get_frames(store, file_id: str) -> list[Atoms]:
    return read(io.StringIO(store.get_file(file_id).decode()), index=":", format="extxyz")
