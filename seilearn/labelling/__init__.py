"""Labellers: CHGNet (local reference, stands in for DFT), VASP and GPAW, behind one protocol."""

from __future__ import annotations

from seilearn.errors import InputError
from seilearn.labelling.base import LabelResult, Labeller


def get_labeller(name: str, **settings) -> Labeller:
    """A labeller by name with its settings."""
    if name == "chgnet":
        from seilearn.labelling.chgnet import CHGNetLabeller

        return CHGNetLabeller(**settings)
    raise InputError(f"labeller {name!r} is not available here (available: chgnet)")


__all__ = ["LabelResult", "Labeller", "get_labeller"]
