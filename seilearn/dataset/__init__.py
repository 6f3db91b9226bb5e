"""Versioned training-set snapshots (export) and training-set statistics."""

from seilearn.dataset.export import export_dataset, resolve_potential, snapshot_atoms
from seilearn.dataset.stats import dataset_stats, format_stats

__all__ = ["export_dataset", "resolve_potential", "snapshot_atoms", "dataset_stats", "format_stats"]
