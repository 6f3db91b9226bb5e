"""Streaming analysis of a production trajectory: alpha, N(PS_k), crystallinity, Li consumed, per frame.

Frames are read one at a time (extxyz or LAMMPS dump) so a 10 ns model-II trajectory never sits in
memory; a truncated last frame or a frame with missing species is reported and skipped, the rest kept.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import sys
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import iread
from scipy.spatial import cKDTree

from seilearn.analysis.crystallinity import crystalline_fraction
from seilearn.analysis.reduction import ps_counts, reduced_fraction
from seilearn.errors import InputError
from seilearn.fileio import atomic_write
from seilearn.species import DEFAULT_SPECIES

log = logging.getLogger("seilearn.analysis")
COLUMNS = ["frame", "time_ps", "alpha", "N_PS0", "N_PS1", "N_PS2", "N_PS3", "N_PS4", "c", "c_fcc", "c_hcp",
           "amorphous", "li_anion_bonded_excess", "li_consumed"]


FORMATS = {"extxyz": "extxyz", "lammps-dump": "lammps-dump-text"}


def frames(path: str | Path, fmt: str = "extxyz", every: int = 1, dt_ps: float | None = None,
           species: tuple[str, ...] = DEFAULT_SPECIES) -> Iterator[tuple[int, Atoms]]:
    """(index, frame) pairs read one at a time; a frame that cannot be parsed ends the stream with a warning.

    Time: extxyz ``info['time']`` or ``info['time_ps']`` (ps); a LAMMPS dump's timestep times ``dt_ps``;
    otherwise the frame index. LAMMPS types 1..n map to ``species`` unless the dump has an element column.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown trajectory format {fmt!r}; use --format extxyz or lammps-dump")
    if not Path(path).is_file():
        raise InputError(f"{path}: trajectory file not found; give an existing extxyz or LAMMPS dump file")
    if every < 1:
        raise InputError(f"--every {every}: must be a positive integer")
    kwargs = {"specorder": list(species)} if fmt == "lammps-dump" else {}
    it = iread(str(path), index=f"::{every}", format=FORMATS[fmt], **kwargs)
    k = 0
    while True:
        try:
            atoms = next(it)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a truncated last frame: keep what was read
            warnings.warn(f"{path}: frame {k * every} could not be read ({type(exc).__name__}: {exc}); "
                          "stopping there, earlier frames are analysed", stacklevel=2)
            return
        if "time_ps" not in atoms.info:
            if "time" in atoms.info:
                atoms.info["time_ps"] = float(atoms.info["time"])
            elif dt_ps and "timestep" in atoms.info:
                atoms.info["time_ps"] = float(atoms.info["timestep"]) * dt_ps
            else:
                atoms.info["time_ps"] = float(k * every) * (dt_ps or 1.0)
        yield k * every, atoms
        k += 1


def _neighbour_counts(atoms: Atoms, centres: np.ndarray, others: np.ndarray, cutoff: float) -> np.ndarray:
    """Number of ``others`` atoms within ``cutoff`` of each ``centres`` atom (periodic)."""
    if len(centres) == 0 or len(others) == 0:
        return np.zeros(len(centres), int)
    cell = np.asarray(atoms.cell)
    if np.allclose(cell, np.diag(np.diag(cell))) and atoms.pbc.all():
        box = np.diag(cell)
        tree = cKDTree(np.mod(atoms.positions[others], box), boxsize=box)
        return np.asarray(tree.query_ball_point(np.mod(atoms.positions[centres], box), cutoff,
                                                return_length=True))
    from ase.neighborlist import neighbor_list  # triclinic or non-periodic: ase handles any cell

    i, j = neighbor_list("ij", atoms, cutoff)
    keep = np.isin(j, others)
    return np.bincount(i[keep], minlength=len(atoms))[centres]


def li_consumed(atoms: Atoms, cutoff: float = 3.0) -> int:
    """Li-metal atoms consumed by the reaction.

    Defined by charge balance of coordination: every Li with an anion (S, P, Cl) within ``cutoff`` is
    ionic; pristine Li6PS5Cl already holds 6 ionic Li per P, so the Li taken from the metal is the
    number of anion-coordinated Li minus 6 Z (never negative). ``analyze_trajectory`` subtracts the
    first frame's value, so metal Li that touches the electrolyte across the initial gap is not counted
    (the pristine model II interface has 72 such Li). Metal Li has only Li neighbours
    (bcc Li-Li 3.0 A, Li-S in Li2S 2.47 A, Li-Cl in LiCl 2.57 A, Li-P in Li3P ~2.5-2.9 A).
    """
    sym = np.asarray(atoms.get_chemical_symbols())
    li = np.where(sym == "Li")[0]
    anions = np.where(np.isin(sym, ("S", "P", "Cl")))[0]
    bonded = int((_neighbour_counts(atoms, li, anions, cutoff) > 0).sum())
    return int(max(0, bonded - 6 * int(np.sum(sym == "P"))))


def analyze_frame(index: int, atoms: Atoms, crystallinity: bool = True, cutoff: float = 3.0) -> dict[str, Any]:
    """One CSV row: alpha, N(PS_k), c (fcc, hcp), amorphous = alpha - c, Li consumed."""
    counts = ps_counts(atoms, cutoff)
    alpha = reduced_fraction(counts)
    row: dict[str, Any] = {"frame": index, "time_ps": float(atoms.info.get("time_ps", index)), "alpha": alpha}
    row.update({f"N_PS{k}": int(counts[k]) for k in range(5)})
    cf = crystalline_fraction(atoms) if crystallinity else {"c": 0.0, "c_fcc": 0.0, "c_hcp": 0.0}
    row.update(cf)
    row["amorphous"] = alpha - cf["c"]
    # per frame: anion-coordinated Li beyond 6 Z; the trajectory subtracts its first frame's value
    # (metal Li touching the electrolyte across the initial gap) to give li_consumed
    row["li_anion_bonded_excess"] = li_consumed(atoms, cutoff)
    row["li_consumed"] = row["li_anion_bonded_excess"]
    return row


def _check_species(atoms: Atoms, k: int, path: str) -> bool:
    sym = set(atoms.get_chemical_symbols())
    if not {"P", "S"} <= sym:
        warnings.warn(f"{path}: frame {k} has no P or S ({', '.join(sorted(sym))}); skipped", stacklevel=2)
        return False
    return True


def _analyze_all(stream: Iterator[tuple[int, Atoms]], workers: int, cutoff: float,
                 progress: bool) -> list[dict[str, Any]]:
    """Analyse frames in order; with workers > 1 at most 2 x workers frames are in flight (memory bound)."""
    from tqdm import tqdm

    bar = tqdm(desc="analysing frames", unit="frame", disable=not progress, file=sys.stderr)
    rows: list[dict[str, Any]] = []
    try:
        if workers <= 1:
            for k, a in stream:
                rows.append(analyze_frame(k, a, cutoff=cutoff))
                bar.update()
            return rows
        pending: deque = deque()
        # spawn, not fork: a forked child of a process whose OVITO/OpenMP threads are running can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for k, a in stream:
                pending.append(pool.submit(analyze_frame, k, a, True, cutoff))
                if len(pending) >= 2 * workers:
                    rows.append(pending.popleft().result())
                    bar.update()
            while pending:
                rows.append(pending.popleft().result())
                bar.update()
        return rows
    finally:
        bar.close()


def analyze_trajectory(path: str | Path, outdir: str | Path, label: str = "run", fmt: str = "extxyz",
                       every: int = 1, workers: int = 1, dt_ps: float | None = None, cutoff: float = 3.0,
                       species: tuple[str, ...] = DEFAULT_SPECIES, progress: bool = False) -> dict[str, Any]:
    """Time series (``label``.csv + ``label``.json), growth-law fits, stages and plots of one trajectory.

    Returns the JSON summary (frames, final row, fits, stages, plot paths).
    """
    from seilearn.analysis.growth import fit_log, fit_power, stages
    from seilearn.analysis.plots import plot_run

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stream = ((k, a) for k, a in frames(path, fmt, every, dt_ps, species) if _check_species(a, k, str(path)))
    rows = _analyze_all(stream, workers, cutoff, progress)
    if not rows:
        raise InputError(f"{path}: no analysable frame (need P and S atoms; check --format and the species order)")
    base = rows[0]["li_anion_bonded_excess"]
    for r in rows:
        r["li_consumed"] = max(0, r["li_anion_bonded_excess"] - base)
    csv_path = outdir / f"{label}.csv"
    with atomic_write(csv_path) as handle:
        w = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    t = np.array([r["time_ps"] for r in rows])
    alpha = np.array([r["alpha"] for r in rows])
    c = np.array([r["c"] for r in rows])
    fits: dict[str, Any] = {}
    if len(rows) >= 4 and np.ptp(alpha) > 0 and (t > 0).sum() >= 3:
        fits["alpha"] = fit_log(t, alpha)
    if len(rows) >= 5 and c.max() > 0:
        fits["crystallinity"] = fit_power(t, c)
    summary = {"label": label, "trajectory": str(path), "frames": len(rows), "timeseries_csv": str(csv_path),
               "cutoff": cutoff, "final": rows[-1], "fits": fits, "stages": stages(t, alpha, c)}
    summary["plots"] = [str(p) for p in plot_run(rows, fits, summary["stages"], outdir, label)]
    with atomic_write(outdir / f"{label}.json") as handle:
        json.dump(summary, handle, indent=2, default=float)
    return summary
