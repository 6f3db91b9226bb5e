"""``.mtp`` files in MLIP's 1.1.0 layout (readable by MLIP-2, MLIP-3 and motep).

The model object is motep's ``MTPData`` (the engine consumes it directly); ``MTPModel`` is our name for
it. Reading goes through motep's parser; writing uses its legacy flat layout, the only one MLIP and
motep both read (DESIGN.md: motep 0.2.0's default layout is unreadable by either).
"""

from __future__ import annotations

import os
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
    version = next((ln.split("=", 1)[1].strip() for ln in lines if ln.startswith("version")), None)
    if version not in SUPPORTED_VERSIONS:
        raise InputError(f"{name}: .mtp version {version!r} is not supported (only {', '.join(SUPPORTED_VERSIONS)}); "
                         "convert it with MLIP's `mlp convert` or regenerate the potential")
    with tempfile.NamedTemporaryFile("w", suffix=".mtp", delete=False) as tmp:
        tmp.write(text)
    try:
        return _motep_read(tmp.name)
    except Exception as exc:  # noqa: BLE001 - motep raises bare errors on malformed files
        raise InputError(f"{name}: malformed .mtp file ({type(exc).__name__}: {exc})") from exc
    finally:
        os.unlink(tmp.name)


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
