"""Writers of realistic minimal VASP outputs (vasprun.xml, OUTCAR, OSZICAR, vasp.out) for the tests,
and a mock VASP executable (``python fake_vasp.py``) that labels POSCAR with a Lennard-Jones toy model.

Mock behaviour, from environment variables: FAKE_VASP_UNCONVERGED_UNLESS=<ALGO> runs NELM SCF steps
without converging unless INCAR has that ALGO; FAKE_VASP_DIE_NATOMS=<n> dies half-way (truncated
vasprun.xml, exit 1) for cells of n atoms.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.units import GPa

MASS = {"Li": 6.941, "P": 30.974, "S": 32.066, "Cl": 35.453}
ZVAL = {"Li": 3.0, "P": 5.0, "S": 6.0, "Cl": 7.0}
POT = {"Li": "Li_sv", "P": "P", "S": "S", "Cl": "Cl"}


def _v(rows) -> str:
    return "\n".join("    <v>" + " ".join(f"{x:16.8f}" for x in row) + " </v>" for row in np.atleast_2d(rows))


def _structure(atoms: Atoms, name: str | None = None) -> str:
    head = f'  <structure name="{name}">' if name else "  <structure>"
    rec = np.linalg.inv(np.asarray(atoms.cell)).T
    return (f"{head}\n   <crystal>\n   <varray name=\"basis\">\n{_v(atoms.cell)}\n   </varray>\n"
            f"   <i name=\"volume\">{atoms.get_volume():16.8f} </i>\n   <varray name=\"rec_basis\">\n{_v(rec)}\n"
            f"   </varray>\n   </crystal>\n   <varray name=\"positions\">\n{_v(atoms.get_scaled_positions())}\n"
            f"   </varray>\n  </structure>")


def _energy(e: float, tag: str = "energy") -> str:
    return (f"   <{tag}>\n    <i name=\"e_fr_energy\"> {e:16.8f} </i>\n    <i name=\"e_wo_entrp\"> {e:16.8f} </i>\n"
            f"    <i name=\"e_0_energy\"> {e:16.8f} </i>\n   </{tag}>")


def vasprun_xml(atoms: Atoms, energy: float, forces: np.ndarray, stress_ase: np.ndarray, incar: dict,
                n_scf: int = 12) -> str:
    """vasprun.xml text of a static run; ``stress_ase`` (ASE Voigt, eV/A^3) is written in VASP's kBar/sign."""
    symbols = atoms.get_chemical_symbols()
    types = list(dict.fromkeys(symbols))
    s = np.asarray(stress_ase, dtype=float)
    full = np.array([[s[0], s[5], s[4]], [s[5], s[1], s[3]], [s[4], s[3], s[2]]])
    kbar = -full / (0.1 * GPa)
    nelm = int(incar.get("NELM", 60))
    incar_xml = "\n".join(f'  <i name="{k}">{v}</i>' if not isinstance(v, str)
                          else f'  <i type="string" name="{k}">{v}</i>' for k, v in incar.items())
    rows_atoms = "\n".join(f"    <rc><c>{el:2s}</c><c>{types.index(el) + 1:4d}</c></rc>" for el in symbols)
    rows_types = "\n".join(f"    <rc><c>{symbols.count(el):4d}</c><c>{el:2s}</c><c>{MASS[el]:16.8f}</c>"
                           f"<c>{ZVAL[el]:16.8f}</c><c>  PAW_PBE {POT[el]} 06Sep2000</c></rc>" for el in types)
    scf = "\n".join(f"  <scstep>\n{_energy(energy + 10.0 ** (-i))}\n  </scstep>" for i in range(n_scf))
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<modeling>
 <generator>
  <i name="program" type="string">vasp </i>
  <i name="version" type="string">6.4.2  </i>
  <i name="subversion" type="string">20Jul23 (build Jan 01 2024) complex  serial </i>
  <i name="platform" type="string">LinuxGNU </i>
  <i name="date" type="string">2024 01 01 </i>
  <i name="time" type="string">00:00:00 </i>
 </generator>
 <incar>
{incar_xml}
 </incar>
 <kpoints>
  <generation param="Gamma">
   <v type="int" name="divisions">       1        1        1 </v>
   <v name="usershift">      0.00000000       0.00000000       0.00000000 </v>
   <v name="genvec1">      1.00000000       0.00000000       0.00000000 </v>
   <v name="genvec2">      0.00000000       1.00000000       0.00000000 </v>
   <v name="genvec3">      0.00000000       0.00000000       1.00000000 </v>
   <v name="shift">      0.00000000       0.00000000       0.00000000 </v>
  </generation>
  <varray name="kpointlist">
   <v>       0.00000000       0.00000000       0.00000000 </v>
  </varray>
  <varray name="weights">
   <v>       1.00000000 </v>
  </varray>
 </kpoints>
 <parameters>
  <separator name="electronic">
   <i type="string" name="PREC">accurate</i>
   <i name="ENCUT">    {float(incar.get('ENCUT', 680)):.8f}</i>
   <i name="NELECT">     {sum(ZVAL[e] for e in symbols):.8f}</i>
   <i type="int" name="ISPIN">     1</i>
   <separator name="electronic convergence">
    <i type="int" name="NELM">   {nelm}</i>
    <i name="EDIFF">      0.00001000</i>
   </separator>
  </separator>
  <separator name="ionic">
   <i type="int" name="NSW">     0</i>
   <i type="int" name="IBRION">    -1</i>
  </separator>
 </parameters>
 <atominfo>
  <atoms>{len(atoms)}</atoms>
  <types>{len(types)}</types>
  <array name="atoms">
   <dimension dim="1">ion</dimension>
   <field type="string">element</field>
   <field type="int">atomtype</field>
   <set>
{rows_atoms}
   </set>
  </array>
  <array name="atomtypes">
   <dimension dim="1">type</dimension>
   <field type="int">atomspertype</field>
   <field type="string">element</field>
   <field>mass</field>
   <field>valence</field>
   <field type="string">pseudopotential</field>
   <set>
{rows_types}
   </set>
  </array>
 </atominfo>
{_structure(atoms, "initialpos")}
 <calculation>
{scf}
{_structure(atoms)}
  <varray name="forces" >
{_v(forces)}
  </varray>
  <varray name="stress" >
{_v(kbar)}
  </varray>
{_energy(energy, "energy")}
 </calculation>
{_structure(atoms, "finalpos")}
</modeling>
"""


def outcar(atoms: Atoms, energy: float, elapsed: float = 12.5) -> str:
    return (f" vasp.6.4.2 20Jul23 (build Jan 01 2024) complex\n\n POSCAR = {atoms.get_chemical_formula()}\n\n"
            f"   k-points           NKPTS =      1   k-points in BZ     NKDIM =      1   number of bands    NBANDS=     16\n"
            f"   number of dos      NEDOS =    301   number of ions     NIONS = {len(atoms):6d}\n"
            f"   total plane-waves  NPLWV =  32768\n\n   IBRION =     -1    ionic relax: 0-MD 1-quasi-New 2-CG\n"
            f"   LNONCOLLINEAR =      F non collinear calculations\n\n"
            f"  free  energy   TOTEN  =     {energy:16.8f} eV\n\n"
            f"  energy  without entropy=     {energy:16.8f}  energy(sigma->0) =     {energy:16.8f}\n\n"
            f" General timing and accounting informations for this job:\n"
            f" ========================================================\n\n"
            f"                  Total CPU time used (sec):       {elapsed:10.3f}\n"
            f"                            User time (sec):       {elapsed:10.3f}\n"
            f"                          System time (sec):        0.100\n"
            f"                         Elapsed time (sec):       {elapsed:10.3f}\n")


def _toy(atoms: Atoms):
    from ase.calculators.lj import LennardJones

    a = atoms.copy()
    a.calc = LennardJones(sigma=2.2, epsilon=0.05, rc=6.0, smooth=True)
    return a.get_potential_energy(), a.get_forces(), a.get_stress()


def read_incar(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("#")[0].split("=", 1)
            v = v.strip()
            try:
                out[k.strip().upper()] = int(v)
            except ValueError:
                try:
                    out[k.strip().upper()] = float(v)
                except ValueError:
                    out[k.strip().upper()] = v
    return out


def main() -> int:
    """Mock VASP: label ./POSCAR with the toy model, write vasprun.xml, OUTCAR, OSZICAR."""
    from ase.io import read

    atoms = read("POSCAR", format="vasp")
    incar = read_incar(Path("INCAR"))
    energy, forces, stress = _toy(atoms)
    nelm = int(incar.get("NELM", 60))
    need = os.environ.get("FAKE_VASP_UNCONVERGED_UNLESS")
    n_scf = nelm if need and str(incar.get("ALGO", "Normal")).lower() != need.lower() else 12
    print(" running on    1 total cores\n POSCAR found :  entries")
    text = vasprun_xml(atoms, energy, forces, stress, incar, n_scf=n_scf)
    if os.environ.get("FAKE_VASP_DIE_NATOMS") == str(len(atoms)):
        Path("vasprun.xml").write_text(text[: len(text) // 2])
        print(" BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES", file=sys.stderr)
        return 1
    Path("vasprun.xml").write_text(text)
    Path("OUTCAR").write_text(outcar(atoms, energy))
    Path("OSZICAR").write_text("".join(f"DAV: {i + 1:4d}    {energy:.8E}   -0.1E-03   -0.1E-03   100   0.1E-01\n"
                                       for i in range(n_scf)) + f"   1 F= {energy:.8E} E0= {energy:.8E}  d E =0.0\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
