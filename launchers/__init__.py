"""Rocket launchers: local parallel rockets, and queue submission with per-category caps (SLURM, PBS)."""
