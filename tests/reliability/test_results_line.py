"""Finding 5 of issue 15: a campaign stopped at max_iterations printed a results folder that did not exist."""

from __future__ import annotations

from seilearn.workflows.run import results_line


def test_results_line_names_only_an_existing_folder(tmp_path):
    missing = tmp_path / "runs" / "c1"
    line = results_line({"state": "max_iterations"}, missing)
    assert str(missing) not in line and "no results folder" in line and "max_iterations" in line
    missing.mkdir(parents=True)
    assert results_line({"state": "done"}, missing) == f"[seilearn] results: {missing}"
    elsewhere = tmp_path / "results"
    elsewhere.mkdir()
    assert results_line({"state": "done", "results_dir": str(elsewhere)}, missing).endswith(str(elsewhere))
