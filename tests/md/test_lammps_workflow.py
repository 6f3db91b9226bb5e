"""The tiny end-to-end campaign with ``engine: lammps`` (the stand-in) for explorations and production: the
fireworks write the MLIP-3 decks, run them, ingest preselected.cfg, and the production dump goes through the
analysis. pair_style mlip itself never runs here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from seilearn.store import Store, get_launchpad
from seilearn.workflows.campaign import status
from seilearn.workflows.run import run_campaign

TINY = Path(__file__).parents[1] / "workflow" / "tiny_campaign.yaml"


@pytest.mark.slow
def test_tiny_campaign_on_the_lammps_stand_in(settings, tmp_path, capsys):
    spec = yaml.safe_load(TINY.read_text())
    spec["name"] = "tiny-lammps"
    for task in spec["exploration"]:
        task.update(engine="lammps", lammps_command="stand-in")
    spec["production"].update(engine="lammps", lammps_command="stand-in")
    path = tmp_path / "tiny_lammps.yaml"
    path.write_text(yaml.safe_dump(spec))
    rc = run_campaign(path, rockets=2, poll_s=1.0)
    doc = status(settings, "tiny-lammps")
    out = capsys.readouterr().out
    assert rc == 0, (out[-3000:], doc.get("fireworks"))
    store = Store.open(settings)
    runs = list(store.exploration_runs.find({"campaign_id": "tiny-lammps"}))
    assert runs and all(r["engine"] == "lammps" and r["lammps_command"] == "stand-in" for r in runs)
    assert all(r["status"] in ("completed", "stopped_at_break") for r in runs)
    assert any(r["status"] == "stopped_at_break" and r["n_preselected"] for r in runs)
    for r in runs:  # every run directory holds the cluster deck, untouched
        deck = (Path(r["lammps_dir"]) / "in.lammps").read_text()
        assert "pair_style mlip load_from=pot.almtp extrapolation_control=true" in deck
    prod = doc["production_runs"]["mini-300K-1bar-s1"]
    assert prod["status"] == "completed" and prod["engine"] == "lammps"
    assert prod["trajectory_format"] == "lammps-dump" and prod["trajectory"].endswith("dump.lammpstrj")
    assert prod["analysis"]["frames"] == 5 and prod["analysis"]["final"]["time_ps"] == pytest.approx(0.04)
    assert get_launchpad(settings).fireworks.count_documents({"state": "FIZZLED"}) == 0
