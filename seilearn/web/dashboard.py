"""The seilearn dashboard: campaigns, threshold stages, training-set growth, grades, selections,
potentials and the provenance of every configuration. Server-rendered; no JavaScript build step."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for

from seilearn.errors import StoreError
from seilearn.store import provenance as prov
from seilearn.web.charts import growth_chart, histogram

bp = Blueprint("seilearn", __name__, template_folder="templates", url_prefix="/seilearn")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _store():
    return current_app.config["SEILEARN_STORE"]


@bp.route("/")
def index():
    store = _store()
    campaigns = list(store.campaigns.find({}, {"_id": 0, "campaign_id": 1, "state": 1, "stage": 1, "iteration": 1,
                                               "spec.thresholds": 1, "updated_at": 1}).sort("updated_at", -1))
    counts = {c["campaign_id"]: store.configurations.count_documents({"source.campaign_id": c["campaign_id"],
                                                                       "labels.status": "ok"}) for c in campaigns}
    return render_template("seilearn/index.html", campaigns=campaigns, counts=counts,
                           n_configurations=store.configurations.count_documents({}),
                           n_potentials=store.potentials.count_documents({}))


@bp.route("/campaign/<campaign_id>")
def campaign(campaign_id: str):
    if not _ID.match(campaign_id):
        abort(400, f"malformed campaign id {campaign_id!r}")
    store = _store()
    doc = store.campaigns.find_one({"campaign_id": campaign_id}, {"_id": 0})
    if doc is None:
        abort(404, f"no campaign {campaign_id!r}")
    hist = sorted(doc.get("history", []), key=lambda h: h.get("iteration", 0))
    growth = growth_chart([h["iteration"] for h in hist], [h.get("n_train") or 0 for h in hist],
                          [h.get("n_selected") or 0 for h in hist]) if hist else ""
    runs = list(store.exploration_runs.find({"campaign_id": campaign_id}, {"_id": 0}).sort("iteration", -1))
    last_it = runs[0]["iteration"] if runs else None
    last = [r for r in runs if r.get("iteration") == last_it]
    grades = [g for r in last for g in r.get("grades") or []]
    th = doc.get("spec", {}).get("thresholds", {})
    stage = doc.get("stage", 0)
    brk = th.get("breaks", [None])[stage] if th.get("breaks") and stage < len(th["breaks"]) else None
    hist_svg = histogram(grades, th.get("save"), brk, f"grades of iteration {last_it}") if last else ""
    jobs = {}
    for j in store.labelling_jobs.find({"campaign_id": campaign_id}, {"_id": 0, "job_id": 1, "counts": 1}):
        tag = j["job_id"].rsplit("-b", 1)[0]
        c = jobs.setdefault(tag, {"ok": 0, "failed": 0, "scf_unconverged": 0, "reused": 0})
        for k, v in (j.get("counts") or {}).items():
            c[k] = c.get(k, 0) + v
    pots = list(store.potentials.find({"campaign_id": campaign_id}, {"_id": 0, "training_set": 0}).sort("iteration", 1))
    plots = [p for p in doc.get("production_plots", []) if p.endswith(".png") and Path(p).exists()]
    return render_template("seilearn/campaign.html", c=doc, hist=hist, growth=growth, hist_svg=hist_svg, runs=runs[:20],
                           jobs=jobs, pots=pots, brk=brk, plots=plots)


@bp.route("/plot")
def plot():
    path = request.args.get("path", "")
    store = _store()
    allowed = {p for c in store.campaigns.find({}, {"production_plots": 1}) for p in c.get("production_plots", [])}
    if path not in allowed:
        abort(404, "no such plot")
    return send_file(path)


@bp.route("/search")
def search():
    q = (request.args.get("q") or "").strip()
    if not q:
        return redirect(url_for("seilearn.index"))
    if not _ID.match(q):
        abort(400, f"malformed id {q!r}: use a configuration id (c...) or a potential id")
    if _store().potentials.count_documents({"potential_id": q}, limit=1):
        return redirect(url_for("seilearn.potential", potential_id=q))
    return redirect(url_for("seilearn.configuration", config_id=q))


@bp.route("/configuration/<config_id>")
def configuration(config_id: str):
    if not _ID.match(config_id):
        abort(400, f"malformed configuration id {config_id!r}")
    try:
        lin = prov.configuration_lineage(_store(), config_id)
    except StoreError as exc:
        abort(404, str(exc))
    return render_template("seilearn/configuration.html", lin=lin, text=prov.format_configuration_lineage(lin))


@bp.route("/potential/<potential_id>")
def potential(potential_id: str):
    if not _ID.match(potential_id):
        abort(400, f"malformed potential id {potential_id!r}")
    try:
        lin = prov.potential_lineage(_store(), potential_id)
    except StoreError as exc:
        abort(404, str(exc))
    return render_template("seilearn/potential.html", lin=lin, text=prov.format_potential_lineage(lin))
