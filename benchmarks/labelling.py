"""Benchmark: CHGNet labelling of the seed set (target: 500 configurations in < 10 minutes on 2 cores).

Run: .venv/bin/python benchmarks/labelling.py [--n 500] [--threads 2] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from seilearn.labelling import get_labeller
    from seilearn.structures.seeds import seed_set

    t0 = time.perf_counter()
    configs = seed_set(args.n, seed=args.seed)
    t_build = time.perf_counter() - t0
    labeller = get_labeller("chgnet", batch_size=args.batch_size)
    t0 = time.perf_counter()
    labeller.label(configs[:1])  # model load, not counted in the throughput
    t_load = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    results = labeller.label(configs)
    t_label, c_label = time.perf_counter() - t0, time.process_time() - c0
    n_ok = sum(r.ok for r in results)
    n_atoms = sum(len(a) for a in configs)
    target = 600.0
    print(f"{'quantity':32s} {'value':>12s}")
    print(f"{'configurations (ok)':32s} {len(configs):>7d} ({n_ok})")
    print(f"{'atoms in total':32s} {n_atoms:>12d}")
    print(f"{'threads / batch size':32s} {args.threads:>7d} / {args.batch_size}")
    print(f"{'seed-set build (s)':32s} {t_build:>12.1f}")
    print(f"{'model load + first label (s)':32s} {t_load:>12.1f}")
    print(f"{'labelling (s)':32s} {t_label:>12.1f}")
    print(f"{'labelling CPU time, all threads (s)':32s} {c_label:>12.1f}  (CPU/wall {c_label / t_label:.2f}; "
          f"below {args.threads} means the cores were shared)")
    print(f"{'per configuration (ms)':32s} {1000 * t_label / len(configs):>12.1f}")
    total = t_build + t_load + t_label
    print(f"{'build+load+label / 10-min target':32s} {total / target:>12.2f}  ({total:.0f} s vs {target:.0f} s)")


if __name__ == "__main__":
    main()
