"""Labellers: CHGNet (local reference, stands in for DFT), VASP and GPAW, behind one protocol."""

from __future__ import annotations

from seilearn.errors import InputError
from seilearn.labelling.base import Labeller, LabelResult, mask_secrets

LABELLERS = ("chgnet", "vasp", "atomate2-vasp", "gpaw")


def get_labeller(name: str, **settings) -> Labeller:
    """A labeller by name (``chgnet``, ``vasp``, ``atomate2-vasp``, ``gpaw``) with its settings."""
    if name == "chgnet":
        from seilearn.labelling.chgnet import CHGNetLabeller

        return CHGNetLabeller(**settings)
    if name == "vasp":
        from seilearn.labelling.vasp import VaspLabeller

        return VaspLabeller(**settings)
    if name == "atomate2-vasp":
        from seilearn.labelling.atomate2_vasp import Atomate2VaspLabeller

        return Atomate2VaspLabeller(**settings)
    if name == "gpaw":
        from seilearn.labelling.gpaw import GPAWLabeller

        return GPAWLabeller(**settings)
    raise InputError(f"labeller {name!r} is not available (available: {', '.join(LABELLERS)})")


__all__ = ["LABELLERS", "LabelResult", "Labeller", "get_labeller", "mask_secrets"]
