"""Labelled configurations kept per process, keyed by label id.

The loop's train and select fireworks read the whole training set every iteration, and a rocket runs many
of them in one process. Labels are append-only and a label record never changes (docs/architecture.md), so
a label's structure and its energy, forces and stress can be kept once fetched: each firework then fetches
only the configurations labelled since. On the embedded server a full read of a 420-configuration training
set of 248-atom frames takes ~0.9 s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

MAX_ATOMS = 2_000_000  # ~100 MB of arrays; the oldest entries go first beyond it


@dataclass(frozen=True)
class _Labelled:
    config_id: str
    numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    energy: float
    forces: np.ndarray
    stress: np.ndarray | None

    def atoms(self, label_id: str) -> Atoms:
        """A fresh Atoms (callers may change it) with the label attached, as ``doc_to_atoms`` builds it."""
        atoms = Atoms(numbers=self.numbers, positions=self.positions, cell=self.cell, pbc=self.pbc)
        atoms.info["config_id"] = self.config_id
        atoms.calc = SinglePointCalculator(atoms, energy=self.energy, forces=self.forces.copy(),
                                           stress=None if self.stress is None else self.stress.copy())
        atoms.info["label_id"] = label_id
        return atoms


class LabelCache:
    """(configuration record ObjectId, label id) -> the labelled configuration's arrays, bounded by
    ``max_atoms``."""

    def __init__(self, max_atoms: int = MAX_ATOMS) -> None:
        self.max_atoms = max_atoms
        self._items: OrderedDict[tuple[str, str], _Labelled] = OrderedDict()
        self._atoms = 0

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._atoms = 0

    def get(self, wanted: Sequence[tuple[str, str, str]],
            fetch: Callable[[list[str]], Iterable[Mapping]]) -> list[Atoms]:
        """Atoms of the (config_id, label_id, record ObjectId) ``wanted`` in order; ``fetch(config_ids)`` yields
        the configuration records (``_id``, structure, labels) of those not kept yet. Raises KeyError naming a
        configuration and label it cannot find."""
        missing = sorted({c for c, lab, oid in wanted if (oid, lab) not in self._items})
        fetched: dict[tuple[str, str], _Labelled] = {}  # this call's, whatever the bound evicts meanwhile
        if missing:
            labels = {lab for _, lab, _ in wanted}
            for doc in fetch(missing):
                for lab in doc.get("labels", []):
                    if lab.get("status") == "ok" and lab["label_id"] in labels:
                        key = (str(doc["_id"]), lab["label_id"])
                        fetched[key] = self._put(key, doc, lab)
        out = []
        for config_id, label_id, oid in wanted:
            item = self._items.get((oid, label_id)) or fetched.get((oid, label_id))
            if item is None or item.config_id != config_id:
                raise KeyError(f"configuration {config_id} with ok label {label_id}")
            out.append(item.atoms(label_id))
        return out

    def _put(self, key: tuple[str, str], doc: Mapping, lab: Mapping) -> _Labelled:
        s = doc["structure"]
        item = _Labelled(config_id=doc["config_id"], numbers=np.asarray(s["numbers"], dtype=np.int64),
                         positions=np.asarray(s["positions"], dtype=float), cell=np.asarray(s["cell"], dtype=float),
                         pbc=np.asarray(s["pbc"], dtype=bool), energy=float(lab["energy"]),
                         forces=np.asarray(lab["forces"], dtype=float),
                         stress=None if lab.get("stress") is None else np.asarray(lab["stress"], dtype=float))
        if key not in self._items:
            self._atoms += len(item.numbers)
        self._items[key] = item
        while self._atoms > self.max_atoms and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._atoms -= len(old.numbers)
        return item


CACHE = LabelCache()
