"""Commands that evaluate, grade or select with an MTP start fast: they import neither torch (CHGNet's) nor SciPy
(checked with ``python -X importtime``, in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seilearn.mtp.cfg import write_cfg
from seilearn.mtp.mtpfile import write_mtp
from tests.selection.helpers import frame_of_size, random_potential

SPECIES = "Li,P,S,Cl"


def _imported(args: list[str], cwd: Path) -> set[str]:
    """Top-level packages a ``seilearn ARGS`` run in a new interpreter imported (it must succeed)."""
    code = f"import sys; from seilearn.cli import main; sys.exit(main({args!r}))"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "seilearn" in names and "numpy" in names  # the importtime report was read
    return names


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("startup")
    pot = random_potential(seed=3)
    write_mtp(d / "pot.mtp", pot.model)
    write_cfg(d / "train.cfg", [frame_of_size(30, seed=s) for s in range(4)], pot.species)
    write_cfg(d / "in.cfg", [frame_of_size(30, seed=10 + s) for s in range(2)], pot.species)
    return d


def test_calc_efs_imports_neither_torch_nor_scipy(inputs):
    names = _imported(["mtp", "calc-efs", "pot.mtp", "in.cfg", "out.cfg", "--allow-short", "--species", SPECIES],
                      inputs)
    assert "torch" not in names and "scipy" not in names and "vesin" not in names


def test_grade_and_select_add_import_neither_torch_nor_scipy(inputs):
    build = _imported(["grade", "pot.mtp", "train.cfg", "in.cfg", "g1.cfg", "--active-set", "set.almtp",
                       "--species", SPECIES], inputs)
    assert "torch" not in build and "scipy" not in build
    stored = _imported(["grade", "set.almtp", "in.cfg", "g2.cfg"], inputs)  # active set read, not built
    assert "torch" not in stored and "scipy" not in stored
    select = _imported(["select-add", "pot.mtp", "train.cfg", "in.cfg", "s.cfg", "--species", SPECIES], inputs)
    assert "torch" not in select and "scipy" not in select


def test_each_command_parses_with_only_its_own_modules():
    """build_parser(argv) imports only the modules that register argv[0]: every top-level command (and every
    subcommand of a group) must still be there."""
    import argparse

    from seilearn.cli import build_parser

    def choices(parser):
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return action.choices

    full = choices(build_parser())
    assert {"mtp", "grade", "select-add", "build"} <= set(full)
    for name, sub in full.items():
        lazy = choices(build_parser([name]))
        assert name in lazy, name
        inner = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if inner:
            assert set(choices(lazy[name])) == set(inner[0].choices), name
