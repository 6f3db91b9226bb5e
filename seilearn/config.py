"""Settings: one validated object from a YAML file plus ``SEILEARN_*`` environment variables.

Precedence: environment > file > defaults. The file is ``$SEILEARN_CONFIG`` or
``~/.seilearn/config.yaml`` (``$SEILEARN_HOME/config.yaml``) when present.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from seilearn.errors import ConfigError, InputError
from seilearn.yamlsafe import load_yaml

_DB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def _home() -> Path:
    return Path(os.environ.get("SEILEARN_HOME", Path.home() / ".seilearn")).expanduser()


@dataclass
class Settings:
    """seilearn settings. Every field can be set as ``SEILEARN_<FIELD>`` (upper case)."""

    home: Path = field(default_factory=_home)
    mongodb_uri: str | None = None  # None: use the embedded SecantusDB server
    db_name: str = "seilearn"
    db_path: Path | None = None  # embedded server data directory (default HOME/db)
    db_port: int = 0  # embedded server port; 0 = any free port
    work_dir: Path | None = None  # where fireworks write their run directories (default HOME/runs)
    webgui_host: str = "127.0.0.1"
    webgui_port: int = 5000
    webgui_user: str | None = None
    webgui_password: str | None = None

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser()
        self.db_path = Path(self.db_path).expanduser() if self.db_path else self.home / "db"
        self.work_dir = Path(self.work_dir).expanduser() if self.work_dir else self.home / "runs"
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the bad key and the fix."""
        for name in ("db_port", "webgui_port"):
            value = getattr(self, name)
            # a YAML file can give 5000.5, .nan, true or a list; only a whole number is a port
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name}={str(value)[:40]!r} must be a whole number (a TCP port)")
        for name in ("mongodb_uri", "db_name", "webgui_host", "webgui_user", "webgui_password"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                shown = "****" if name == "webgui_password" else str(value)[:40]
                raise ConfigError(f"{name}={shown!r} must be text; quote it in the settings file")
        if self.mongodb_uri is not None and not str(self.mongodb_uri).startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError(
                f"mongodb_uri={mask_uri(str(self.mongodb_uri))!r} is not a MongoDB URI; "
                "set SEILEARN_MONGODB_URI to mongodb://HOST:PORT or unset it to use the embedded server"
            )
        if not _DB_NAME.match(str(self.db_name)):
            raise ConfigError(
                f"db_name={self.db_name!r} is not a valid database name; use letters, digits, '_' or '-' (max 63)"
            )
        if not (0 <= int(self.db_port) < 65536):
            raise ConfigError(f"db_port={self.db_port} is out of range; use 0 (any free port) to 65535")
        if not (0 < int(self.webgui_port) < 65536):
            raise ConfigError(f"webgui_port={self.webgui_port} is out of range 1..65535")
        if bool(self.webgui_user) != bool(self.webgui_password):
            raise ConfigError("set both webgui_user and webgui_password (SEILEARN_WEBGUI_USER/_PASSWORD) or neither")

    @property
    def embedded(self) -> bool:
        """True when seilearn runs its own SecantusDB server."""
        return not self.mongodb_uri


def mask_uri(uri: str) -> str:
    """Hide the password of a MongoDB URI (for logs and provenance)."""
    return re.sub(r"(mongodb(?:\+srv)?://[^:/@]+):[^@]+@", r"\1:****@", uri)


def _coerce(name: str, raw: str, typ: object) -> object:
    text = str(typ)
    try:
        if "int" in text:
            return int(raw)
    except ValueError as exc:
        raise ConfigError(f"SEILEARN_{name.upper()}={raw!r} must be an integer") from exc
    return raw


def load_settings(path: str | os.PathLike | None = None, **overrides: object) -> Settings:
    """Load settings from file + environment; ``overrides`` win over both."""
    values: dict[str, object] = {}
    names = {f.name: f for f in dataclasses.fields(Settings)}
    cfg_path = Path(path or os.environ.get("SEILEARN_CONFIG") or (_home() / "config.yaml")).expanduser()
    if path or os.environ.get("SEILEARN_CONFIG"):
        if not cfg_path.is_file():
            raise ConfigError(f"settings file {cfg_path} does not exist; create it or unset SEILEARN_CONFIG")
    if cfg_path.is_file():
        try:
            data = load_yaml(cfg_path.read_text(), f"settings file {cfg_path}") or {}
        except (InputError, UnicodeDecodeError) as exc:
            raise ConfigError(str(exc) if isinstance(exc, InputError) else
                              f"settings file {cfg_path} is not UTF-8 text; rewrite it as key: value lines") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"settings file {cfg_path} must be a mapping of key: value")
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(
                f"settings file {cfg_path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(names))}"
            )
        values.update(data)
    for name, fld in names.items():
        env = os.environ.get(f"SEILEARN_{name.upper()}")
        if env not in (None, ""):
            values[name] = _coerce(name, env, fld.type)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
