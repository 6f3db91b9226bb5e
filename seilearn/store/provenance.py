"""Lineage of a training configuration, and of a potential back to its training set."""

from __future__ import annotations

from typing import Any

from seilearn.store.store import Store

_POT_FIELDS = {"_id": 0, "potential_id": 1, "campaign_id": 1, "iteration": 1, "stage": 1, "level": 1, "cutoff": 1,
               "species": 1, "n_train": 1, "metrics": 1, "parent_potential_id": 1, "files": 1, "created_at": 1,
               "fw_id": 1}


def configuration_lineage(store: Store, config_id: str) -> dict[str, Any]:
    """Everything known about where a configuration came from and where it went."""
    doc = store.get_configuration(config_id)
    structure = {k: v for k, v in doc["structure"].items() if k not in ("positions", "numbers", "symbols")}
    source = dict(doc.get("source", {}))
    lineage: dict[str, Any] = {
        "config_id": doc["config_id"], "hash": doc["hash"], "structure": structure, "source": source,
        "created_by": doc.get("created_by"), "created_at": doc.get("created_at"),
        "schema_version": doc.get("schema_version"),
    }
    run_id = source.get("exploration_run_id")
    if run_id:
        lineage["exploration_run"] = store.exploration_runs.find_one({"run_id": run_id}, {"_id": 0})
    for key in ("potential_id", "active_set_id"):
        pid = source.get(key)
        if pid:
            lineage[f"flagged_by_{key.removesuffix('_id')}"] = store.potentials.find_one({"potential_id": pid}, _POT_FIELDS)
    labels = []
    for lab in doc.get("labels", []):
        entry = {k: v for k, v in lab.items() if k != "forces"}
        entry["n_forces"] = len(lab.get("forces") or [])
        if lab.get("job_id"):
            entry["job"] = store.labelling_jobs.find_one({"job_id": lab["job_id"]}, {"_id": 0})
        labels.append(entry)
    lineage["labels"] = labels
    lineage["trained_in"] = list(store.potentials.find({"potential_id": {"$in": doc.get("trained_in", [])}}, _POT_FIELDS)
                                 .sort("created_at", 1))
    return lineage


def potential_lineage(store: Store, potential_id: str) -> dict[str, Any]:
    """A potential, its ancestry and its exact training set."""
    pot = store.get_potential(potential_id)
    ancestry = []
    parent = pot.get("parent_potential_id")
    while parent:
        p = store.potentials.find_one({"potential_id": parent}, _POT_FIELDS)
        if p is None:
            ancestry.append({"potential_id": parent, "missing": True})
            break
        ancestry.append(p)
        parent = p.get("parent_potential_id")
    by_source: dict[str, int] = {}
    ids = [t["config_id"] for t in pot.get("training_set", [])]
    for d in store.configurations.find({"config_id": {"$in": ids}}, {"source.kind": 1}):
        kind = d.get("source", {}).get("kind", "?")
        by_source[kind] = by_source.get(kind, 0) + 1
    return {"potential": pot, "ancestry": ancestry, "training_set_by_source": by_source}


def format_configuration_lineage(lin: dict[str, Any]) -> str:
    """Human-readable text of ``configuration_lineage``."""
    s = lin["structure"]
    src = lin["source"]
    lines = [f"configuration {lin['config_id']}  {s.get('formula')}  ({s.get('n_atoms')} atoms)  hash {lin['hash'][:16]}…",
             f"  stored {lin.get('created_at')}  by firework {lin.get('created_by', {}).get('fw_id')}"]
    lines.append(f"  source: {src.get('kind')}")
    for key in ("campaign_id", "seed_set", "seed_kind", "exploration_run_id", "md_step", "temperature_K",
                "pressure_bar", "stage", "threshold_save", "threshold_break", "grade", "potential_id",
                "active_set_id", "file"):
        if src.get(key) is not None:
            lines.append(f"    {key:<20} {src[key]}")
    cut = src.get("cut")
    if cut:  # a neighbourhood cut from a larger frame (seilearn.cutting)
        lines.append(f"  cut: {cut.get('mode')} of radius {cut.get('radius')} A around atom {cut.get('centre')} "
                     f"(grade {cut.get('grade', float('nan')):.4g}) of parent frame {str(cut.get('parent_hash'))[:16]}… (run "
                     f"{cut.get('exploration_run_id')}, step {cut.get('md_step')}); {cut.get('n_atoms')} atoms, "
                     f"{cut.get('n_core')} core, {cut.get('electrons')} electrons"
                     + (" (odd: spin-polarised)" if cut.get("odd_electrons") else ""))
        lines.append(f"    box {cut.get('box')}; parent index of every atom and the core atoms: --json")
    run = lin.get("exploration_run")
    if run:
        lines.append(f"  exploration run {run.get('run_id')}: status {run.get('status')}, "
                     f"{run.get('steps_done', '?')} steps, max grade {run.get('max_grade', '?')}")
    for key in ("flagged_by_potential", "flagged_by_active_set"):
        p = lin.get(key)
        if p:
            lines.append(f"  {key.replace('_', ' ')}: {p['potential_id']} (iteration {p.get('iteration')}, "
                         f"stage {p.get('stage')}, trained on {p.get('n_train')} configurations)")
    if not lin["labels"]:
        lines.append("  labels: none yet")
    for lab in lin["labels"]:
        who = lab.get("labeller", {})
        e = lab.get("energy")
        lines.append(f"  label {lab['label_id']}: {lab['status']}"
                     + (f", E = {e:.6f} eV" if isinstance(e, (int, float)) else "")
                     + f", labeller {who.get('name')}, job {lab.get('job_id')}, firework {lab.get('fw_id')}"
                     + (f", reason: {lab['reason']}" if lab.get("reason") else ""))
        task = lab.get("task_document")
        if task:  # atomate2-vasp: the TaskDoc the label was made from, in the JobStore on this server
            incar = task.get("incar") or {}
            fixes = [c.get("handler") for c in task.get("custodian_corrections") or []]
            lines.append(f"    task document {task.get('uuid')} in {(task.get('store') or {}).get('outputs')}: "
                         f"{task.get('state')}, ISPIN {incar.get('ISPIN')}, ENCUT {incar.get('ENCUT')}, "
                         f"custodian corrections: {', '.join(map(str, fixes)) or 'none'}"
                         + (f", attempts {', '.join(task['attempts'])}" if len(task.get("attempts") or []) > 1 else ""))
    if lin["trained_in"]:
        lines.append("  trained in: " + ", ".join(
            f"{p['potential_id']} (it {p.get('iteration')})" for p in lin["trained_in"]))
    else:
        lines.append("  trained in: no potential yet")
    return "\n".join(lines)


def format_potential_lineage(lin: dict[str, Any]) -> str:
    pot = lin["potential"]
    lines = [f"potential {pot['potential_id']}: level {pot.get('level')}, cutoff {pot.get('cutoff')}, "
             f"species {pot.get('species')}, iteration {pot.get('iteration')}, stage {pot.get('stage')}",
             f"  trained on {pot.get('n_train')} configurations: "
             + ", ".join(f"{k} {v}" for k, v in sorted(lin["training_set_by_source"].items())),
             f"  files: {', '.join(pot.get('files', {}))}"]
    if pot.get("metrics"):
        lines.append(f"  metrics: {pot['metrics']}")
    if lin["ancestry"]:
        lines.append("  ancestry: " + " <- ".join(a["potential_id"] for a in lin["ancestry"]))
    return "\n".join(lines)
