"""The seilearn dashboard: campaigns, threshold stages, training-set growth, grades, selections,
potentials and the provenance of every configuration. Server-rendered; no JavaScript build step."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for

from seilearn.errors import StoreError
from seilearn.store import provenance as prov
from seilearn.web import queries as q
from seilearn.web.charts import growth_chart, histogram, selection_chart

bp = Blueprint("seilearn", __name__, template_folder="templates", url_prefix="/seilearn")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _store():
    return current_app.config["SEILEARN_STORE"]


@bp.route("/")
def index():
    store = _store()
    campaigns = list(store.campaigns.find({}, {"_id": 0, "campaign_id": 1, "state": 1, "stage": 1, "iteration": 1,
                                               "thresholds": 1, "spec.thresholds": 1, "updated_at": 1})
                     .sort("updated_at", -1))
    for c in campaigns:
        c["break"] = q.current_break(c)
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
    rows = q.iteration_rows(doc, q.labelling_by_iteration(store, campaign_id))
    its = [r["iteration"] for r in rows]
    growth = growth_chart(its, [r["n_train"] or 0 for r in rows], [r["n_selected"] or 0 for r in rows]) if rows else ""
    sel_svg = selection_chart(its, [r["n_selected"] or 0 for r in rows], [r["n_labelled"] or 0 for r in rows],
                              [r["n_failed"] or 0 for r in rows]) if rows else ""
    last_it, grades, runs = q.last_exploration_grades(store, campaign_id)
    th = q.thresholds(doc)
    brk = q.current_break(doc)
    hist_svg = histogram(grades, th.get("save"), brk, f"grades of iteration {last_it}") if runs else ""
    val = doc.get("validation") or {}
    val_svg = force_scatter(val["force_pairs"], val) if val.get("force_pairs") else ""
    return render_template("seilearn/campaign.html", c=doc, rows=rows, growth=growth, sel_svg=sel_svg,
                           hist_svg=hist_svg, n_grades=len(grades), last_it=last_it, runs=runs[:20],
                           pots=q.potential_rows(store, campaign_id), brk=brk, th=th,
                           n_stages=len(th.get("breaks") or []) or None, plots=q.production_plots(doc),
                           ladder=q.ladder_rows(doc), production=q.production_rows(doc),
                           relearn=q.relearn_rows(doc), val=val, val_svg=val_svg)


def force_scatter(pairs: list[list[float]], val: dict) -> str:
    """Predicted vs reference force components on the held-out production frames (inline SVG)."""
    import matplotlib.pyplot as plt

    from seilearn.web.charts import _svg

    ref, pred = zip(*pairs)
    lim = max(max(map(abs, ref)), max(map(abs, pred)), 0.1)
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot(ref, pred, ".", ms=2, alpha=0.5)
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.8)
    ax.set_xlabel("reference force component (eV/Å)")
    ax.set_ylabel("MTP force component (eV/Å)")
    rmse = (val.get("forces") or {}).get("rmse")
    ax.set_title(f"{val.get('n_frames')} production frames" + (f", RMSE {rmse:.0f} meV/Å" if rmse else ""),
                 fontsize=9)
    return _svg(fig)


@bp.route("/plot")
def plot():
    path = request.args.get("path", "")
    allowed = {p for c in _store().campaigns.find({}, {"production_plots": 1, "results_dir": 1})
               for p in q.production_plots(c)}
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
