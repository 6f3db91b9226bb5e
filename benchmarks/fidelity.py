"""Fidelity benchmark: does the campaign's MTP reproduce the reference labeller's chemistry?

From the same starting structure (the 248-atom mini Li(110)/LPSC(110) interface) and the same velocities,
the MTP and the reference labeller (CHGNet) each run NVT (Nose-Hoover chain) at the same temperature.
Printed side by side every ``--every`` steps: the reduced fraction alpha(t) of both runs, their
temperatures, and the MTP's force error along the *reference* trajectory (RMSE and max over atoms, meV/A)
and energy error (meV/atom). An overlay plot (fidelity.png/.svg) goes to ``--out``. The reference is
CHGNet; no pass/fail threshold: read the table.

Run: ``.venv/bin/python benchmarks/fidelity.py (--potential POT.mtp | --campaign NAME) [--steps 1000]``
CHGNet dominates the time: 9.8 s per step of the 248-atom interface was measured on 2 shared cores (load
10-30; the MTP took 54 ms), so the default 1 ps takes hours there; ``--steps 100`` gives a first look.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPECIES = ["Li", "P", "S", "Cl"]


def load_mtp(args: argparse.Namespace):
    """The MTP under test: a file, or a campaign's current potential from the store."""
    from seilearn.mtp.mtpfile import read_mtp
    from seilearn.mtp.potential import Potential

    if args.potential:
        text = Path(args.potential).read_text()
        species = args.species.split(",") if args.species else SPECIES
        return Potential(read_mtp(text), species=species), args.potential
    from seilearn.commands.potential import campaign_potential
    from seilearn.store import Store

    store = Store.open(must_exist=True)
    pot = campaign_potential(store, args.campaign)
    text = store.get_file(pot["files"]["mtp"]).decode()
    return Potential(read_mtp(text), species=list(pot["species"])), pot["potential_id"]


def run_nvt(atoms, calc, *, steps: int, every: int, temperature: float, timestep_fs: float) -> dict:
    """NVT from ``atoms`` (positions and velocities as given); frames, forces and energies every ``every``."""
    from ase import Atoms

    from seilearn.md.integrators import make_dynamics

    a = atoms.copy()
    a.calc = calc
    dyn = make_dynamics(a, "nvt", temperature, 1.0, timestep_fs)
    out = {"time_ps": [], "frames": [], "forces": [], "energy": [], "temperature": [], "stopped": None}

    def record() -> None:
        f = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=True)
        out["time_ps"].append(dyn.nsteps * timestep_fs / 1000.0)
        out["frames"].append(f)
        out["forces"].append(a.get_forces().copy())
        out["energy"].append(float(a.get_potential_energy()))
        out["temperature"].append(float(a.get_temperature()))

    t0 = time.perf_counter()
    record()
    done = 0
    while done < steps:
        try:
            dyn.run(every)
        except Exception as exc:  # a blow-up: the neighbour list refuses NaN positions
            out["stopped"] = f"step {done + every}: {exc}"
            break
        done += every
        if not np.all(np.isfinite(a.positions)) or not np.all(np.isfinite(a.get_forces())):
            out["stopped"] = f"non-finite state at step {done}"
            break
        record()
    out["wall_s"] = time.perf_counter() - t0
    out["steps"] = done
    return out


def alpha_series(frames) -> list[float]:
    from seilearn.analysis.reduction import ps_counts, reduced_fraction

    return [reduced_fraction(ps_counts(f)) for f in frames]


def errors_along(potential, ref: dict) -> tuple[list[float], list[float], list[float]]:
    """Force RMSE and max |dF| (meV/A) and energy error (meV/atom) of the MTP on the reference frames."""
    calc = potential.calculator()
    rmse, fmax, de = [], [], []
    for frame, f_ref, e_ref in zip(ref["frames"], ref["forces"], ref["energy"]):
        a = frame.copy()
        a.calc = calc
        d = a.get_forces() - f_ref
        rmse.append(1000 * float(np.sqrt(np.mean(d ** 2))))
        fmax.append(1000 * float(np.abs(d).max()))
        de.append(1000 * (float(a.get_potential_energy()) - e_ref) / len(a))
    return rmse, fmax, de


def plot(mtp: dict, ref: dict, a_mtp, a_ref, rmse, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(mtp["time_ps"], 100 * np.asarray(a_mtp), "-o", ms=3, label="MTP")
    ax1.plot(ref["time_ps"], 100 * np.asarray(a_ref), "-s", ms=3, label="CHGNet (reference)")
    ax1.set_xlabel("time (ps)")
    ax1.set_ylabel("reduced electrolyte α (%)")
    ax1.set_title("α(t), same start and velocities")
    ax1.legend(fontsize=8)
    ax2.plot(ref["time_ps"], rmse, "-o", ms=3, color="C3")
    ax2.set_xlabel("time (ps)")
    ax2.set_ylabel("MTP force RMSE (meV/Å)")
    ax2.set_title("MTP error along the reference trajectory")
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "fidelity.png", out / "fidelity.svg"]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--potential", help=".mtp file")
    which.add_argument("--campaign", help="use this campaign's current potential from the store")
    ap.add_argument("--species", help="species order of --potential (default Li,P,S,Cl)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=50, help="steps between compared frames")
    ap.add_argument("--temperature", type=float, default=400.0)
    ap.add_argument("--timestep", type=float, default=1.0, help="fs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="torch threads for CHGNet")
    ap.add_argument("--out", default="fidelity", help="directory for the plot and fidelity.json")
    args = ap.parse_args()

    import torch
    from chgnet.model.dynamics import CHGNetCalculator

    from seilearn.labelling.chgnet import _model
    from seilearn.md.integrators import init_velocities
    from seilearn.structures import build_interface

    torch.set_num_threads(args.threads)
    potential, name = load_mtp(args)
    start = build_interface(model="mini")
    init_velocities(start, args.temperature, args.seed)
    kw = dict(steps=args.steps, every=args.every, temperature=args.temperature, timestep_fs=args.timestep)
    mtp = run_nvt(start, potential.calculator(), **kw)
    ref = run_nvt(start, CHGNetCalculator(model=_model(), use_device="cpu"), **kw)
    a_mtp, a_ref = alpha_series(mtp["frames"]), alpha_series(ref["frames"])
    rmse, fmax, de = errors_along(potential, ref)
    de0 = [d - de[0] for d in de]  # energy error relative to the start (a constant offset is harmless)

    print(f"fidelity of {name} vs CHGNet: {len(start)} atoms, NVT {args.temperature:g} K, {args.timestep:g} fs, "
          f"{args.steps} steps, seed {args.seed}")
    print(f"{'t (ps)':>7} {'α MTP %':>8} {'α ref %':>8} {'T MTP':>7} {'T ref':>7} {'F rmse':>8} {'F max':>8} "
          f"{'dE-dE0':>8}   (errors of the MTP on the reference frames, meV/A and meV/atom)")
    for i, t in enumerate(ref["time_ps"]):
        am = f"{100 * a_mtp[i]:8.2f}" if i < len(a_mtp) else f"{'-':>8}"
        tm = f"{mtp['temperature'][i]:7.0f}" if i < len(a_mtp) else f"{'-':>7}"
        print(f"{t:7.3f} {am} {100 * a_ref[i]:8.2f} {tm} {ref['temperature'][i]:7.0f} {rmse[i]:8.1f} {fmax[i]:8.1f} "
              f"{de0[i]:8.2f}")
    for label, run in (("MTP", mtp), ("CHGNet", ref)):
        status = f"stopped: {run['stopped']}" if run["stopped"] else "completed"
        print(f"{label:<7} {run['steps']} steps in {run['wall_s']:.1f} s ({run['wall_s'] / max(run['steps'], 1) * 1000:.1f}"
              f" ms/step), {status}")
    print(f"force RMSE along the reference trajectory: mean {np.mean(rmse):.1f} meV/A, last {rmse[-1]:.1f} meV/A; "
          f"energy error drift {de0[-1]:+.2f} meV/atom; α at the end: MTP {100 * a_mtp[-1]:.2f} %, "
          f"CHGNet {100 * a_ref[-1]:.2f} %; speed ratio CHGNet/MTP "
          f"{(ref['wall_s'] / max(ref['steps'], 1)) / (mtp['wall_s'] / max(mtp['steps'], 1)):.0f}x")
    out = Path(args.out)
    paths = plot(mtp, ref, a_mtp, a_ref, rmse, out)
    (out / "fidelity.json").write_text(json.dumps({
        "potential": name, "time_ps": ref["time_ps"], "alpha_mtp": a_mtp, "alpha_ref": a_ref,
        "time_ps_mtp": mtp["time_ps"], "force_rmse_mev_a": rmse, "force_max_mev_a": fmax,
        "energy_error_mev_atom": de, "mtp_stopped": mtp["stopped"], "wall_s": {"mtp": mtp["wall_s"],
                                                                              "chgnet": ref["wall_s"]}}, indent=1))
    print("plot: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
