"""Rows of the benchmark table that ``benchmarks/run_all.py`` prints and writes as JSON.

A benchmark module takes part by defining ``results(quick: bool) -> list[dict]`` whose items are made by
:func:`row`: one task, its unit, our figure beside motep 0.2.0's and MLIP-3 ``mlp``'s measured in the same run
(None where there is no counterpart, a short string where the counterpart fails).
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

Figure = float | str | None


def row(group: str, task: str, unit: str, ours: Figure, motep: Figure = None, mlp: Figure = None,
        note: str = "") -> dict[str, Any]:
    """One task. Lower is better for every unit but ``x`` (a speed-up)."""
    return {"group": group, "task": task, "unit": unit, "ours": ours, "motep": motep, "mlp": mlp, "note": note}


def best_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """(shortest wall time in seconds, last result) of ``repeats`` calls."""
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def command_time(cmd: Sequence[str], repeats: int = 3, threads: int = 1, cwd: str | None = None) -> tuple[float, float]:
    """(shortest wall, median CPU seconds) of a whole command, run ``repeats`` times with ``threads`` threads.

    CPU time (user + system of the child) is the fairer figure on a machine shared with other work.
    """
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "SEILEARN_THREADS": str(threads)}
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-800:]}")
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    cpus.sort()
    return min(walls), cpus[len(cpus) // 2]
