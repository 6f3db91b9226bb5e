"""Small server-side charts for the dashboard: matplotlib (Agg) to inline SVG, no JavaScript."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]


def growth_chart(iterations: Sequence[int], n_train: Sequence[float], n_selected: Sequence[float]) -> str:
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.plot(iterations, n_train, "o-", label="training set")
    ax.bar(iterations, n_selected, alpha=0.4, color="tab:orange", label="selected this iteration")
    ax.set_xlabel("iteration")
    ax.set_ylabel("configurations")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return _svg(fig)


def histogram(values: Sequence[float], save: float | None, brk: float | None, title: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 2.8))
    if len(values):
        ax.hist(values, bins=30, color="tab:blue", alpha=0.7)
    for x, label, c in ((save, "save", "tab:green"), (brk, "break", "tab:red")):
        if x is not None:
            ax.axvline(x, color=c, ls="--", label=f"{label} {x}")
    ax.set_xlabel("extrapolation grade γ")
    ax.set_ylabel("frames")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return _svg(fig)


def selection_chart(iterations: Sequence[int], selected: Sequence[float], labelled: Sequence[float],
                    failed: Sequence[float]) -> str:
    """Grouped bars per iteration: selected, labelled ok, failed."""
    import numpy as np

    x = np.arange(len(iterations))
    fig, ax = plt.subplots(figsize=(6, 2.8))
    for k, (vals, label, c) in enumerate(((selected, "selected", "tab:orange"), (labelled, "labelled", "tab:green"),
                                          (failed, "failed", "tab:red"))):
        ax.bar(x + (k - 1) * 0.27, vals, width=0.27, label=label, color=c)
    ax.set_xticks(x, [str(i) for i in iterations])
    ax.set_xlabel("iteration")
    ax.set_ylabel("configurations")
    ax.legend(fontsize=8)
    return _svg(fig)
