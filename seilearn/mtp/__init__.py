"""Moment tensor potentials: files (.mtp, .cfg), level templates, evaluation, training."""
