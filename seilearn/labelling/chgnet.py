"""The local reference labeller: CHGNet (pretrained 0.3.0 model from the wheel, offline, CPU).

It stands in for DFT so the loop can run anywhere; its labels are those of a universal ML potential.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from ase import Atoms

from seilearn.labelling.base import Labeller, LabelResult

GPA_TO_EV_A3 = 1.0 / 160.21766208
_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        logging.getLogger("chgnet").setLevel(logging.WARNING)
        import contextlib
        import io

        from chgnet.model import CHGNet

        with contextlib.redirect_stdout(io.StringIO()):
            _MODEL = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    return _MODEL


class CHGNetLabeller(Labeller):
    name = "chgnet"

    # One structure per forward pass by default: on the 248-atom demo interface (CPU, one thread) a batch of 4 took
    # 10.3 s and 11 GB for 8 structures, one at a time 4.0 s and 3.3 GB (CHGNet's batched graphs grow super-linearly).
    def __init__(self, batch_size: int = 1, model: str = "0.3.0") -> None:
        self.batch_size = int(batch_size)
        self.model = model

    def settings(self) -> dict[str, Any]:
        import chgnet
        import torch

        return {"name": "chgnet", "model": f"CHGNet {self.model} (pretrained, offline)", "chgnet_version": chgnet.__version__,
                "torch_version": torch.__version__, "device": "cpu", "batch_size": self.batch_size,
                "stands_in_for": "DFT (PBE/PBE+U, Materials Project); not DFT"}

    def _label_batch(self, atoms_list: list[Atoms]) -> list[LabelResult]:
        from pymatgen.io.ase import AseAtomsAdaptor

        model = _model()
        structures = [AseAtomsAdaptor.get_structure(a) for a in atoms_list]
        preds = model.predict_structure(structures, task="efs", batch_size=self.batch_size)
        if isinstance(preds, dict):
            preds = [preds]
        out = []
        for atoms, p in zip(atoms_list, preds):
            energy = float(p["e"]) * len(atoms)
            # CHGNet's stress is in GPa with ASE's sign (checked against dE/dV in tests/labelling)
            stress_3x3 = np.asarray(p["s"]) * GPA_TO_EV_A3
            voigt = stress_3x3[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
            forces = np.asarray(p["f"], dtype=float)
            if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
                out.append(LabelResult(status="failed", reason="CHGNet returned non-finite values"))
                continue
            out.append(LabelResult(status="ok", energy=energy, forces=forces, stress=voigt))
        return out
