"""Campaign specification: a YAML file validated before anything is submitted.

Every error names the offending key (``exploration[1].temperatures``) and what to write instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ase.data import atomic_numbers

from seilearn.errors import InputError

KNOWN_LABELLERS = ("chgnet", "vasp", "gpaw")
KNOWN_STRUCTURES = ("interface-mini", "interface-I", "interface-II", "lpsc", "li", "li2s", "li3p", "licl",
                    "antifluorite")
QUEUE_CATEGORIES = ("explore", "dft", "train", "production")
REQUIRED_LABELLER_SETTINGS = {"vasp": ("command", "pp_path"), "gpaw": (), "chgnet": ()}


@dataclass
class ExplorationTask:
    """One exploration entry: a structure run at every temperature x pressure combination."""

    structure: str
    temperatures: list[float]
    pressures_bar: list[float] = field(default_factory=lambda: [1.0])
    steps: int = 1000
    timestep_fs: float = 1.0
    grade_every: int = 20
    ensemble: str = "npt"
    supercell: list[int] | None = None


@dataclass
class ProductionSpec:
    """The production matrix: models x temperatures x pressures x seeds."""

    models: list[str] = field(default_factory=lambda: ["mini"])
    temperatures: list[float] = field(default_factory=lambda: [300.0, 350.0, 400.0])
    pressures_bar: list[float] = field(default_factory=lambda: [1.0, 1000.0])
    seeds: list[int] = field(default_factory=lambda: [1, 2])
    steps: int = 10_000_000
    timestep_fs: float = 1.0
    dump_every: int = 1000
    engine: str = "local"  # local (ASE) or lammps (input decks for clusters)
    analyze: bool = True


@dataclass
class CampaignSpec:
    """A whole active-learning campaign (see workflows/examples/*.yaml)."""

    name: str
    elements: list[str]
    labeller: dict[str, Any]
    seed_set: dict[str, Any]
    exploration: list[ExplorationTask]
    mtp: dict[str, Any] = field(default_factory=lambda: {"level": 8, "cutoff": 5.0})
    thresholds: dict[str, Any] = field(default_factory=lambda: {"save": 1.5, "breaks": [5.5, 4.5, 3.5, 2.5],
                                                                 "converge_after": 1})
    selection: dict[str, Any] = field(default_factory=lambda: {"mode": "nbh", "limit_per_iteration": None})
    production: ProductionSpec | None = None
    queues: dict[str, str] = field(default_factory=lambda: {c: c for c in QUEUE_CATEGORIES})
    max_iterations: int = 40
    label_batch_size: int = 10

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "spec") -> "CampaignSpec":
        return _parse(data, origin)


def load_spec(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign YAML file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"campaign spec {path} does not exist; see workflows/examples/ for templates")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: the spec must be a mapping of keys (name, elements, labeller, ...)")
    return _parse(data, str(path))


def _err(origin: str, key: str, problem: str) -> InputError:
    return InputError(f"{origin}: {key}: {problem}")


def _known_keys(origin: str, section: str, value: Any, known: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise _err(origin, section, "must be a mapping")
    bad = sorted(set(value) - set(known))
    if bad:
        raise _err(origin, f"{section}.{bad[0]}", f"unknown key; known: {', '.join(known)}")


def _number_list(origin: str, key: str, value: Any, positive: bool = True) -> list[float]:
    if isinstance(value, (int, float)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _err(origin, key, "must be a non-empty list of numbers")
    out = []
    for v in value:
        if not isinstance(v, (int, float)) or (positive and v <= 0):
            raise _err(origin, key, f"{v!r} is not a {'positive ' if positive else ''}number")
        out.append(float(v))
    return out


def _parse(data: dict[str, Any], origin: str) -> CampaignSpec:
    known = {f.name for f in dataclasses.fields(CampaignSpec)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _err(origin, unknown[0], f"unknown key; known keys: {', '.join(sorted(known))}")
    for key in ("name", "elements", "labeller", "seed_set", "exploration"):
        if key not in data:
            raise _err(origin, key, "missing (required)")
    name = str(data["name"])
    if not name.replace("-", "").replace("_", "").isalnum():
        raise _err(origin, "name", f"{name!r} must use letters, digits, '-' or '_'")
    elements = data["elements"]
    if not isinstance(elements, list) or not elements:
        raise _err(origin, "elements", "must be a non-empty list such as [Li, P, S, Cl]")
    for el in elements:
        if el not in atomic_numbers or el == "X":
            raise _err(origin, "elements", f"unknown element {el!r}")
    if len(set(elements)) != len(elements):
        raise _err(origin, "elements", "lists an element twice")

    lab = data["labeller"]
    if isinstance(lab, str):
        lab = {"name": lab}
    if not isinstance(lab, dict) or "name" not in lab:
        raise _err(origin, "labeller", "must be a mapping with a name (chgnet, vasp or gpaw) and its settings")
    if lab["name"] not in KNOWN_LABELLERS:
        raise _err(origin, "labeller.name", f"{lab['name']!r} is not one of {', '.join(KNOWN_LABELLERS)}")
    settings = lab.get("settings") or {}
    if not isinstance(settings, dict):
        raise _err(origin, "labeller.settings", "must be a mapping")
    for req in REQUIRED_LABELLER_SETTINGS[lab["name"]]:
        if req not in settings:
            raise _err(origin, f"labeller.settings.{req}", f"missing; the {lab['name']} labeller needs it")
    lab = {"name": lab["name"], "settings": settings}

    seed = data["seed_set"]
    if not isinstance(seed, dict) or not ({"n", "file"} & set(seed)):
        raise _err(origin, "seed_set", "must give n (configurations to generate) or file (an extxyz/.cfg to import)")
    if "n" in seed and (not isinstance(seed["n"], int) or seed["n"] < 1):
        raise _err(origin, "seed_set.n", f"{seed['n']!r} must be a positive integer")

    _known_keys(origin, "seed_set", seed, ("n", "seed", "max_atoms", "file", "md_snapshots"))
    _known_keys(origin, "mtp", data.get("mtp") or {}, ("level", "cutoff", "max_iter", "seed", "cv_folds",
                                                       "min_dist", "radial_basis_size", "pretrain_iter"))
    _known_keys(origin, "thresholds", data.get("thresholds") or {}, ("save", "breaks", "converge_after"))
    _known_keys(origin, "selection", data.get("selection") or {}, ("mode", "limit_per_iteration"))
    mtp = {"level": 8, "cutoff": 5.0, **(data.get("mtp") or {})}
    if not isinstance(mtp["level"], int) or not 2 <= mtp["level"] <= 28 or mtp["level"] % 2:
        raise _err(origin, "mtp.level", f"{mtp['level']!r} must be an even integer 2..28")
    if not isinstance(mtp["cutoff"], (int, float)) or not 2.0 <= mtp["cutoff"] <= 10.0:
        raise _err(origin, "mtp.cutoff", f"{mtp['cutoff']!r} must be a distance in A between 2 and 10")

    th = {"save": 1.5, "breaks": [5.5, 4.5, 3.5, 2.5], "converge_after": 1, **(data.get("thresholds") or {})}
    breaks = _number_list(origin, "thresholds.breaks", th["breaks"])
    save = th["save"]
    if not isinstance(save, (int, float)) or save < 1.0:
        raise _err(origin, "thresholds.save", f"{save!r} must be a number >= 1 (grades below 1 are interpolation)")
    for b in breaks:
        if b <= save:
            raise _err(origin, "thresholds.breaks", f"break threshold {b} must be above save threshold {save}")
    if breaks != sorted(breaks, reverse=True):
        raise _err(origin, "thresholds.breaks", "must step down (e.g. [5.5, 4.5, 3.5, 2.5])")
    if not isinstance(th["converge_after"], int) or th["converge_after"] < 1:
        raise _err(origin, "thresholds.converge_after", "must be an integer >= 1")
    th = {"save": float(save), "breaks": breaks, "converge_after": th["converge_after"]}

    sel = {"mode": "nbh", "limit_per_iteration": None, **(data.get("selection") or {})}
    if sel["mode"] not in ("nbh", "cfg"):
        raise _err(origin, "selection.mode", f"{sel['mode']!r} must be nbh or cfg")

    expl = data["exploration"]
    if not isinstance(expl, list) or not expl:
        raise _err(origin, "exploration", "must be a non-empty list of {structure, temperatures, steps, ...}")
    tasks = []
    tfields = {f.name for f in dataclasses.fields(ExplorationTask)}
    for i, item in enumerate(expl):
        key = f"exploration[{i}]"
        if not isinstance(item, dict):
            raise _err(origin, key, "must be a mapping")
        bad = sorted(set(item) - tfields)
        if bad:
            raise _err(origin, f"{key}.{bad[0]}", f"unknown key; known: {', '.join(sorted(tfields))}")
        if "structure" not in item:
            raise _err(origin, f"{key}.structure", "missing")
        s = item["structure"]
        if s not in KNOWN_STRUCTURES and not str(s).startswith("file:"):
            raise _err(origin, f"{key}.structure", f"{s!r} is not one of {', '.join(KNOWN_STRUCTURES)} or file:PATH")
        if "temperatures" not in item:
            raise _err(origin, f"{key}.temperatures", "missing")
        task = ExplorationTask(**{**item, "temperatures": _number_list(origin, f"{key}.temperatures", item["temperatures"]),
                                  "pressures_bar": _number_list(origin, f"{key}.pressures_bar",
                                                                item.get("pressures_bar", [1.0]))})
        if not isinstance(task.steps, int) or task.steps < 1:
            raise _err(origin, f"{key}.steps", f"{task.steps!r} must be a positive integer")
        if task.ensemble not in ("npt", "nvt"):
            raise _err(origin, f"{key}.ensemble", f"{task.ensemble!r} must be npt or nvt")
        tasks.append(task)

    prod = None
    if data.get("production") is not None:
        p = data["production"]
        pfields = {f.name for f in dataclasses.fields(ProductionSpec)}
        if not isinstance(p, dict):
            raise _err(origin, "production", "must be a mapping")
        bad = sorted(set(p) - pfields)
        if bad:
            raise _err(origin, f"production.{bad[0]}", f"unknown key; known: {', '.join(sorted(pfields))}")
        prod = ProductionSpec(**p)
        for m in prod.models:
            if m not in ("I", "II", "mini"):
                raise _err(origin, "production.models", f"{m!r} must be I, II or mini")
        prod.temperatures = _number_list(origin, "production.temperatures", prod.temperatures)
        prod.pressures_bar = _number_list(origin, "production.pressures_bar", prod.pressures_bar)
        if prod.engine not in ("local", "lammps"):
            raise _err(origin, "production.engine", f"{prod.engine!r} must be local or lammps")

    queues = {c: c for c in QUEUE_CATEGORIES}
    queues.update(data.get("queues") or {})
    bad = sorted(set(queues) - set(QUEUE_CATEGORIES))
    if bad:
        raise _err(origin, f"queues.{bad[0]}", f"unknown category; use {', '.join(QUEUE_CATEGORIES)}")
    max_it = data.get("max_iterations", 40)
    if not isinstance(max_it, int) or max_it < 1:
        raise _err(origin, "max_iterations", "must be a positive integer")
    batch = data.get("label_batch_size", 10)
    if not isinstance(batch, int) or batch < 1:
        raise _err(origin, "label_batch_size", "must be a positive integer")
    return CampaignSpec(name=name, elements=list(elements), labeller=lab, seed_set=dict(seed), exploration=tasks,
                        mtp=mtp, thresholds=th, selection=sel, production=prod, queues=queues,
                        max_iterations=max_it, label_batch_size=batch)
