"""Growth laws and reaction stages of the SEI time series (the paper's analysis; docs/architecture.md).

alpha(t) = a + b ln t; crystallinity c(t) = k (t - t0)^n with n = 1/2, n = 1 and n free, ranked by AICc,
with 95 % confidence intervals from the fit covariance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize, stats


def _aicc(rss: float, n: int, k: int) -> float:
    if n - k - 1 <= 0 or rss <= 0:
        return float("inf") if rss > 0 else float("-inf")
    return n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _ci(pcov: np.ndarray, n: int, k: int) -> list[float]:
    t = stats.t.ppf(0.975, max(1, n - k))
    return (t * np.sqrt(np.clip(np.diag(pcov), 0, None))).tolist()


def fit_log(t: np.ndarray, alpha: np.ndarray) -> dict[str, Any]:
    """alpha = a + b ln t (t > 0)."""
    t, alpha = np.asarray(t, float), np.asarray(alpha, float)
    m = t > 0
    popt, pcov = optimize.curve_fit(lambda x, a, b: a + b * np.log(x), t[m], alpha[m])
    rss = float(np.sum((alpha[m] - popt[0] - popt[1] * np.log(t[m])) ** 2))
    return {"law": "a + b ln t", "a": float(popt[0]), "b": float(popt[1]), "ci95": _ci(pcov, int(m.sum()), 2),
            "rss": rss, "aicc": _aicc(rss, int(m.sum()), 2)}


def fit_power(t: np.ndarray, c: np.ndarray) -> list[dict[str, Any]]:
    """c = k (t - t0)^n for n = 1/2, 1 and free; sorted by AICc (best first)."""
    t, c = np.asarray(t, float), np.asarray(c, float)
    fits = []
    t0_guess = float(t[np.argmax(c > 0.1 * c.max())] if c.max() > 0 else t[0]) * 0.5
    for n_fixed in (0.5, 1.0, None):
        if n_fixed is None:
            def f(x, k, t0, n):
                return k * np.clip(x - t0, 0, None) ** n
            p0, k_par = [c.max() / max(t.max(), 1e-9), t0_guess, 0.7], 3
            bounds = ([0, -np.inf, 0.05], [np.inf, t.max(), 5])
        else:
            def f(x, k, t0, n=n_fixed):
                return k * np.clip(x - t0, 0, None) ** n
            p0, k_par = [c.max() / max(t.max(), 1e-9) ** n_fixed, t0_guess], 2
            bounds = ([0, -np.inf], [np.inf, t.max()])
        try:
            popt, pcov = optimize.curve_fit(f, t, c, p0=p0, bounds=bounds, maxfev=20000)
        except (RuntimeError, ValueError) as exc:
            fits.append({"law": f"k (t - t0)^{n_fixed or 'n'}", "error": str(exc), "aicc": float("inf")})
            continue
        rss = float(np.sum((c - f(t, *popt)) ** 2))
        fit = {"law": "k (t - t0)^n" if n_fixed is None else f"k (t - t0)^{n_fixed:g}", "k": float(popt[0]),
               "t0": float(popt[1]), "n": float(popt[2]) if n_fixed is None else n_fixed,
               "ci95": _ci(pcov, len(t), k_par), "rss": rss, "aicc": _aicc(rss, len(t), k_par)}
        fits.append(fit)
    return sorted(fits, key=lambda d: d["aicc"])


def stages(t: np.ndarray, alpha: np.ndarray, c: np.ndarray) -> dict[str, Any]:
    """Amorphous layer (alpha - c >= 1 %), nucleation (c >= 0.5 % for 3 frames), amorphous maximum,
    full reduction (alpha >= 0.99); None where not reached."""
    t, alpha, c = (np.asarray(x, float) for x in (t, alpha, c))
    amorph = alpha - c
    out: dict[str, Any] = {"amorphous_layer_ps": None, "nucleation_ps": None, "amorphous_max_ps": None,
                           "alpha_at_amorphous_max": None, "full_reduction_ps": None}
    hit = np.where(amorph >= 0.01)[0]
    if hit.size:
        out["amorphous_layer_ps"] = float(t[hit[0]])
    ok = c >= 0.005
    for i in range(len(t) - 2):
        if ok[i:i + 3].all():
            out["nucleation_ps"] = float(t[i])
            break
    if len(t):
        i = int(np.argmax(amorph))
        out["amorphous_max_ps"], out["alpha_at_amorphous_max"] = float(t[i]), float(alpha[i])
    full = np.where(alpha >= 0.99)[0]
    if full.size:
        out["full_reduction_ps"] = float(t[full[0]])
    return out
