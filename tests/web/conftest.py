"""Fixtures of the web tests: a store with a campaign, its history, runs, jobs, potentials and a firework."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from fireworks import Firework, ScriptTask

from seilearn.store import Store, get_launchpad


@pytest.fixture
def populated(settings, tmp_path):
    store = Store.open(settings)
    atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=3)
    cid, _ = store.add_configuration(atoms, {"kind": "exploration", "campaign_id": "demo", "exploration_run_id": "r1",
                                             "md_step": 120, "temperature_K": 400.0, "grade": 3.7,
                                             "potential_id": "demo-p000", "stage": 0})
    lid, _ = store.add_label(cid, status="ok", energy=-30.1, forces=np.zeros((len(atoms), 3)), stress=np.zeros(6),
                             labeller={"name": "chgnet"}, job_id="demo-it000-b000")
    store.add_potential(potential_id="demo-p001", training_set=[(cid, lid)], files={"mtp": b"MTP\n"},
                        campaign_id="demo", iteration=1, metrics={
                            "rmse_energy_mev_atom": 4.25, "rmse_forces_mev_a": 123.4,
                            "cv": {"folds": 5, "train": {"rmse_energy_mev_atom": {"mean": 18.36, "std": 0.4}},
                                   "test": {"rmse_energy_mev_atom": {"mean": 20.89, "std": 1.1}}}})
    store.record_exploration_run("r1", campaign_id="demo", iteration=0, structure="lpsc", temperature_K=400.0,
                                 status="stopped_at_break", steps_done=130, max_grade=6.2, n_preselected=3,
                                 grades=[1.1, 2.0, 3.7, 6.2])
    store.record_labelling_job("demo-it000-b000", campaign_id="demo", counts={"ok": 1, "failed": 2})
    plot = tmp_path / "results" / "plots" / "alpha.svg"
    plot.parent.mkdir(parents=True)
    plot.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>')
    store.record_campaign("bare")  # a campaign doc with no fields yet: every cell shows a dash
    extra = tmp_path / "elsewhere" / "crystallinity.svg"  # recorded in production_plots, outside results_dir
    extra.parent.mkdir()
    extra.write_text(plot.read_text())
    store.record_campaign("demo", state="running", results_dir=str(tmp_path / "results"),
                          production_plots=[str(extra), str(tmp_path / "gone.png")], stage=1, iteration=1, spec={"thresholds": {
        "save": 1.5, "breaks": [5.5, 4.5, 3.5, 2.5]}}, history=[
        {"iteration": 0, "stage": 0, "threshold_break": 5.5, "n_train": 40, "n_preselected": 3, "n_unique": 3,
         "n_selected": 1, "decision": "label"},
        {"iteration": 1, "stage": 1, "threshold_break": 4.5, "n_train": 41}])
    get_launchpad(settings).add_wf(Firework(ScriptTask.from_str("true"), name="gui-check"))
    return settings, cid
