"""Every speed benchmark as one table: ours beside motep 0.2.0 and MLIP-3's ``mlp`` (same run), with ratios.

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--json OUT.json] [--compare OLD.json] [--only NAME ...]``

Benchmarks: E+F (mtp_efs), whole commands (commands), selection (selection), training, retraining, and the
model-I grade/cut/explore benchmark (model_one) when present. Each runs in its own process (its threads,
memory and failures stay its own). A module that defines ``results(quick)`` (rows from benchmarks/table.py)
enters the table; one that does not yet is run as a script and its own output is kept in the JSON and
printed after the table. ``mlp`` is found as ``$SEILEARN_MLP`` or on PATH; without it that column is empty.

The JSON (default ``results/benchmarks-<commit>.json``) holds the commit, the machine and every row, for
comparison between commits: ``--compare OLD.json`` adds a column ours(now) / ours(then).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCHMARKS = ("mtp_efs", "commands", "selection", "training", "retraining", "model_one")
# script arguments of the --quick run for benchmarks without results(quick) (mlp train alone takes 5-15 min)
QUICK_ARGS = {"training": ["--max-iter", "30", "--motep-iter", "30", "--skip-mlp"]}
MARK = "@@run_all-json@@"


def _fmt(x, unit: str) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if unit == "x":
        return f"{x:.2f}x"
    if unit == "s":
        return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def _ratio(a, b) -> str:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return f"{a / b:.2f}"
    return "-"


def print_table(rows: list[dict], previous: dict[tuple[str, str], dict] | None = None, file=sys.stdout) -> None:
    """The table: ours, motep, ours/motep, mlp, ours/mlp (and ours/then with ``previous``)."""
    head = (f"{'group':<10} {'task':<52} {'unit':<8} {'ours':>10} {'motep':>18} {'ours/motep':>10} "
            f"{'mlp':>10} {'ours/mlp':>8}")
    if previous is not None:
        head += f" {'now/then':>8}"
    print(head, file=file)
    print("-" * len(head), file=file)
    for r in rows:
        u = r["unit"]
        line = (f"{r['group']:<10} {r['task'][:52]:<52} {u:<8} {_fmt(r['ours'], u):>10} {_fmt(r['motep'], u):>18} "
                f"{_ratio(r['ours'], r['motep']):>10} {_fmt(r['mlp'], u):>10} {_ratio(r['ours'], r['mlp']):>8}")
        if previous is not None:
            old = previous.get((r["group"], r["task"]))
            line += f" {_ratio(r['ours'], old['ours']) if old else '-':>8}"
        if r.get("note"):
            line += f"  {r['note']}"
        print(line, file=file)


def _child(name: str, quick: bool) -> None:
    """Run one benchmark in this process and print its rows as JSON after MARK."""
    import importlib

    module = importlib.import_module(f"benchmarks.{name}")
    rows = module.results(quick)
    print(MARK + json.dumps(rows))


def _run(name: str, quick: bool) -> dict:
    """{'rows': [...]} or {'text': ...} of one benchmark, plus its wall time and any error."""
    path = ROOT / "benchmarks" / f"{name}.py"
    if not path.exists():
        return {"missing": True}
    has_results = "def results(" in path.read_text()
    if has_results:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name] + (["--quick"] if quick else [])
    else:
        cmd = [sys.executable, str(path)] + (QUICK_ARGS.get(name, []) if quick else [])
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    out: dict = {"wall_s": time.perf_counter() - t, "returncode": proc.returncode}
    if proc.returncode != 0:
        out["error"] = (proc.stdout[-1500:] + proc.stderr[-1500:]).strip()
        return out
    if has_results:
        payload = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
        out["rows"] = json.loads(payload[-1][len(MARK):]) if payload else []
    else:
        out["text"] = proc.stdout.strip()
    return out


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return (proc.stdout.strip() or "unknown") + ("-dirty" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller runs (a few minutes)")
    ap.add_argument("--json", help="where to write the table (default results/benchmarks-<commit>.json)")
    ap.add_argument("--compare", help="an earlier run's JSON: add ours(now)/ours(then)")
    ap.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.quick)
        return
    from benchmarks.mlip3_cli import find_mlp

    commit = _git_commit()
    report = {"commit": commit, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "quick": args.quick, "mlp": find_mlp(),
              "machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()},
              "rows": [], "texts": {}, "benchmarks": {}}
    for name in args.only or BENCHMARKS:
        print(f"[run_all] {name} ...", file=sys.stderr, flush=True)
        res = _run(name, args.quick)
        report["benchmarks"][name] = {k: v for k, v in res.items() if k not in ("rows", "text")}
        if res.get("missing"):
            print(f"[run_all] {name}: benchmarks/{name}.py not present, skipped", file=sys.stderr)
            continue
        if "error" in res:
            print(f"[run_all] {name} failed:\n{res['error']}", file=sys.stderr)
            continue
        report["rows"].extend(res.get("rows", []))
        if "text" in res:
            report["texts"][name] = res["text"]
        print(f"[run_all] {name}: {res['wall_s']:.0f} s", file=sys.stderr, flush=True)
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    previous = None
    if args.compare:
        old = json.loads(Path(args.compare).read_text())
        previous = {(r["group"], r["task"]): r for r in old.get("rows", [])}
        print(f"compared with {args.compare} (commit {old.get('commit')})")
    mlp = report["mlp"] or "not found (set $SEILEARN_MLP or put mlp on PATH)"
    print(f"commit {commit}, {report['machine']['cpus']} cores, load {report['machine']['load_avg_at_start'][0]:.1f}"
          f" at start; mlp: {mlp}")
    print_table(report["rows"], previous)
    for name, text in report["texts"].items():
        print(f"\n== {name} (its own table: it does not define results(quick) yet)\n{text}")
    path = Path(args.json) if args.json else ROOT / "results" / f"benchmarks-{commit}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
