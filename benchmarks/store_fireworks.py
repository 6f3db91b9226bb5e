"""Orchestration cost on the embedded store: N add_wf and N rapidfire fireworks (one rocket process).

Compares seilearn's LaunchPad (atomic ids) with FireWorks' stock LaunchPad in the same run, as a
ratio. Usage: python benchmarks/store_fireworks.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from fireworks import Firework, LaunchPad, ScriptTask, Workflow
from fireworks.core.rocket_launcher import rapidfire

from seilearn.config import load_settings
from seilearn.store import server
from seilearn.store.launchpad import SeilearnLaunchPad


def measure(cls: type, uri: str, db: str, n: int, workdir: Path) -> tuple[float, float]:
    lp = cls(host=uri, name=db, uri_mode=True, strm_lvl="ERROR")
    lp.reset("", require_password=False)
    t0 = time.perf_counter()
    for i in range(n):
        lp.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name=f"fw{i}")]))
    t_add = time.perf_counter() - t0
    os.chdir(workdir)
    t0 = time.perf_counter()
    rapidfire(lp, nlaunches=0, sleep_time=0, strm_lvl="ERROR")
    t_run = time.perf_counter() - t0
    assert lp.fireworks.count_documents({"state": "COMPLETED"}) == n
    return t_add, t_run


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(home=Path(tmp) / "home")
        info = server.ensure_running(settings.db_path)
        try:
            rows = []
            for name, cls in (("seilearn", SeilearnLaunchPad), ("fireworks stock", LaunchPad)):
                wd = Path(tmp) / name.replace(" ", "_")
                wd.mkdir()
                rows.append((name, *measure(cls, info.uri, f"bench_{name[:4]}", n, wd)))
        finally:
            server.stop(settings.db_path)
    print(f"\n{n} fireworks on the embedded SecantusDB server (one process, 2-core machine)\n")
    print(f"{'LaunchPad':<18}{'add_wf total s':>16}{'ms/fw':>9}{'rapidfire s':>14}{'ms/fw':>9}")
    for name, t_add, t_run in rows:
        print(f"{name:<18}{t_add:>16.2f}{1e3 * t_add / n:>9.1f}{t_run:>14.2f}{1e3 * t_run / n:>9.1f}")
    ours, stock = rows
    print(f"{'ratio ours/stock':<18}{ours[1] / stock[1]:>16.2f}{'':>9}{ours[2] / stock[2]:>14.2f}")


if __name__ == "__main__":
    main()
