"""Molecular dynamics: grade-monitored exploration and checkpointed production (ASE integrators),
and LAMMPS input decks for clusters."""
