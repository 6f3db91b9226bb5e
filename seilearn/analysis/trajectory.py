"""Streaming analysis of a production trajectory: alpha, N(PS_k), crystallinity, Li consumed, per frame.

Frames are read one at a time (extxyz or LAMMPS dump) so a 10 ns model-II trajectory never sits in
memory; a truncated last frame or a frame with missing species is reported and skipped, the rest kept.
"""

from __future__ import annotations

import csv
import json
import logging
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from ase import Atoms
from ase.io import iread

from seilearn.analysis.crystallinity import crystalline_fraction
from seilearn.analysis.reduction import ps_counts, reduced_fraction

log = logging.getLogger("seilearn.analysis")
COLUMNS = ["frame", "time_ps", "alpha", "N_PS0", "N_PS1", "N_PS2", "N_PS3", "N_PS4", "c", "c_fcc", "c_hcp",
           "amorphous", "li_consumed"]


def frames(path: str | Path, fmt: str = "extxyz", every: int = 1, dt_ps: float | None = None) -> Iterator[tuple[int, Atoms]]:
    """(index, frame) pairs; a frame that cannot be parsed ends the stream with a warning."""
    ase_fmt = {"extxyz": "extxyz", "lammps-dump": "lammps-dump-text"}[fmt]
    it = iread(str(path), index=f"::{every}", format=ase_fmt)
    k = 0
    while True:
        try:
            atoms = next(it)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a truncated last frame: keep what was read
            warnings.warn(f"{path}: frame {k * every} could not be read ({type(exc).__name__}: {exc}); "
                          "stopping there, earlier frames are analysed")
            return
        if "time_ps" not in atoms.info:
            atoms.info["time_ps"] = (atoms.info.get("timestep", k * every) * dt_ps) if dt_ps else float(k * every)
        yield k * every, atoms
        k += 1


def li_consumed(atoms: Atoms, n_li_metal0: int | None = None) -> int:
    """Li atoms no longer metallic: Li with an anion (S, P, Cl) within 3.0 A, minus those of pristine LPSC
    (6 per P). Metal Li has only Li neighbours."""
    sym = np.asarray(atoms.get_chemical_symbols())
    from ase.neighborlist import neighbor_list

    i, j = neighbor_list("ij", atoms, 3.0)
    li = sym[i] == "Li"
    anion = np.isin(sym[j], ("S", "P", "Cl"))
    bonded = np.unique(i[li & anion])
    return int(max(0, len(bonded) - 6 * int(np.sum(sym == "P"))))


def analyze_frame(index: int, atoms: Atoms, crystallinity: bool = True) -> dict[str, Any]:
    counts = ps_counts(atoms)
    alpha = reduced_fraction(counts)
    row: dict[str, Any] = {"frame": index, "time_ps": float(atoms.info.get("time_ps", index)), "alpha": alpha}
    row.update({f"N_PS{k}": int(counts[k]) for k in range(5)})
    cf = crystalline_fraction(atoms) if crystallinity else {"c": 0.0, "c_fcc": 0.0, "c_hcp": 0.0}
    row.update(cf)
    row["amorphous"] = alpha - cf["c"]
    row["li_consumed"] = li_consumed(atoms)
    return row


def _check_species(atoms: Atoms, k: int, path: str) -> bool:
    sym = set(atoms.get_chemical_symbols())
    if not {"P", "S"} <= sym:
        warnings.warn(f"{path}: frame {k} has no P or S ({', '.join(sorted(sym))}); skipped")
        return False
    return True


def analyze_trajectory(path: str | Path, outdir: str | Path, label: str = "run", fmt: str = "extxyz",
                       every: int = 1, workers: int = 1, dt_ps: float | None = None) -> dict[str, Any]:
    """Time series (CSV + JSON), growth-law fits, stages and plots of one trajectory in ``outdir``."""
    from seilearn.analysis.growth import fit_log, fit_power, stages
    from seilearn.analysis.plots import plot_run

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rows = []
    stream = ((k, a) for k, a in frames(path, fmt, every, dt_ps) if _check_species(a, k, str(path)))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(analyze_frame, k, a) for k, a in stream]
            rows = [f.result() for f in futures]
    else:
        rows = [analyze_frame(k, a) for k, a in stream]
    if not rows:
        raise ValueError(f"{path}: no analysable frame")
    csv_path = outdir / f"{label}.csv"
    with open(csv_path, "w", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    t = np.array([r["time_ps"] for r in rows])
    alpha = np.array([r["alpha"] for r in rows])
    c = np.array([r["c"] for r in rows])
    fits: dict[str, Any] = {}
    if len(rows) >= 4 and np.ptp(alpha) > 0:
        fits["alpha"] = fit_log(t, alpha)
    if len(rows) >= 5 and c.max() > 0:
        fits["crystallinity"] = fit_power(t, c)
    summary = {"label": label, "trajectory": str(path), "frames": len(rows), "timeseries_csv": str(csv_path),
               "final": rows[-1], "fits": fits, "stages": stages(t, alpha, c)}
    summary["plots"] = [str(p) for p in plot_run(rows, fits, summary["stages"], outdir, label)]
    (outdir / f"{label}.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary
