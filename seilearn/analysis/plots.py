"""Figures in the style of the paper: alpha, c and amorphous vs log time (Fig. 2), crystallinity with
fits (Fig. 4), stage timeline; several runs overlaid. PNG and SVG, matplotlib Agg."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, outdir: Path, name: str) -> list[Path]:
    paths = [outdir / f"{name}.png", outdir / f"{name}.svg"]
    fig.savefig(paths[0], dpi=130, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def plot_run(rows: list[dict[str, Any]], fits: dict[str, Any], stg: dict[str, Any], outdir: Path,
             label: str) -> list[Path]:
    t = np.array([r["time_ps"] for r in rows])
    a = 100 * np.array([r["alpha"] for r in rows])
    c = 100 * np.array([r["c"] for r in rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    pos = t > 0
    ax1.plot(t[pos], a[pos], "o-", ms=3, label="reduced α")
    ax1.plot(t[pos], c[pos], "s-", ms=3, label="crystalline c")
    ax1.plot(t[pos], (a - c)[pos], "^-", ms=3, label="amorphous α − c")
    if "alpha" in fits and pos.any():
        f = fits["alpha"]
        tt = np.geomspace(t[pos].min(), t.max(), 100)
        ax1.plot(tt, 100 * (f["a"] + f["b"] * np.log(tt)), "k--", lw=1, label=f"a + b ln t (b = {100 * f['b']:.2f} %)")
    ax1.set_xscale("log")
    ax1.set_xlabel("time (ps)")
    ax1.set_ylabel("% of total possible reduction")
    ax1.set_title(f"{label}: reduction")
    for key, style, name in (("amorphous_layer_ps", ":", "amorphous layer"), ("nucleation_ps", "-.", "nucleation"),
                             ("amorphous_max_ps", (0, (5, 1)), "amorphous max"),
                             ("full_reduction_ps", "--", "full reduction")):
        if stg.get(key):
            ax1.axvline(stg[key], color="grey", ls=style, lw=0.8, label=f"{name} ({stg[key]:.3g} ps)")
    ax2.plot(t, c, "o", ms=3, label="crystalline c")
    for fit in fits.get("crystallinity", [])[:3]:
        if "k" in fit:
            tt = np.linspace(t.min(), t.max(), 200)
            ax2.plot(tt, 100 * fit["k"] * np.clip(tt - fit["t0"], 0, None) ** fit["n"],
                     label=f"{fit['law']} (n = {fit['n']:.2f}, AICc {fit['aicc']:.1f})")
    ax2.set_xlabel("time (ps)")
    ax2.set_ylabel("crystalline %")
    ax2.set_title("crystallinity and growth laws")
    ax2.set_ylim(bottom=0, top=max(1.0, 1.1 * float(c.max())))
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=8)
    return _save(fig, outdir, f"{label}_sei")


def overlay_runs(series: dict[str, str], out: Path) -> list[Path]:
    """Overlay the alpha and crystallinity series (CSV paths by run label) in one figure.

    ``out`` is a directory (writes overlay.png/.svg there) or a figure path ending in .png or .svg
    (writes both formats beside it).
    """
    out = Path(out)
    outdir, name = (out.parent, out.stem) if out.suffix in (".png", ".svg") else (out, "overlay")
    outdir.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for label, path in series.items():
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        t = np.array([float(r["time_ps"]) for r in rows])
        a = 100 * np.array([float(r["alpha"]) for r in rows])
        c = 100 * np.array([float(r["c"]) for r in rows])
        pos = t > 0
        ax1.plot(t[pos], a[pos], "-", label=label)
        ax2.plot(t, c, "-", label=label)
    ax1.set_xscale("log")
    ax1.set_xlabel("time (ps)")
    ax1.set_ylabel("reduced electrolyte (%)")
    ax2.set_xlabel("time (ps)")
    ax2.set_ylabel("crystalline (%)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    ax1.set_title("reduced fraction α")
    ax2.set_title("crystalline fraction c")
    return _save(fig, outdir, name)
