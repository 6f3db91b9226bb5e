"""GPAW labeller on one small cell (slow; skipped where GPAW is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from seilearn.labelling.gpaw import gpaw_available

pytestmark = pytest.mark.slow


@pytest.mark.skipif(gpaw_available() is not None, reason=f"{gpaw_available()}; install recipe in seilearn/labelling/gpaw.py")
def test_gpaw_labels_bcc_li(tmp_path):
    from seilearn.labelling import get_labeller

    lab = get_labeller("gpaw", workdir=tmp_path, ecut=300, kpt_density=2.0)
    r = lab.label([bulk("Li", "bcc", a=3.44, cubic=True)])[0]
    assert r.ok and np.isfinite(r.energy) and np.abs(r.forces).max() < 0.05
    assert abs(-np.mean(r.stress[:3]) * 160.2) < 5.0  # GPa, near the PBE equilibrium volume
