"""atomate2's VASP test approach for our labeller: a fake ``run_vasp`` that checks the inputs atomate2 wrote
(INCAR, KPOINTS/KSPACING, POSCAR, POTCAR.spec, with atomate2's own checkers) against a reference directory of
``data/atomate2`` and copies that reference's outputs, and a header-only POTCAR tree for the valence counts.

Which reference a job gets: ``plan`` maps the job's attempt (``try0``, ``try1``, ...) to candidate reference
names; the candidate whose inputs match what atomate2 wrote is used, none matching is an error (as a real
input mismatch should be). Rocket processes (spawned, so pytest's monkeypatch does not reach them) install the
same fake from ``SEILEARN_FAKE_VASP_PLAN`` (JSON) with :func:`install_from_env`. ``SEILEARN_FAKE_VASP_SLEEP``
seconds of sleep per run leave time to kill a rocket mid-labelling; ``SEILEARN_FAKE_VASP_LOG`` collects the calls
(one JSON line each).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from .vasp_reference import DATA, MASS, TITEL, ZVAL

CALLS: list[dict] = []


def potcar_tree(root: Path) -> Path:
    """Header-only POTCARs (TITEL, POMASS, ZVAL: all the labeller reads) in pymatgen's PBE_64 layout."""
    sub = root / "POT_PAW_PBE_64"
    sub.mkdir(parents=True, exist_ok=True)
    for el, titel in TITEL.items():
        sym = titel.split()[1]
        (sub / f"POTCAR.{sym}").write_text(
            f"  {titel}\n {ZVAL[el]:.17f}\n parameters from PSCTR are:\n   VRHFIN ={el}: s p\n   LEXCH  = PE\n"
            f"   TITEL  = {titel}\n   POMASS =   {MASS[el]:.3f}; ZVAL   =   {ZVAL[el]:.3f}    mass and valenz\n"
            f"   END of PSCTR-controll parameters\n End of Dataset\n")
    return root


def _matches(ref: Path) -> bool:
    from atomate2.utils.testing import vasp as a2test

    try:
        a2test._check_incar(ref, None, None)
        a2test._check_kpoints(ref)
        a2test._check_poscar(ref)
        a2test._check_potcar(ref)
    except (ValueError, FileNotFoundError):
        return False
    return True


def make_fake_run_vasp(plan: dict[str, list[str]], sleep_s: float = 0.0) -> Callable[..., None]:
    """A ``run_vasp`` replacement for ``plan`` (attempt -> candidate reference names)."""
    from atomate2.utils.testing.vasp import fake_run_vasp
    from jobflow import CURRENT_JOB

    def run_vasp(*_args, **kwargs) -> None:
        name = CURRENT_JOB.job.name
        attempt = re.search(r"(try\d+)$", name)
        candidates = plan.get(attempt.group(1) if attempt else "", [])
        chosen = [DATA / c for c in candidates if _matches(DATA / c)]
        if not chosen:
            raise ValueError(f"fake VASP: no reference among {candidates} matches the inputs of job {name!r}")
        call = {"job": name, "reference": chosen[0].name, "run_vasp_kwargs": kwargs, "cwd": os.getcwd()}
        CALLS.append(call)
        if os.environ.get("SEILEARN_FAKE_VASP_LOG"):  # rocket processes report their calls to the test
            with open(os.environ["SEILEARN_FAKE_VASP_LOG"], "a") as log:
                log.write(json.dumps(call) + "\n")
        if sleep_s:
            time.sleep(sleep_s)
        fake_run_vasp(chosen[0])

    return run_vasp


def install(setattr_: Callable, plan: dict[str, list[str]], sleep_s: float = 0.0) -> None:
    """Replace atomate2's ``run_vasp`` and write POTCAR.spec instead of POTCAR, as atomate2's own tests do."""
    import atomate2.vasp.jobs.base
    import atomate2.vasp.run
    from pymatgen.io.vasp.sets import VaspInputSet

    original = VaspInputSet.get_input_set

    def get_input_set(self, *args, **kwargs):
        kwargs["potcar_spec"] = True
        return original(self, *args, **kwargs)

    fake = make_fake_run_vasp(plan, sleep_s)
    setattr_(atomate2.vasp.run, "run_vasp", fake)
    setattr_(atomate2.vasp.jobs.base, "run_vasp", fake)
    setattr_(VaspInputSet, "get_input_set", get_input_set)


def install_from_env() -> None:
    """In a rocket process: the fake from ``SEILEARN_FAKE_VASP_PLAN`` / ``SEILEARN_FAKE_VASP_SLEEP``."""
    plan = json.loads(os.environ["SEILEARN_FAKE_VASP_PLAN"])
    install(setattr, plan, float(os.environ.get("SEILEARN_FAKE_VASP_SLEEP", "0")))
