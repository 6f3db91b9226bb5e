"""Finding 3 of issue 15: strict .mtp/.almtp/.cfg readers, fuzzed.

Every mutated file is either read correctly or refused with exit 2, one message naming the file, and
nothing written. The oracle per mutation: a cut that removes content, a non-finite or non-numeric
number, a wrong Size, a type outside the species list and a repeated section must all be refused.
``SEILEARN_FUZZ_EXAMPLES`` raises the example count (default small, for a fast suite).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seilearn.cli import main
from seilearn.mtp.cfg import read_cfg, write_cfg
from seilearn.mtp.mtpfile import read_mtp, to_text
from seilearn.mtp.potential import Potential
from seilearn.mtp.templates import make_template
from seilearn.selection.active_set import build_active_set

SPECIES = ["Li", "S"]
FUZZ = settings(max_examples=int(os.environ.get("SEILEARN_FUZZ_EXAMPLES", "25")), deadline=None,
                derandomize="SEILEARN_FUZZ_EXAMPLES" not in os.environ,  # the default suite is reproducible
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?(?![\w.])")


def _potential() -> Potential:
    rng = np.random.default_rng(1)
    model = make_template(2, len(SPECIES), 1.6, 5.0)
    s, r, b = model.species_count, model.radial_funcs_count, model.radial_basis.size
    model.radial_coeffs = rng.normal(0.0, 0.5, size=(s, s, r, b))
    model.species_coeffs = rng.normal(-2.0, 0.5, size=s)
    model.moment_coeffs = rng.normal(0.0, 0.5, size=model.alpha_scalar_moments)
    model.scaling = 1.0 / 3.4**2
    return Potential(model, SPECIES)


def _configs(n: int = 3) -> list[Atoms]:
    rng = np.random.default_rng(2)
    out = []
    for k in range(n):
        pos = np.array([[0, 0, 0], [2.2, 0, 0], [0, 2.2, 0], [0, 0, 2.2]], float) + rng.normal(0, 0.05, (4, 3))
        atoms = Atoms(["Li", "S", "Li", "S"][: 3 + k % 2], positions=pos[: 3 + k % 2], cell=np.eye(3) * 4.6, pbc=True)
        atoms.calc = SinglePointCalculator(atoms, energy=-3.0 - k, forces=rng.normal(0, 0.1, (len(atoms), 3)),
                                           stress=rng.normal(0, 0.01, 6))
        out.append(atoms)
    return out


class _Files(dict):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing case
        return f"<originals {sorted(self)}>"


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("fuzz-originals")
    pot = _potential()
    mtp_text = to_text(pot.model)
    write_cfg(d / "train.cfg", _configs(), SPECIES)
    aset = build_active_set(pot, read_cfg(d / "train.cfg", SPECIES), "cfg")
    aset.write(d / "pot.almtp", mtp_text=mtp_text, species=SPECIES)
    return _Files(mtp=mtp_text.encode(), cfg=(d / "train.cfg").read_bytes(), almtp=(d / "pot.almtp").read_bytes())


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


# -- mutations: (mutated bytes, must_refuse) --------------------------------------------------------

def _truncate(data: bytes, frac: float, kind: str) -> tuple[bytes, bool]:
    cut = data[: int(len(data) * frac)]
    if not cut.strip():
        return cut, True
    if kind == "cfg":  # a cut just after an END_CFG is a shorter, valid file
        return cut, not cut.decode().rstrip().endswith("END_CFG")
    return cut, bool(data[len(cut):].strip())


def _bad_number(data: bytes, which: int, bad: str) -> tuple[bytes, bool]:
    text = data.decode()
    hits = [m for m in NUMBER.finditer(text)
            if not text[text.rfind("\n", 0, m.start()) + 1:m.start()].lstrip().startswith(("version", "Feature", "0-",
                                                                                             "1-"))]
    m = hits[which % len(hits)]
    return (text[:m.start()] + bad + text[m.end():]).encode(), True


def _duplicate_section(data: bytes, which: int, names: tuple[str, ...]) -> tuple[bytes, bool]:
    lines = data.decode().splitlines(keepends=True)
    idx = [k for k, ln in enumerate(lines) if ln.strip().startswith(names)]
    k = idx[which % len(idx)]
    width = 2 if lines[k].strip() in ("Size", "Energy") or lines[k].strip().startswith("PlusStress") else 1
    return "".join(lines[: k + width] + lines[k: k + width] + lines[k + width:]).encode(), True


def _wrong_size(data: bytes, which: int, delta: int) -> tuple[bytes, bool]:
    lines = data.decode().splitlines(keepends=True)
    idx = [k + 1 for k, ln in enumerate(lines) if ln.strip() == "Size"]
    k = idx[which % len(idx)]
    lines[k] = f"    {int(lines[k]) + delta}\n"
    return "".join(lines).encode(), True


def _unknown_species(data: bytes, which: int, t: int) -> tuple[bytes, bool]:
    lines = data.decode().splitlines(keepends=True)
    rows = [k for k, ln in enumerate(lines) if re.match(r"^\s+\d+\s+\d+\s", ln)]
    k = rows[which % len(rows)]
    parts = lines[k].split()
    parts[1] = str(t)
    lines[k] = "    " + " ".join(parts) + "\n"
    return "".join(lines).encode(), True


def _mutate(data: bytes, kind: str, draw_choice: int, frac: float, which: int, bad: str, delta: int,
            t: int) -> tuple[bytes, bool, str]:
    choices = ["truncate", "number"]
    if kind == "cfg":
        choices += ["duplicate", "size", "species"]
    if kind == "mtp":
        choices += ["duplicate"]
    name = choices[draw_choice % len(choices)]
    if name == "truncate":
        out, refuse = _truncate(data, frac, kind)
    elif name == "number":
        out, refuse = _bad_number(data, which, bad)
    elif name == "duplicate":
        names = (("Size", "Supercell", "AtomData", "Energy", "PlusStress") if kind == "cfg" else
                 ("species_count", "moment_coeffs", "radial_coeffs", "alpha_index_basic ", "scaling"))
        out, refuse = _duplicate_section(data, which, names)
    elif name == "size":
        out, refuse = _wrong_size(data, which, delta)
    else:
        out, refuse = _unknown_species(data, which, t)
    return out, refuse, name


CASE = dict(draw_choice=st.integers(0, 99), frac=st.floats(0.0, 0.999), which=st.integers(0, 10_000),
            bad=st.sampled_from(["nan", "inf", "-inf", "NaN", "1e999", "abc", "0x1p3"]),
            delta=st.sampled_from([-1, 1, 2]), t=st.sampled_from([2, 7]))


def _check(rc: int, err: str, out: Path, refuse: bool, culprit: Path, name: str) -> None:
    assert rc in (0, 2), f"{name}: exit {rc}: {err[-400:]}"
    if rc == 2:
        assert not out.exists(), f"{name}: refused but wrote {out}"
        assert str(culprit) in err, f"{name}: the message does not name {culprit}: {err[-300:]}"
        assert "Traceback" not in err
    else:
        assert not refuse, f"{name}: a damaged {culprit.name} was accepted"
        (got,) = [read_cfg(out, SPECIES)]
        assert all(np.isfinite(a.get_potential_energy()) for a in got)


@FUZZ
@given(**CASE)
def test_fuzzed_mtp_is_read_or_refused(originals, tmp_path, draw_choice, frac, which, bad, delta, t):
    data, refuse, name = _mutate(originals["mtp"], "mtp", draw_choice, frac, which, bad, delta, t)
    d = Path(os.path.join(tmp_path, f"m{abs(hash((draw_choice, frac, which, bad)))}"))
    d.mkdir(exist_ok=True)
    (d / "pot.mtp").write_bytes(data)
    (d / "in.cfg").write_bytes(originals["cfg"])
    out = d / "out.cfg"
    out.unlink(missing_ok=True)
    rc, err = _run(["mtp", "calc-efs", str(d / "pot.mtp"), str(d / "in.cfg"), str(out), "--species", "Li,S",
                    "--allow-short"])
    _check(rc, err, out, refuse, d / "pot.mtp", name)


@FUZZ
@given(**CASE)
def test_fuzzed_cfg_is_read_or_refused(originals, tmp_path, draw_choice, frac, which, bad, delta, t):
    data, refuse, name = _mutate(originals["cfg"], "cfg", draw_choice, frac, which, bad, delta, t)
    d = Path(os.path.join(tmp_path, f"c{abs(hash((draw_choice, frac, which, bad, delta, t)))}"))
    d.mkdir(exist_ok=True)
    (d / "pot.mtp").write_bytes(originals["mtp"])
    (d / "in.cfg").write_bytes(data)
    out = d / "out.cfg"
    out.unlink(missing_ok=True)
    rc, err = _run(["mtp", "calc-efs", str(d / "pot.mtp"), str(d / "in.cfg"), str(out), "--species", "Li,S",
                    "--allow-short"])
    _check(rc, err, out, refuse, d / "in.cfg", name)


@FUZZ
@given(frac=st.floats(0.0, 0.999), which=st.integers(0, 10_000), bad=st.sampled_from(["nan", "inf", "abc"]),
       region=st.sampled_from(["cut", "header", "matrix", "cfg"]))
def test_fuzzed_almtp_is_read_or_refused(originals, tmp_path, frac, which, bad, region):
    data = originals["almtp"]
    mark = data.find(b"#MVS_v1.1")
    matrices = data.find(b"#", data.find(b"weight_scaling")) + 1
    tail = data.find(b"#\n", data.find(b"\n#\n", matrices) + 3) + 2
    if region == "cut":
        cut = int(len(data) * frac)
        mutated, refuse = data[:cut], (cut < tail or not data[:cut].decode(errors="replace").rstrip().endswith("END_CFG"))
        refuse = refuse or cut < len(data.rstrip())
        name = f"cut at {cut}"
    elif region == "header":
        mutated, _ = _bad_number(data[:matrices], which, bad)
        mutated += data[matrices:]
        refuse, name = True, f"header number -> {bad}"
    elif region == "matrix":
        n8 = (tail - matrices) // 8
        off = matrices + 8 * (which % max(1, n8 - 1))
        mutated = data[:off] + np.array([np.nan if bad == "nan" else np.inf]).tobytes() + data[off + 8:]
        refuse, name = True, f"matrix entry at {off} -> {bad}"
    else:
        cfg_part, _ = _bad_number(data[tail:], which, bad)
        mutated, refuse, name = data[:tail] + cfg_part, True, f"selected configuration number -> {bad}"
    assert mark > 0
    d = Path(os.path.join(tmp_path, f"a{abs(hash((frac, which, bad, region)))}"))
    d.mkdir(exist_ok=True)
    (d / "pot.almtp").write_bytes(mutated)
    (d / "in.cfg").write_bytes(originals["cfg"])
    out = d / "out.cfg"
    out.unlink(missing_ok=True)
    rc, err = _run(["grade", str(d / "pot.almtp"), str(d / "in.cfg"), str(out), "--species", "Li,S"])
    assert rc in (0, 2), f"{name}: exit {rc}: {err[-400:]}"
    if rc == 2:
        assert not out.exists() and str(d / "pot.almtp") in err, f"{name}: {err[-300:]}"
    else:
        assert not refuse, f"{name}: a damaged .almtp was accepted"


def test_truncated_moment_coeffs_is_refused(originals, tmp_path):
    """The probe's case: calc-efs exited 0 with E = +42.87 eV from a .mtp cut inside moment_coeffs."""
    text = originals["mtp"].decode()
    pot = tmp_path / "cut.mtp"
    pot.write_text(text[: text.index("moment_coeffs")] + "moment_coeffs = {" + text.split("moment_coeffs = {")[1][:8])
    with pytest.raises(Exception, match="moment_coeffs"):
        read_mtp(pot)


def test_extra_atom_line_is_refused(originals, tmp_path):
    """The probe's case: Size 52 with 53 atom lines was read silently minus one atom."""
    lines = originals["cfg"].decode().splitlines(keepends=True)
    k = next(i for i, ln in enumerate(lines) if ln.strip().startswith("AtomData"))
    lines.insert(k + 2, lines[k + 1])
    path = tmp_path / "extra.cfg"
    path.write_text("".join(lines))
    with pytest.raises(Exception, match="more atom lines than Size"):
        read_cfg(path, SPECIES)


def test_missing_train_cfg_is_an_error_even_with_an_active_set(originals, tmp_path):
    (tmp_path / "pot.almtp").write_bytes(originals["almtp"])
    (tmp_path / "in.cfg").write_bytes(originals["cfg"])
    rc, err = _run(["grade", str(tmp_path / "pot.almtp"), str(tmp_path / "missing-train.cfg"),
                    str(tmp_path / "in.cfg"), str(tmp_path / "out.cfg"), "--species", "Li,S"])
    assert rc == 2 and "missing-train.cfg" in err and not (tmp_path / "out.cfg").exists()
