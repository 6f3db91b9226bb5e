"""Finding 4 of issue 15: stored script in fireworks, workflows, campaigns and configurations never reaches a
page as markup; JSON is served as JSON; every response carries the security headers; waitress serves it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote, urljoin, urlsplit

import numpy as np
from ase.build import bulk
from fireworks import Firework, ScriptTask, Workflow

from seilearn.store import Store, get_launchpad
from seilearn.web.app import create_app
from tests.conftest import free_port

SCRIPT = '<script>alert("xss")</script>'
BREAKOUT = '</script><script>alert(2)</script>'
IMG = '"><img src=x onerror=alert(3)>'
ID_PAYLOAD = "<img src=x onerror=alert(4)>"  # no slash: it must survive as a URL path segment
# raw fragments that would run if a payload reached the page unescaped
DANGEROUS = ("<script>alert", "<img src=x onerror", "</script><script>")
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


def _plant(settings) -> dict[str, str]:
    lp = get_launchpad(settings)
    fw = Firework(ScriptTask.from_str("true"), name=SCRIPT,
                  spec={"_category": IMG, "note": BREAKOUT, "_seilearn": {"campaign_id": ID_PAYLOAD}})
    child = Firework(ScriptTask.from_str("true"), name=IMG, parents=[fw], spec={"x": SCRIPT})
    lp.add_wf(Workflow([fw, child], name=BREAKOUT, metadata={"owner": SCRIPT, "tag": ID_PAYLOAD}))
    store = Store.open(settings)
    atoms = bulk("Li", "bcc", a=3.44, cubic=True)
    cid, _ = store.add_configuration(atoms, {"kind": "exploration", "campaign_id": ID_PAYLOAD,
                                             "exploration_run_id": IMG, "file": BREAKOUT, "md_step": 3,
                                             "grade": 2.0, "potential_id": ID_PAYLOAD, "seed_set": SCRIPT})
    # anyone with write access to the database can put anything anywhere, past the API's checks
    store.configurations.update_one({"config_id": cid}, {"$set": {"source.kind": SCRIPT,
                                                                  "structure.formula": BREAKOUT}})
    lid, _ = store.add_label(cid, status="ok", energy=-3.0, forces=np.zeros((len(atoms), 3)), stress=np.zeros(6),
                             labeller={"name": SCRIPT}, job_id=IMG, reason=BREAKOUT)
    store.add_potential(potential_id="p-hostile", training_set=[(cid, lid)], files={"mtp": b"MTP\n"},
                        campaign_id=ID_PAYLOAD, iteration=0, metrics={"note": SCRIPT})
    store.record_exploration_run(IMG, campaign_id=ID_PAYLOAD, iteration=0, structure=SCRIPT, status=BREAKOUT,
                                 steps_done=1, max_grade=1.0, n_preselected=0, grades=[1.0])
    store.record_campaign(ID_PAYLOAD, state=SCRIPT, name=BREAKOUT, results_dir=IMG, stage=0, iteration=0,
                          spec={"name": SCRIPT, "thresholds": {"save": 1.5, "breaks": [5.5]}},
                          history=[{"iteration": 0, "stage": 0, "threshold_break": 5.5, "n_train": 1,
                                    "decision": SCRIPT}])
    return {"config": cid}


def _crawl(client, starts: list[str], limit: int = 250) -> dict[str, object]:
    seen: dict[str, object] = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        resp = client.get(url)
        seen[url] = resp
        if resp.mimetype == "text/html":
            for href in re.findall(r'(?:href|src)="([^"]+)"', resp.data.decode(errors="replace")):
                href = href.replace("&amp;", "&")
                parts = urlsplit(urljoin(url, href))
                if parts.netloc or parts.path.startswith("/static") or "/reports/" in parts.path:
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_planted_script_never_reaches_a_page_unescaped(settings):
    ids = _plant(settings)
    client = create_app(settings).test_client()
    starts = ["/", "/fw/", "/wf/", "/fw/1", "/fw/1/details", "/fw/2/details", "/wf/1", "/wf/1/json", "/wf/2/json",
              f"/wf/metadata/tag/{quote(ID_PAYLOAD, safe='')}/", "/dashboard/", "/seilearn/",
              f"/seilearn/campaign/{quote(ID_PAYLOAD, safe='')}", f"/seilearn/configuration/{ids['config']}",
              "/seilearn/potential/p-hostile", f"/seilearn/search?q={quote(SCRIPT)}",
              f"/seilearn/campaign/{quote(IMG, safe='')}", f"/fw/{quote(SCRIPT, safe='')}/"]
    pages = _crawl(client, starts)
    assert len(pages) >= len(starts)
    problems = []
    for url, resp in pages.items():
        for h in HEADERS:
            if h not in resp.headers:
                problems.append(f"{url}: no {h}")
        if resp.headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{url}: X-Content-Type-Options is not nosniff")
        csp = resp.headers.get("Content-Security-Policy", "")
        if "object-src 'none'" not in csp and "default-src 'none'" not in csp:
            problems.append(f"{url}: CSP {csp!r} is not restrictive")
        body = resp.data.decode(errors="replace")
        if re.search(r"/(fw/\d+/details|wf/\d+/json)$", url):
            if resp.mimetype != "application/json":
                problems.append(f"{url}: JSON served as {resp.mimetype}")
            json.loads(body)
        if resp.mimetype == "text/html":
            problems += [f"{url}: unescaped {frag!r}" for frag in DANGEROUS if frag in body]
        if resp.status_code >= 500:
            problems.append(f"{url}: status {resp.status_code}")
    assert not problems, "\n".join(problems)
    # the planted data is shown (escaped), not dropped
    shown = client.get("/fw/1").data.decode() + client.get("/fw/2").data.decode()
    assert "&lt;script&gt;alert" in shown or "\\u003cscript\\u003ealert" in shown
    assert "alert(4)" in client.get(f"/seilearn/campaign/{quote(ID_PAYLOAD, safe='')}").data.decode()


def test_dashboard_pages_allow_no_script(settings):
    client = create_app(settings).test_client()
    assert "script-src 'none'" in client.get("/seilearn/").headers["Content-Security-Policy"]
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


def test_webgui_runs_on_waitress(settings, tmp_path):
    get_launchpad(settings)
    port = free_port()
    env = {**os.environ, "SEILEARN_HOME": str(settings.home)}
    proc = subprocess.Popen([sys.executable, "-m", "seilearn.cli", "webgui", "--no-browser", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/seilearn/", timeout=5) as resp:
                    headers = resp.headers
                    break
            except OSError as exc:
                if time.time() > deadline or proc.poll() is not None:
                    said = proc.stdout.read() if proc.poll() is not None else ""
                    raise AssertionError(f"webgui did not answer ({exc}): {said}") from exc
                time.sleep(0.3)
        assert headers["Server"] == "waitress"
        assert headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors 'none'" in headers[
            "Content-Security-Policy"]
    finally:
        proc.terminate()
        proc.wait(20)
