"""``.mtp`` files in MLIP's 1.1.0 layout (readable by MLIP-2, MLIP-3 and motep).

The model object is motep's ``MTPData`` (the engine consumes it directly); ``MTPModel`` is our name for
it. Reading goes through motep's parser; writing uses its legacy flat layout, the only one MLIP and
motep both read (motep 0.2.0's default layout is unreadable by either; docs/mlip-compatibility.md).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

from motep.potentials.mtp.data import MTPData

from seilearn.errors import InputError
from seilearn.fileio import atomic_write

MTPModel = MTPData


def _motep_mtp_io():
    """motep's .mtp reader/writer, loaded without motep.io's package __init__: that imports ase.io and with it
    SciPy (~0.5 s of every command's start-up) for file formats an .mtp never needs."""
    import sys

    mod = sys.modules.get("motep.io.mlip.mtp") or sys.modules.get("seilearn._motep_mtp_io")
    if mod is None:
        import importlib.util

        root = importlib.util.find_spec("motep").submodule_search_locations[0]
        spec = importlib.util.spec_from_file_location("seilearn._motep_mtp_io", os.path.join(root, "io", "mlip", "mtp.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
    return mod


def _motep_read(path: str) -> MTPData:
    return _motep_mtp_io().read_mtp(path)


def _motep_write(path: str, model: MTPData, legacy: bool = True) -> None:
    _motep_mtp_io().write_mtp(path, model, legacy=legacy)
MVS_MARKER = "#MVS_v1.1"
SUPPORTED_VERSIONS = ("1.1.0",)


def split_almtp(text: str) -> tuple[str, str | None]:
    """(the .mtp part, the rest from ``#MVS_v1.1`` on, or None) of an .almtp file's text."""
    idx = text.find(MVS_MARKER)
    return (text, None) if idx < 0 else (text[:idx], text[idx:])


def read_mtp(source: str | os.PathLike, *, name: str | None = None) -> MTPModel:
    """Read a potential from a path or from the text itself (also the .mtp part of an .almtp)."""
    if isinstance(source, os.PathLike) or ("\n" not in str(source) and Path(str(source)).exists()):
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read potential {path}: {exc.strerror}") from exc
        marker = raw.find(MVS_MARKER.encode())
        text = (raw if marker < 0 else raw[:marker]).decode("utf-8", errors="replace")
        name = name or str(path)
    else:
        text = split_almtp(str(source))[0]
        name = name or "<text>"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "MTP":
        raise InputError(f"{name}: not an MLIP .mtp file (first line must be 'MTP')")
    version = next((ln.split("=", 1)[1].strip() for ln in lines if ln.startswith("version") and "=" in ln), None)
    if version not in SUPPORTED_VERSIONS:
        raise InputError(f"{name}: .mtp version {version!r} is not supported (only {', '.join(SUPPORTED_VERSIONS)}); "
                         "convert it with MLIP's `mlp convert` or regenerate the potential")
    check_mtp_text(text, name)
    # motep's reader and writer take only paths (seilearn's other readers take text)
    with tempfile.NamedTemporaryFile("w", suffix=".mtp", delete=False) as tmp:
        tmp.write(text)
    try:
        return _motep_read(tmp.name)
    except Exception as exc:  # noqa: BLE001 - motep raises bare errors on malformed files
        raise InputError(f"{name}: malformed .mtp file ({type(exc).__name__}: {exc})") from exc
    finally:
        os.unlink(tmp.name)


_INT_KEYS = ("species_count", "radial_basis_size", "radial_funcs_count", "alpha_moments_count",
             "alpha_index_basic_count", "alpha_index_times_count", "alpha_scalar_moments")
_FLOAT_KEYS = ("scaling", "min_dist", "max_dist")
_LIST_KEYS = ("alpha_index_basic", "alpha_index_times", "alpha_moment_mapping", "species_coeffs", "moment_coeffs")
_COEFF_KEYS = ("scaling", "species_coeffs", "moment_coeffs")
_FIX = "regenerate the potential (seilearn mtp train) or restore the file"


def check_mtp_text(text: str, name: str) -> None:
    """Check every field of an .mtp text against its header counts (motep trusts them blindly).

    A coefficient list cut short, a non-finite number, a repeated key or a wrong count is an
    InputError naming the file, the field and what was expected.
    """
    fields: dict[str, str] = {}
    radial: list[tuple[str, list[str]]] = []
    lines = [ln.strip() for ln in text.splitlines()]
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        if not line or line == "MTP":
            continue
        if line == "radial_coeffs":
            if radial:
                raise InputError(f"{name}: radial_coeffs appears twice; {_FIX}")
            while k < len(lines) and lines[k] and "=" not in lines[k]:
                if lines[k].startswith("{"):
                    if not radial:
                        raise InputError(f"{name}: radial_coeffs: coefficients before a species pair 'i-j' line")
                    radial[-1][1].append(lines[k])
                else:
                    radial.append((lines[k], []))
                k += 1
            continue
        if "=" not in line:
            raise InputError(f"{name}: unexpected line {line[:60]!r}; {_FIX}")
        key, value = (part.strip() for part in line.split("=", 1))
        if key in fields:
            raise InputError(f"{name}: field {key!r} appears twice; {_FIX}")
        fields[key] = value
    # MLIP writes scaling only when it is not 1 (and reads it as optional; motep's default is 1)
    missing = [key for key in (*_INT_KEYS, *_FLOAT_KEYS, *_LIST_KEYS) if key not in fields and key != "scaling"]
    template = set(missing) == set(_COEFF_KEYS) - {"scaling"} and not radial  # MLIP's untrained level templates
    if template:
        missing = []
    if missing or not (radial or template):
        raise InputError(f"{name}: missing field(s) {', '.join(missing or ['radial_coeffs'])} (truncated file?); {_FIX}")
    n = {key: _int(fields[key], key, name) for key in _INT_KEYS}
    for key in _FLOAT_KEYS:
        if key in fields:
            _floats("{" + fields[key] + "}", key, name, 1)
    if float(fields["min_dist"]) >= float(fields["max_dist"]) or float(fields["min_dist"]) < 0:
        raise InputError(f"{name}: min_dist {fields['min_dist']} must be >= 0 and below max_dist {fields['max_dist']}")
    for key in ("species_count", "radial_basis_size", "radial_funcs_count", "alpha_moments_count",
                "alpha_index_basic_count", "alpha_scalar_moments"):
        if n[key] < 1:
            raise InputError(f"{name}: {key} = {n[key]} must be at least 1; {_FIX}")
    s, r, b = n["species_count"], n["radial_funcs_count"], n["radial_basis_size"]
    pairs = [f"{i}-{j}" for i in range(s) for j in range(s)]
    if not template and [p for p, _ in radial] != pairs:
        raise InputError(f"{name}: radial_coeffs has species pairs {[p for p, _ in radial][:8]}, expected {pairs[:8]} "
                         f"for species_count = {s}; {_FIX}")
    for pair, rows in radial:
        if len(rows) != r:
            raise InputError(f"{name}: radial_coeffs {pair}: {len(rows)} radial functions, radial_funcs_count = {r}")
        for row in rows:
            _floats(row, f"radial_coeffs {pair}", name, b)
    if not template:
        _floats(fields["species_coeffs"], "species_coeffs", name, s)
        _floats(fields["moment_coeffs"], "moment_coeffs", name, n["alpha_scalar_moments"])
    mapping = _ints(fields["alpha_moment_mapping"], "alpha_moment_mapping", name)
    if len(mapping) != n["alpha_scalar_moments"] or any(not 0 <= m < n["alpha_moments_count"] for m in mapping):
        raise InputError(f"{name}: alpha_moment_mapping needs {n['alpha_scalar_moments']} indices below "
                         f"alpha_moments_count = {n['alpha_moments_count']}; {_FIX}")
    basic = _tuples(fields["alpha_index_basic"], "alpha_index_basic", name, n["alpha_index_basic_count"])
    if any(not 0 <= mu < r or min(a, b_, c) < 0 for mu, a, b_, c in basic):
        raise InputError(f"{name}: alpha_index_basic has a radial index outside 0..{r - 1} or a negative power")
    times = _tuples(fields["alpha_index_times"], "alpha_index_times", name, n["alpha_index_times_count"])
    if any(not (0 <= i < n["alpha_moments_count"] and 0 <= j < n["alpha_moments_count"]
                and 0 <= out < n["alpha_moments_count"]) for i, j, _, out in times):
        raise InputError(f"{name}: alpha_index_times refers to a moment outside 0..{n['alpha_moments_count'] - 1}")


def _int(value: str, key: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{name}: {key} = {value[:40]!r} is not a whole number; {_FIX}") from None


def _items(value: str, key: str, name: str) -> list[str]:
    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")):
        raise InputError(f"{name}: {key} is not a {{...}} list (cut short?); {_FIX}")
    inner = value[1:-1].strip()
    return [item.strip() for item in inner.split(",")] if inner else []


def _floats(value: str, key: str, name: str, count: int) -> list[float]:
    items = _items(value, key, name)
    if len(items) != count:
        raise InputError(f"{name}: {key} has {len(items)} value(s), the header says {count}; {_FIX}")
    try:
        out = [float(x) for x in items]
    except ValueError:
        raise InputError(f"{name}: {key} holds a value that is not a number; {_FIX}") from None
    if not all(math.isfinite(x) for x in out):
        raise InputError(f"{name}: {key} holds a non-finite value (nan or inf); {_FIX}")
    return out


def _ints(value: str, key: str, name: str) -> list[int]:
    try:
        return [int(x) for x in _items(value, key, name)]
    except ValueError:
        raise InputError(f"{name}: {key} holds a value that is not a whole number; {_FIX}") from None


def _tuples(value: str, key: str, name: str, count: int) -> list[tuple[int, int, int, int]]:
    inner = value.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise InputError(f"{name}: {key} is not a {{...}} list (cut short?); {_FIX}")
    groups = re.findall(r"\{([^{}]*)\}", inner[1:-1])
    rest = re.sub(r"\{[^{}]*\}", "", inner[1:-1]).replace(",", "").strip()
    if rest or len(groups) != count:
        raise InputError(f"{name}: {key} has {len(groups)} entries, {key}_count = {count}; {_FIX}")
    out = []
    for g in groups:
        vals = _ints("{" + g + "}", key, name)
        if len(vals) != 4:
            raise InputError(f"{name}: {key} entry {{{g}}} needs 4 integers; {_FIX}")
        out.append((vals[0], vals[1], vals[2], vals[3]))
    return out


def to_text(model: MTPModel) -> str:
    """The .mtp text of ``model`` (MLIP 1.1.0 flat layout)."""
    if not model.version:
        model.version = "1.1.0"
    with tempfile.NamedTemporaryFile("w", suffix=".mtp", delete=False) as tmp:
        path = tmp.name
    try:
        _motep_write(path, model, legacy=True)
        return Path(path).read_text()
    finally:
        os.unlink(path)


def write_mtp(path: str | os.PathLike, model: MTPModel) -> None:
    """Write ``model`` atomically."""
    with atomic_write(path) as handle:
        handle.write(to_text(model))


def n_params(model: MTPModel) -> int:
    """Parameters MLIP counts: radial + species + moment coefficients."""
    s, r, b = model.species_count, model.radial_funcs_count, model.radial_basis.size
    return s * s * r * b + s + model.alpha_scalar_moments
