import pytest

from tests.selection.helpers import random_frame, random_potential


@pytest.fixture(scope="session")
def pot4():
    """Level-8, 4-species (Li, P, S, Cl) MTP with random, reproducible coefficients (269 parameters)."""
    return random_potential(seed=1)


@pytest.fixture(scope="session")
def frames():
    """Twelve small rattled periodic frames (16 atoms each) with random species."""
    return [random_frame(1, seed=s, rattle=0.25) for s in range(12)]
