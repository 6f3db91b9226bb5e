"""Training-set statistics: counts by source kind, stage, composition and label status; energy and force ranges."""

from __future__ import annotations

from collections import Counter

import numpy as np

from seilearn.store.store import Store, latest_ok_label


def dataset_stats(store: Store, campaign_id: str | None = None) -> dict:
    """Counts and ranges over the configurations (of one campaign when ``campaign_id`` is given).

    Energy per atom and max |force| are taken from each configuration's latest ok label.
    """
    query = {"source.campaign_id": campaign_id} if campaign_id else {}
    proj = {"_id": 0, "source.kind": 1, "source.stage": 1, "structure.formula": 1, "structure.n_atoms": 1,
            "labels.status": 1, "labels.energy": 1, "labels.forces": 1, "trained_in": 1}
    kinds, stages, formulas, statuses = Counter(), Counter(), Counter(), Counter()
    e_atom, f_max = [], []
    n = n_labelled = n_trained = 0
    for doc in store.configurations.find(query, proj):
        n += 1
        src = doc.get("source") or {}
        kinds[str(src.get("kind", "—"))] += 1
        stages[str(src["stage"]) if src.get("stage") is not None else "—"] += 1
        formulas[(doc.get("structure") or {}).get("formula", "—")] += 1
        labels = doc.get("labels") or []
        for lab in labels:
            statuses[lab.get("status", "—")] += 1
        statuses["unlabelled"] += 0 if labels else 1
        n_trained += bool(doc.get("trained_in"))
        ok = latest_ok_label(doc)
        if ok is not None:
            n_labelled += 1
            e_atom.append(float(ok["energy"]) / doc["structure"]["n_atoms"])
            f = np.asarray(ok["forces"], dtype=float)
            f_max.append(float(np.linalg.norm(f, axis=1).max()) if f.size else 0.0)

    def rng(values):
        return {"min": min(values), "max": max(values), "mean": float(np.mean(values))} if values else None

    return {"campaign_id": campaign_id, "n_configurations": n, "n_labelled_ok": n_labelled, "n_trained": n_trained,
            "by_source_kind": dict(kinds), "by_stage": dict(stages), "by_formula": dict(formulas.most_common()),
            "by_label_status": {k: v for k, v in statuses.items() if v},
            "energy_per_atom_eV": rng(e_atom), "max_force_eV_A": rng(f_max)}


def format_stats(stats: dict) -> str:
    """A plain-text report of ``dataset_stats``."""
    lines = [f"configurations: {stats['n_configurations']}" + (f" (campaign {stats['campaign_id']})"
                                                              if stats["campaign_id"] else ""),
             f"labelled ok: {stats['n_labelled_ok']}   in a training set: {stats['n_trained']}"]
    for title, key in (("source kind", "by_source_kind"), ("stage", "by_stage"), ("label status", "by_label_status"),
                       ("composition", "by_formula")):
        items = stats[key]
        lines.append(f"{title}: " + (", ".join(f"{k}={v}" for k, v in items.items()) if items else "—"))
    for title, key, unit in (("energy per atom", "energy_per_atom_eV", "eV/atom"),
                             ("max |force|", "max_force_eV_A", "eV/A")):
        r = stats[key]
        lines.append(f"{title}: " + (f"{r['min']:.4f} .. {r['max']:.4f} {unit} (mean {r['mean']:.4f})" if r else "—"))
    return "\n".join(lines)
