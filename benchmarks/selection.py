"""Selection benchmark: grades, active-set builds, select_add and MaxVol, ours vs motep 0.2.0's grader
and MLIP-3's ``mlp`` measured in the same run (when mlp is on PATH or $SEILEARN_MLP), one core.

Run: ``.venv/bin/python benchmarks/selection.py [--quick]`` (about a minute; part of benchmarks/run_all.py).
The potential is an untrained level-8, 4-species (Li, P, S, Cl) MTP generated from the template with random,
reproducible coefficients (269 parameters); the structures are random periodic Li-P-S-Cl frames at the density
of Li6PS5Cl: 60 training structures of 35 atoms (2,100 atoms), 90 candidates, one 416-atom frame.
"""

from __future__ import annotations

import os

# one core, as MLIP-3's figures were taken (and the only fair setting on a shared 2-core machine)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlip3_cli import MLP, SELECTION_ARGS, find_mlp  # noqa: E402
from benchmarks.table import row  # noqa: E402
from seilearn.selection.active_set import build_active_set  # noqa: E402
from seilearn.selection.features import site_energy_rows  # noqa: E402
from seilearn.selection.maxvol import MaxVolState, maxvol  # noqa: E402
from seilearn.selection.select_add import select_add  # noqa: E402
from tests.selection.helpers import frame_of_size, random_potential  # noqa: E402


def best_of(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def motep_grader(pot, mode: str):
    from motep.grade.grader import Grader
    from motep.grade.setting import GradeMode

    pot.model.optimized = ["species_coeffs", "moment_coeffs", "radial_coeffs"]
    return Grader(pot.model, seed=0, mode=GradeMode.NEIGHBORHOOD if mode == "nbh" else GradeMode.CONFIGURATION)


def run_motep(fn):
    try:
        return best_of(fn, 1)[0]
    except Exception as exc:  # noqa: BLE001 - motep's failure is a result of the benchmark
        return f"fails ({type(exc).__name__})"


def results(quick: bool = False) -> list[dict]:
    """The table rows (seconds per task, one thread)."""
    logging.getLogger("motep").setLevel(logging.ERROR)
    pot = random_potential(seed=1)
    train = [frame_of_size(35, seed=s) for s in range(60)]
    cands = [frame_of_size(35, seed=1000 + s, density=0.06) for s in range(90)]
    big = frame_of_size(416, seed=7)
    reps = 1 if quick else 3
    rows: dict[str, tuple[object, object]] = {}

    site_energy_rows(pot, big)  # warm up imports
    t_nbh, aset_nbh = best_of(lambda: build_active_set(pot, train, "nbh"), reps)
    t_cfg, aset_cfg = best_of(lambda: build_active_set(pot, train, "cfg"), reps)
    g_nbh, _ = best_of(lambda: aset_nbh.grade(pot, big), 5)
    g_cfg, _ = best_of(lambda: aset_cfg.grade(pot, big), 5)
    t_sel, chosen = best_of(lambda: select_add(pot, train, cands, mode="nbh"), max(1, reps - 1))

    gm = {m: motep_grader(pot, m) for m in ("nbh", "cfg")}
    m_build_nbh = run_motep(lambda: gm["nbh"].update(train))
    m_build_cfg = run_motep(lambda: gm["cfg"].update(train))
    m_grade_nbh = run_motep(lambda: gm["nbh"].grade([big]))
    m_grade_cfg = run_motep(lambda: gm["cfg"].grade([big])) if not isinstance(m_build_cfg, str) else m_build_cfg

    rows["grade nbh, 416 atoms"] = (g_nbh, m_grade_nbh)
    rows["grade cfg, 416 atoms"] = (g_cfg, m_grade_cfg)
    rows["build nbh, 60 structures"] = (t_nbh, m_build_nbh)
    rows["build cfg, 60 structures"] = (t_cfg, m_build_cfg)
    rows["select_add nbh, 90 candidates"] = (t_sel, None)

    n_frames = 12 if quick else 49
    mats = np.vstack([site_energy_rows(pot, frame_of_size(416, seed=100 + k)) for k in range(n_frames)])[:20000]
    t_mv, state = best_of(lambda: maxvol(MaxVolState.identity(269), mats, np.arange(len(mats))), 1)

    def motep_maxvol():
        from motep.grade.maxvol import MaxVol

        return MaxVol().run(mats)

    rows[f"MaxVol {mats.shape[0]} x {mats.shape[1]} (target < 5 s)"] = (t_mv, run_motep(motep_maxvol))

    exe = find_mlp()
    ref = mlp_figures(exe, pot, aset_nbh, aset_cfg, train, cands, big) if exe else {}
    note = {"build nbh, 60 structures": f"{aset_nbh.filled}/269 rows filled",
            "build cfg, 60 structures": f"{aset_cfg.filled}/269 rows filled",
            "select_add nbh, 90 candidates": f"chose {len(chosen)}"}
    return [row("selection", task, "s", ours, mot, ref.get(task), note.get(task, ""))
            for task, (ours, mot) in rows.items()]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    from benchmarks.run_all import print_table

    print_table(results(args.quick))


def mlp_figures(exe, pot, aset_nbh, aset_cfg, train, cands, big) -> dict[str, float]:
    """The same tasks timed with MLIP-3's ``mlp`` (one process per command; start-up subtracted)."""
    from seilearn.mtp.mtpfile import to_text

    m = MLP(exe, pot.species)
    try:
        pot_mtp = m.write_mtp("pot.mtp", pot.model)
        text = to_text(pot.model)
        empty = m.write_cfg("empty.cfg", [])
        train_cfg, cand_cfg = m.write_cfg("train.cfg", train), m.write_cfg("cands.cfg", cands)
        start = m.best("calculate_efs", pot_mtp, empty, "--output_filename=e.cfg")
        out = {}
        for mode, aset in (("nbh", aset_nbh), ("cfg", aset_cfg)):
            almtp = m.write_almtp(f"{mode}.almtp", aset, text)
            out[f"grade {mode}, 416 atoms"] = m.per_item(
                [big], [big] * 6, lambda cfg, name, al=almtp: ["calculate_grade", al, cfg, name])
            out[f"build {mode}, 60 structures"] = max(m.best(
                "select_add", pot_mtp, train_cfg, empty, "sel.cfg", *SELECTION_ARGS[mode]) - start, 1e-4)
        out["select_add nbh, 90 candidates"] = max(m.best(
            "select_add", pot_mtp, train_cfg, cand_cfg, "sel.cfg", *SELECTION_ARGS["nbh"]) - start, 1e-4)
        return out
    finally:
        m.close()


if __name__ == "__main__":
    main()
