import numpy as np
import pytest

from seilearn.selection import build_active_set, grade_configurations
from tests.selection.helpers import frame_of_size, random_potential


@pytest.fixture(scope="session")
def pot():
    """Level-8 Li-P-S-Cl MTP with random, reproducible coefficients (5.0 A cutoff, min_dist 1.6 A)."""
    return random_potential(seed=1)


@pytest.fixture(scope="session")
def aset(pot):
    """An nbh active set of 24 small random frames (grades of real structures are then non-trivial)."""
    return build_active_set(pot, [frame_of_size(35, seed=s) for s in range(24)], "nbh")


def rattled_graded(atoms, pot, aset, seed=0, rattle=0.08):
    """``atoms`` rattled (so grades spread), graded in nbh mode."""
    atoms = atoms.copy()
    atoms.positions += np.random.default_rng(seed).normal(0.0, rattle, atoms.positions.shape)
    return grade_configurations(pot, aset, [atoms], mode="nbh")[0]


@pytest.fixture(scope="session")
def lpsc_frame(pot, aset):
    """Bulk Li6PS5Cl, 3x3x3 cells (1,404 atoms, 108 PS4 units), rattled and graded."""
    from seilearn.structures.phases import lpsc

    return rattled_graded(lpsc(n_patterns=1).repeat((3, 3, 3)), pot, aset)


@pytest.fixture(scope="session")
def model_one(pot, aset):
    """The model-I Li(110)/LPSC(110) interface (7,956 atoms), rattled and graded."""
    from seilearn.structures import build_interface

    return rattled_graded(build_interface(model="I"), pot, aset, seed=1)
