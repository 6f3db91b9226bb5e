"""The dashboard and FireWorks GUI pages against a test store with data (Flask test client)."""

from __future__ import annotations

import base64

import pytest

from seilearn.errors import ConfigError
from seilearn.web.app import check_bind, create_app


def test_pages_show_the_numbers(populated, tmp_path):
    settings, cid = populated
    client = create_app(settings).test_client()
    page = client.get("/seilearn/").data.decode()
    assert "demo" in page and "running" in page and '<td class="break">4.5</td>' in page
    page = client.get("/seilearn/campaign/demo").data.decode()
    assert 'id="break">4.5<' in page and 'id="stage">2<' in page
    assert '<td class="n_train">41</td>' in page and "label" in page and "<svg" in page
    assert "demo-p001" in page and "4.25" in page and "123.4" in page
    assert '<td class="cv_train">18.36</td><td class="cv_test">20.89</td>' in page
    assert "stopped_at_break" in page and "6.20" in page and '<span id="n_grades">4</span>' in page
    # iteration 0: 1 selected, 1 labelled, 2 failed (from the labelling job demo-it000-b000)
    assert ('<td class="n_selected">1</td>\n<td class="n_labelled">1</td><td class="n_failed">2</td>') in page
    assert "alpha.svg" in page and "crystallinity.svg" in page and "gone.png" not in page  # only what exists
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


def test_fireworks_gui_pages_work_with_this_flask(populated):
    """The FireWorks web GUI broke with newer Flask; every page must load on ours."""
    import flask

    settings, _ = populated
    client = create_app(settings).test_client()
    for url in ("/", "/fw/1", "/fw/1/details", "/wf/1", "/wf/1/json", "/fw/", "/fw/READY/", "/wf/", "/report/",
                "/dashboard/", "/reports/fireworks/months/6/fig.png"):
        r = client.get(url)
        assert r.status_code == 200, f"{url} -> {r.status_code} with Flask {flask.__version__}"


def test_webgui_command_refuses_public_bind(settings, capsys):
    from seilearn.cli import main

    assert main(["webgui", "--host", "0.0.0.0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve the web GUI on 0.0.0.0 without basic auth" in err and len(err.strip().splitlines()) == 1
