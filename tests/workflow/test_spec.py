"""Bad campaign specs are rejected before anything is submitted, naming the offending key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from seilearn.errors import InputError
from seilearn.workflows.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "workflows" / "examples"


@pytest.fixture
def base() -> dict:
    return yaml.safe_load((EXAMPLES / "lpsc_li_local.yaml").read_text())


def write(tmp_path, data) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_examples_are_valid():
    local = load_spec(EXAMPLES / "lpsc_li_local.yaml")
    paper = load_spec(EXAMPLES / "lpsc_li_paper.yaml")
    assert local.thresholds.save == 1.5 and local.thresholds.breaks[0] == 5.5
    assert local.thresholds.breaks[-1] == 2.5 and paper.thresholds.breaks[-1] == 2.5
    # the main job ends with 10 ps at 400 K on the mini interface, grade-watched
    lp = local.production
    assert (lp.models, lp.temperatures, lp.steps * lp.timestep_fs, lp.engine) == (["mini"], [400.0], 10_000.0, "local")
    assert local.production_watch[1] is not None
    assert (paper.mtp.level, paper.mtp.cutoff, paper.mtp.max_iter, paper.mtp.cv_folds) == (8, 5.0, 1000, 10)
    p = paper.production
    assert (p.models, p.temperatures, p.pressures_bar, p.seeds, p.steps, p.timestep_fs) == (
        ["I", "II"], [300.0, 350.0, 400.0], [1.0, 1000.0], [1, 2], 10_000_000, 1.0)


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["elements"].append("Xx"), "elements"),
    (lambda d: d["thresholds"].update(breaks=[5.5, 1.2]), "thresholds.breaks"),
    (lambda d: d["thresholds"].update(save=6.0), "thresholds.breaks"),
    (lambda d: d.update(exploration=[]), "exploration"),
    (lambda d: d.update(labeller={"name": "vasp", "settings": {"command": "vasp_std"}}), "labeller.settings.pp_path"),
    (lambda d: d.update(labeller={"name": "qe"}), "labeller.name"),
    (lambda d: d["exploration"][1].update(temperatures=[-5]), "exploration[1].temperatures"),
    (lambda d: d["exploration"][0].update(structure="graphene"), "exploration[0].structure"),
    (lambda d: d["exploration"][0].update(stpes=10), "exploration[0].stpes"),
    (lambda d: d["mtp"].update(level=7), "mtp.level"),
    (lambda d: d["mtp"].update(cutof=5), "mtp.cutof"),
    (lambda d: d.pop("labeller"), "labeller"),
    (lambda d: d.update(queue={"dft": "x"}), "queue"),
    (lambda d: d["production"].update(models=["III"]), "production.models"),
    (lambda d: d["exploration"][0].update(temperatures=[float("nan")]), "exploration[0].temperatures"),
    (lambda d: d["exploration"][0].update(steps=True), "exploration[0].steps"),
    (lambda d: d["thresholds"].update(save=float("inf")), "thresholds.save"),
    (lambda d: d["mtp"].update(cutoff=float("nan")), "mtp.cutoff"),
    (lambda d: d["mtp"].update(radial_basis_size=10), "mtp.radial_basis_size"),
    (lambda d: d["mtp"].update(retrain="lukewarm"), "mtp.retrain"),
    (lambda d: d["seed_set"].update(md_snapshots=5), "seed_set.md_snapshots"),
    (lambda d: d.update(exploration_ladder={"factor": 0.5}), "exploration_ladder.factor"),
    (lambda d: d.update(labelling={"max_atoms": 0}), "labelling.max_atoms"),
    (lambda d: d["production"].update(temperatures=[900]), "production.temperatures"),
    (lambda d: d["production"].update(pressures_bar=[5000]), "production.pressures_bar"),
])
def test_bad_spec_names_the_key(tmp_path, base, mutate, key):
    data = copy.deepcopy(base)
    mutate(data)
    with pytest.raises(InputError) as err:
        load_spec(write(tmp_path, data))
    assert f": {key}:" in str(err.value), str(err.value)


def test_bad_spec_submits_nothing(tmp_path, base, settings):
    from seilearn.cli import main
    from seilearn.store import get_launchpad

    data = copy.deepcopy(base)
    data["thresholds"]["breaks"] = [1.0]
    assert main(["campaign", "create", str(write(tmp_path, data))]) == 2
    assert get_launchpad(settings).fireworks.count_documents({}) == 0


def test_paper_labeller_settings_build_a_vasp_labeller():
    from seilearn.labelling import get_labeller

    spec = load_spec(EXAMPLES / "lpsc_li_paper.yaml")
    lab = get_labeller(spec.labeller.name, **spec.labeller.settings)
    settings = lab.settings()
    assert settings["name"] == "atomate2-vasp" and settings["vasp_cmd"] == "srun vasp_std"
    assert {k: settings["incar"][k] for k in ("ENCUT", "EDIFF", "KSPACING", "NELM")} == {
        "ENCUT": 520, "EDIFF": 1e-6, "KSPACING": 0.25, "NELM": 200}


def test_spec_round_trips_through_its_dict():
    from seilearn.workflows.spec import CampaignSpec

    for name in ("lpsc_li_local.yaml", "lpsc_li_paper.yaml"):
        spec = load_spec(EXAMPLES / name)
        assert CampaignSpec.from_dict(spec.to_dict()).to_dict() == spec.to_dict()


def test_ladder_defaults_to_the_production_length(tmp_path, base):
    data = copy.deepcopy(base)
    data.pop("exploration_ladder", None)
    data["production"]["steps"] = 1000
    spec = load_spec(write(tmp_path, data))
    assert spec.ladder_max_steps == 1000 and spec.exploration_ladder.factor == 4.0
    from seilearn.workflows.spec import exploration_runs

    top = spec.top_rung
    assert max(r.steps for r in exploration_runs(spec, top)) == 1000
    assert all(r.rung == top for r in exploration_runs(spec, top))


def test_replicas_multiply_the_exploration_matrix(tmp_path, base):
    from seilearn.workflows.builders import iteration_workflow
    from seilearn.workflows.spec import exploration_runs

    data = copy.deepcopy(base)
    data["exploration"] = [{"structure": "lpsc", "temperatures": [300, 400], "steps": 10, "replicas": 3}]
    spec = load_spec(write(tmp_path, data))
    runs = exploration_runs(spec)
    assert [(r.temperature_K, r.replica) for r in runs] == [(t, k) for t in (300.0, 400.0) for k in range(3)]
    # each replica is its own firework with its own run id (the velocity seed is drawn from it)
    wf = iteration_workflow(spec, "c", 0, 0, "p0")
    ids = [t["run_id"] for fw in wf.fws for t in fw.tasks if "run_id" in t]
    assert len(ids) == 6 == len(set(ids))
    data["exploration"][0]["replicas"] = 0
    with pytest.raises(InputError, match=r"exploration\[0\]\.replicas"):
        load_spec(write(tmp_path, data))


def test_warm_stop_reaches_warm_retrains_only(monkeypatch):
    import seilearn.mtp.training as T
    from seilearn.workflows import engines

    spec = load_spec(EXAMPLES / "lpsc_li_local.yaml")
    seen = []

    def fake_train(atoms, species, init=None, **kw):
        seen.append(kw)
        raise RuntimeError("stop here")

    monkeypatch.setattr(T, "train", fake_train)
    parent = (Path(__file__).parents[1] / "data" / "mlip3" / "lpscl" / "pot.mtp").read_text()
    for init in (None, parent):
        with pytest.raises(RuntimeError, match="stop here"):
            engines.train(spec, [], init_text=init, seed=0)
    assert "tol" not in seen[0] and "patience" not in seen[0]  # fresh fits keep the trainer's rule
    assert (seen[1]["tol"], seen[1]["patience"]) == (spec.mtp.warm_tol, spec.mtp.warm_patience) == (0.005, 3)
