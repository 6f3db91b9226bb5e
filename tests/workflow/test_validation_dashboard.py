"""The dashboard's campaign page shows the ladder rungs, production runs, relearning episodes and the
validation on production frames (with its predicted-vs-reference force chart), from a real store."""

from __future__ import annotations

from seilearn.store import Store
from seilearn.web.app import create_app


def test_campaign_page_shows_ladder_relearning_and_validation(settings):
    store = Store.open(settings)
    store.record_campaign(
        "heal", state="done", stage=2, iteration=9,
        ladder=[{"rung": 1, "top_rung": 2, "steps": [1000], "conditions": ["interface-mini 400 K 1 bar"],
                 "n_selected": 3, "iterations": [7, 8], "last_decision": "next_rung"}],
        production_runs={"mini-400K-1bar-s1": {"status": "completed", "steps_done": 10000, "steps": 10000,
                                               "max_grade": 7.25, "timestep_fs": 1.0,
                                               "potentials": [{"potential_id": "heal-p009"},
                                                              {"potential_id": "heal-p010"}]}},
        relearn={"mini-400K-1bar-s1-r1": {"run": "mini-400K-1bar-s1", "episode": 1, "step": 3100, "grade": 12.5,
                                          "threshold_break": 10.0, "potential_id": "heal-p009", "n_selected": 5,
                                          "n_selected_production": 2, "new_potential_id": "heal-p010",
                                          "state": "resumed"}},
        validation={"state": "done", "n_frames": 11, "n_failed": 1, "labeller": "chgnet", "potential_id": "heal-p010",
                     "energy": {"rmse": 4.2, "max": 9.9, "unit": "meV/atom"},
                     "forces": {"rmse": 210.0, "max": 1500.0, "unit": "meV/A"},
                     "force_pairs": [[0.1, 0.12], [-0.5, -0.45], [1.0, 0.8]]})
    page = create_app(settings).test_client().get("/seilearn/campaign/heal").data.decode()
    assert 'id="ladder"' in page and "interface-mini 400 K 1 bar" in page and "next_rung" in page
    assert 'id="production"' in page and "heal-p009 → heal-p010" in page and "7.25" in page
    assert 'id="relearn"' in page and "12.50" in page and "resumed" in page
    assert "11 held-out frames labelled by chgnet" in page and "forces RMSE 210.0 meV/A (max 1500.0)" in page
    assert "1 failed to label and are excluded" in page and "RMSE 210 meV/Å" in page  # the chart's title
