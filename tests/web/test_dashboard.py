"""The dashboard and FireWorks GUI pages against a test store with data (Flask test client)."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from ase.build import bulk
from fireworks import Firework, ScriptTask

from seilearn.errors import ConfigError
from seilearn.store import Store, get_launchpad
from seilearn.web.app import check_bind, create_app


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
    store.record_campaign("demo", state="running", results_dir=str(tmp_path / "results"), stage=1, iteration=1, spec={"thresholds": {
        "save": 1.5, "breaks": [5.5, 4.5, 3.5, 2.5]}}, history=[
        {"iteration": 0, "stage": 0, "threshold_break": 5.5, "n_train": 40, "n_preselected": 3, "n_unique": 3,
         "n_selected": 1, "decision": "label"},
        {"iteration": 1, "stage": 1, "threshold_break": 4.5, "n_train": 41}])
    get_launchpad(settings).add_wf(Firework(ScriptTask.from_str("true"), name="gui-check"))
    return settings, cid


def test_pages_show_the_numbers(populated, tmp_path):
    settings, cid = populated
    client = create_app(settings).test_client()
    page = client.get("/seilearn/").data.decode()
    assert "demo" in page and "running" in page
    page = client.get("/seilearn/campaign/demo").data.decode()
    assert 'id="break">4.5<' in page and 'id="stage">2<' in page
    assert '<td class="n_train">41</td>' in page and "label" in page and "<svg" in page
    assert "demo-p001" in page and "4.25" in page and "123.4" in page
    assert '<td class="cv_train">18.36</td><td class="cv_test">20.89</td>' in page
    assert "stopped_at_break" in page and "6.20" in page and '<span id="n_grades">4</span>' in page
    # iteration 0: 1 selected, 1 labelled, 2 failed (from the labelling job demo-it000-b000)
    assert ('<td class="n_selected">1</td>\n<td class="n_labelled">1</td><td class="n_failed">2</td>') in page
    assert "alpha.svg" in page
    assert client.get("/seilearn/plot", query_string={"path": str(tmp_path / "results/plots/alpha.svg")}).status_code == 200
    bare = client.get("/seilearn/campaign/bare")
    assert bare.status_code == 200 and 'id="state">—<' in bare.data.decode() and 'id="break">—<' in bare.data.decode()
    assert "bare" in client.get("/seilearn/").data.decode()
    page = client.get(f"/seilearn/configuration/{cid}").data.decode()
    assert "grade" in page and "3.7" in page and "demo-p001" in page
    assert client.get(f"/seilearn/search?q={cid}").status_code == 302
    assert "trained on 1 configurations" in client.get("/seilearn/potential/demo-p001").data.decode()
    assert client.get("/").status_code == 200 and "gui-check" in client.get("/fw/1").data.decode()
    assert "gui-check" in client.get("/wf/1").data.decode()


def test_bad_input_is_404_or_400(populated):
    settings, _ = populated
    client = create_app(settings).test_client()
    r = client.get("/seilearn/configuration/cdoesnotexist")
    assert r.status_code == 404 and b"no configuration" in r.data
    assert client.get("/seilearn/campaign/nope").status_code == 404
    assert client.get("/seilearn/search?q=%7B%22%24gt%22%3A1%7D").status_code == 400
    assert client.get("/seilearn/plot?path=/etc/passwd").status_code == 404


def test_basic_auth(populated):
    settings, _ = populated
    app = create_app(settings, user="me", password="s3cret")
    try:
        client = app.test_client()
        assert client.get("/seilearn/").status_code == 401
        assert client.get("/").status_code == 401
        good = {"Authorization": "Basic " + base64.b64encode(b"me:s3cret").decode()}
        bad = {"Authorization": "Basic " + base64.b64encode(b"me:nope").decode()}
        assert client.get("/seilearn/", headers=good).status_code == 200
        assert client.get("/seilearn/", headers=bad).status_code == 401
    finally:
        app.config["WEBGUI_USERNAME"] = app.config["WEBGUI_PASSWORD"] = None


def test_refuses_public_bind_without_auth():
    with pytest.raises(ConfigError, match="refusing to serve"):
        check_bind("0.0.0.0", None, None)
    check_bind("0.0.0.0", "u", "p")
    check_bind("127.0.0.1", None, None)
