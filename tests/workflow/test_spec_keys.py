"""The spec means what it says: every key the validator accepts changes what runs or what is submitted.

The keys are found by walking the typed sections, so a key added without an observable effect (or without an
entry here) fails ``test_every_accepted_key_has_a_probe``. Each probe changes one key from the demo spec and
compares an observation made with the code that consumes it: the fireworks the builders submit, the training
arguments, the labeller's settings, the decision rule, the production watch, the validation sampler.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from seilearn.workflows import spec as S

REPO = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((REPO / "workflows" / "examples" / "lpsc_li_local.yaml").read_text())
POT = REPO / "tests" / "data" / "mlip3" / "lpscl" / "pot.mtp"


def accepted_keys() -> set[str]:
    """Every leaf key of the spec: sections walked through their dataclass fields."""
    out: set[str] = set()

    def walk(cls: type, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            key = prefix + f.name
            sub = SECTIONS.get(key)
            if sub is not None:
                walk(sub, key + ".")
            elif key == "queues":
                out.update(f"queues.{c}" for c in S.QUEUE_CATEGORIES)
            else:
                out.add(key)

    walk(S.CampaignSpec, "")
    return out


SECTIONS: dict[str, type] = {
    "labeller": S.LabellerSpec, "labelling": S.LabellingSpec, "seed_set": S.SeedSetSpec, "mtp": S.MTPSpec,
    "mtp.cut_weights": S.CutWeights, "selection": S.SelectionSpec, "exploration": S.ExplorationTask,
    "production": S.ProductionSpec, "validation": S.ValidationSpec,
    "thresholds": S.ThresholdSchedule, "exploration_ladder": S.ExplorationLadder,
}
SECTIONS["exploration"] = S.ExplorationTask  # a list: its entries are probed through exploration[0]


# -- observations: what the code that consumes the spec does with it -------------------------------------

def submitted(spec: S.CampaignSpec) -> Any:
    """The fireworks a campaign submits: seed, first iteration (and a ladder rung), labelling, production."""
    from seilearn.workflows import builders

    wfs = [builders.seed_workflow(spec, spec.name),
           builders.with_crossval(spec, spec.name, builders.iteration_workflow(spec, spec.name, 0, 0, "p0", 0),
                                  "p0", 100, seed=0),
           builders.iteration_workflow(spec, spec.name, 5, spec.thresholds.n_stages - 1, "p5", 1),
           builders.label_then(spec, spec.name, [f"c{i}" for i in range(20)], "t",
                               builders.train_fw(spec, spec.name, 1, 0, "p0"))]
    if spec.production is not None:
        wfs.append(builders.production_workflow(spec, spec.name, "p9"))
    return [(fw.name, fw.spec["_category"], [t.to_dict() for t in fw.tasks]) for wf in wfs for fw in wf.fws]


def training(spec: S.CampaignSpec) -> Any:
    from ase import Atoms

    from seilearn.cutting.campaign import apply_cut_weights
    from seilearn.workflows import engines

    # what TrainTask does to a stored cut (weigh_cuts: weights from the stored core flags)
    cut = Atoms("Li4", positions=[[0, 0, 0], [2, 0, 0], [0, 2, 0], [0, 0, 2]], cell=[8, 8, 8], pbc=True)
    apply_cut_weights(cut, spec.mtp.cut_weights, [True, True, False, False])
    return (engines.train_kwargs(spec, 0), engines.warm_kwargs(spec), [spec.mtp.fresh_fit(i) for i in range(1, 7)],
            list(cut.arrays.get("force_weight", [])), cut.info.get("energy_weight"))


def labeller(spec: S.CampaignSpec) -> Any:
    from seilearn.workflows import engines

    return engines.labeller_record(engines.labeller(spec))


def potential(spec: S.CampaignSpec) -> Any:
    from seilearn.workflows import engines

    return engines._potential(spec, POT.read_text()).species


def seeds(spec: S.CampaignSpec) -> Any:
    from seilearn.workflows import engines

    return [(a.get_chemical_formula(), a.info.get("seed_kind")) for a in engines.seed_structures(spec)]


def decisions(spec: S.CampaignSpec) -> Any:
    from seilearn.selection.schedule import decide

    quiet = [{"iteration": i, "stage": 0, "rung": 0, "n_selected": 0} for i in range(3)]
    out = [decide(spec.thresholds, quiet, iteration=3, stage=0, rung=0, n_selected=0, top_rung=spec.top_rung,
                  max_iterations=spec.max_iterations),
           decide(spec.thresholds, [], iteration=spec.max_iterations - 1, stage=0, rung=0, n_selected=1,
                  top_rung=spec.top_rung, max_iterations=spec.max_iterations)]
    # the thresholds the exploration firework passes to the MD engine
    return out, [(spec.thresholds.save, spec.thresholds.break_at(k)) for k in range(spec.thresholds.n_stages)]


def selection(spec: S.CampaignSpec) -> Any:
    from seilearn.workflows import engines

    return engines.select_kwargs(spec), spec.max_atoms


def watch(spec: S.CampaignSpec) -> Any:
    return spec.production_watch, spec.production.max_relearn


def validation(spec: S.CampaignSpec, tmp_path: Path) -> Any:
    from ase.build import bulk
    from ase.io import write

    from seilearn.workflows.tasks.validate import sample_frames

    traj = tmp_path / "t.extxyz"
    frames = []
    for step in range(60):
        f = bulk("Li", cubic=True)
        f.info["step"] = step
        frames.append(f)
    write(traj, frames, format="extxyz")
    runs = {"r": {"status": "completed", "trajectory": str(traj), "trajectory_format": "extxyz"}}
    return [i for _, i in sample_frames(runs, spec.validation.frames)] if spec.validation.frames else []


Probe = tuple[Callable[[dict], None], Callable[..., Any]]


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        node = d
        parts = path.split(".")
        for p in parts[:-1]:
            if p.endswith("]"):
                name, idx = p[:-1].split("[")
                node = node[name][int(idx)]
            else:
                node = node.setdefault(p, {})
        node[parts[-1]] = value
    return mutate


VASP = {"name": "vasp", "settings": {"command": "vasp_std", "pp_path": "/nonexistent/pp"}}

PROBES: dict[str, Probe] = {
    "name": (_set("name", "other"), submitted),
    "elements": (_set("elements", ["Li", "P", "S", "Br"]), potential),
    "labeller.name": (lambda d: d.update(labeller=VASP), labeller),
    "labeller.settings": (lambda d: d.update(labeller={**VASP, "settings": {**VASP["settings"], "encut": 600}}),
                          labeller),
    "labelling.max_atoms": (_set("labelling.max_atoms", 120), selection),
    "labelling.batch_size": (_set("labelling.batch_size", 3), submitted),
    "seed_set.n": (_set("seed_set.n", 5), seeds),
    "seed_set.seed": (_set("seed_set.seed", 7), seeds),
    "seed_set.max_atoms": (_set("seed_set.max_atoms", 8), seeds),
    "seed_set.file": (lambda d: d["seed_set"].update(file=str(REPO / "tests" / "data" / "mlip3" / "lpscl" / "train.cfg")),
                      seeds),
    "mtp.level": (_set("mtp.level", 10), training),
    "mtp.cutoff": (_set("mtp.cutoff", 4.5), training),
    "mtp.max_iter": (_set("mtp.max_iter", 7), training),
    "mtp.seed": (_set("mtp.seed", 3), training),
    "mtp.cv_folds": (_set("mtp.cv_folds", 3), submitted),
    "mtp.min_dist": (_set("mtp.min_dist", 1.7), training),
    "mtp.pretrain_iter": (_set("mtp.pretrain_iter", 5), training),
    "mtp.retrain": (_set("mtp.retrain", "fresh"), training),
    "mtp.fresh_every": (_set("mtp.fresh_every", 2), training),
    "mtp.warm_tol": (_set("mtp.warm_tol", 0.02), training),
    "mtp.warm_patience": (_set("mtp.warm_patience", 2), training),
    "mtp.cut_weights.core": (_set("mtp.cut_weights.core", 2.0), training),
    "mtp.cut_weights.buffer": (_set("mtp.cut_weights.buffer", 0.25), training),
    "mtp.cut_weights.energy": (_set("mtp.cut_weights.energy", 0.5), training),
    "thresholds.save": (_set("thresholds.save", 1.2), decisions),
    "thresholds.breaks": (_set("thresholds.breaks", [5.0, 3.0]), decisions),
    "thresholds.converge_after": (_set("thresholds.converge_after", 5), decisions),
    "exploration_ladder.factor": (_set("exploration_ladder.factor", 1.5), submitted),
    "exploration_ladder.max_steps": (_set("exploration_ladder.max_steps", 150), submitted),
    "selection.mode": (_set("selection.mode", "cfg"), selection),
    "selection.limit_per_iteration": (_set("selection.limit_per_iteration", 3), selection),
    "exploration.structure": (_set("exploration[0].structure", "li"), submitted),
    "exploration.temperatures": (_set("exploration[0].temperatures", [350, 400]), submitted),
    "exploration.pressures_bar": (_set("exploration[0].pressures_bar", [1, 500]), submitted),
    "exploration.steps": (_set("exploration[0].steps", 60), submitted),
    "exploration.timestep_fs": (_set("exploration[0].timestep_fs", 0.5), submitted),
    "exploration.grade_every": (_set("exploration[0].grade_every", 7), submitted),
    "exploration.ensemble": (_set("exploration[1].ensemble", "npt"), submitted),
    "exploration.supercell": (_set("exploration[0].supercell", [1, 1, 2]), submitted),
    "exploration.replicas": (_set("exploration[0].replicas", 2), submitted),
    "exploration.engine": (lambda d: d["exploration"][0].update(engine="lammps", lammps_command="stand-in",
                                                                 grade_every=1), submitted),
    "exploration.lammps_command": (lambda d: d["exploration"][0].update(engine="lammps", grade_every=1,
                                                                        lammps_command="lmp -sf omp"),
                                   lambda s: [t.lammps_command for t in s.exploration]),
    "production.models": (_set("production.models", ["I"]), submitted),
    "production.temperatures": (_set("production.temperatures", [300]), submitted),
    "production.pressures_bar": (_set("production.pressures_bar", [1, 1]), submitted),
    "production.seeds": (_set("production.seeds", [1, 2]), submitted),
    "production.steps": (_set("production.steps", 5000), submitted),
    "production.timestep_fs": (_set("production.timestep_fs", 0.5), submitted),
    "production.dump_every": (_set("production.dump_every", 50), submitted),
    "production.engine": (lambda d: d["production"].update(engine="lammps", lammps_command="stand-in",
                                                           grade_every=None, threshold_break=None), submitted),
    "production.lammps_command": (lambda d: d["production"].update(engine="lammps", lammps_command="lmp",
                                                                   grade_every=None, threshold_break=None),
                                  lambda s: s.production.lammps_command),
    "production.analyze": (_set("production.analyze", False), submitted),
    "production.grade_every": (_set("production.grade_every", 50), watch),
    "production.threshold_break": (_set("production.threshold_break", 6.0), watch),
    "production.max_relearn": (_set("production.max_relearn", 1), watch),
    "validation.frames": (_set("validation.frames", 5), validation),
    "max_iterations": (_set("max_iterations", 3), decisions),
    **{f"queues.{c}": (_set(f"queues.{c}", f"{c}-q"), submitted) for c in S.QUEUE_CATEGORIES},
}


def test_every_accepted_key_has_a_probe():
    keys = {k.replace("exploration.", "exploration.") for k in accepted_keys()}
    missing = sorted(keys - set(PROBES))
    assert not missing, f"spec keys with no probe (does each take effect?): {missing}"
    assert not sorted(set(PROBES) - keys), "probes for keys the spec no longer accepts"


@pytest.mark.parametrize("key", sorted(PROBES))
def test_key_changes_what_runs(key, tmp_path):
    mutate, observe = PROBES[key]
    data = copy.deepcopy(BASE)
    mutate(data)
    base, changed = S.CampaignSpec.from_dict(copy.deepcopy(BASE)), S.CampaignSpec.from_dict(data)

    def look(spec):
        return observe(spec, tmp_path) if observe is validation else observe(spec)

    assert look(base) != look(changed), f"{key}: accepted, but nothing that runs changed"
