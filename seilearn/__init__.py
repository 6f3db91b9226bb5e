"""seilearn: active learning of moment tensor potentials on FireWorks + MongoDB."""

__version__ = "0.1.0"
