"""Whole-command times, one thread: ``seilearn mtp calc-efs``, ``grade`` (nbh, cfg) and ``select-add`` beside MLIP-3's
``mlp calculate_efs``, ``calculate_grade`` and ``select_add`` on the same files, in the same run.

Run: ``.venv/bin/python benchmarks/commands.py [--quick]`` (part of benchmarks/run_all.py).

Inputs: a level-8, 4-species MTP with random reproducible coefficients; a one-configuration file (the 52-atom
Li6PS5Cl cell) and the model-I interface (7,956 atoms, ``seilearn build interface --model I``); active sets
(nbh and cfg) built by ``seilearn grade`` from 60 random Li-P-S-Cl frames. Each command is a fresh process,
so start-up (imports, reading the potential) is included, as a user sees it. Figures: the shortest wall time
of several runs, and (in the note) the median CPU seconds, the fairer figure on a busy machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.mlip3_cli import SELECTION_ARGS, find_mlp  # noqa: E402
from benchmarks.mtp_efs import _model  # noqa: E402
from benchmarks.table import command_time, row  # noqa: E402

GROUP = "command"
SPECIES = ["Li", "P", "S", "Cl"]


def _inputs(d: Path) -> None:
    from seilearn.mtp.cfg import write_cfg
    from seilearn.mtp.mtpfile import write_mtp
    from seilearn.structures.interface import build_interface
    from seilearn.structures.phases import lpsc
    from tests.selection.helpers import frame_of_size

    write_mtp(d / "pot.mtp", _model())
    small = lpsc()
    small.rattle(0.02, seed=0)
    write_cfg(d / "small.cfg", [small], SPECIES)
    write_cfg(d / "model_I.cfg", [build_interface("I")], SPECIES)
    write_cfg(d / "train.cfg", [frame_of_size(35, seed=s) for s in range(60)], SPECIES)
    write_cfg(d / "cands.cfg", [frame_of_size(35, seed=1000 + s, density=0.06) for s in range(30)], SPECIES)


def results(quick: bool = False) -> list[dict]:
    """The table rows (seconds per whole command)."""
    seilearn = str(Path(sys.executable).with_name("seilearn"))
    exe = find_mlp()
    reps = 3 if quick else 7
    d = Path(tempfile.mkdtemp(prefix="seilearn-bench-cmd-"))
    out = []
    try:
        _inputs(d)
        for mode in ("nbh", "cfg"):
            command_time([seilearn, "grade", "pot.mtp", "train.cfg", "small.cfg", "g.cfg", "--mode", mode,
                          "--active-set", f"{mode}.almtp", "--species", ",".join(SPECIES)], 1, cwd=str(d))
        tasks = [
            ("calc-efs, 1 configuration (52 atoms)", ["mtp", "calc-efs", "pot.mtp", "small.cfg", "o.cfg"],
             ["calculate_efs", "pot.mtp", "small.cfg", "--output_filename=o_mlp.cfg"]),
            ("calc-efs, model I (7956 atoms)", ["mtp", "calc-efs", "pot.mtp", "model_I.cfg", "o.cfg"],
             ["calculate_efs", "pot.mtp", "model_I.cfg", "--output_filename=o_mlp.cfg"]),
            ("grade nbh, model I", ["grade", "nbh.almtp", "model_I.cfg", "o.cfg"],
             ["calculate_grade", "nbh.almtp", "model_I.cfg", "o_mlp.cfg"]),
            ("grade cfg, model I", ["grade", "cfg.almtp", "model_I.cfg", "o.cfg"],
             ["calculate_grade", "cfg.almtp", "model_I.cfg", "o_mlp.cfg"]),
            ("grade nbh, 1 configuration", ["grade", "nbh.almtp", "small.cfg", "o.cfg"],
             ["calculate_grade", "nbh.almtp", "small.cfg", "o_mlp.cfg"]),
            ("active set cfg, 60 structures (grade --rebuild)",
             ["grade", "pot.mtp", "train.cfg", "small.cfg", "o.cfg", "--mode", "cfg", "--rebuild",
              "--species", ",".join(SPECIES)],
             ["select_add", "pot.mtp", "train.cfg", "empty.cfg", "sel.cfg", *SELECTION_ARGS["cfg"]]),
            ("select-add nbh, 60 + 30 structures",
             ["select-add", "pot.mtp", "train.cfg", "cands.cfg", "o.cfg", "--species", ",".join(SPECIES)],
             ["select_add", "pot.mtp", "train.cfg", "cands.cfg", "sel.cfg", *SELECTION_ARGS["nbh"]]),
        ]
        (d / "empty.cfg").write_text("")
        for task, ours_args, mlp_args in tasks:
            wall, cpu = command_time([seilearn, *ours_args], reps, cwd=str(d))
            note = f"cpu {cpu:.2f} s"
            mlp_wall = None
            if exe:
                mlp_wall, mlp_cpu = command_time([exe, *mlp_args], reps, cwd=str(d))
                note += f" vs mlp {mlp_cpu:.2f} s"
            out.append(row(GROUP, task, "s", wall, None, mlp_wall, note))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    from benchmarks.run_all import print_table

    print_table(results(args.quick))


if __name__ == "__main__":
    main()
