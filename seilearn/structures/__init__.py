"""Structures: Li6PS5Cl, Li metal, SEI phases, Li(110)/LPSC(110) interfaces and seed sets."""

from seilearn.structures.interface import build_interface, report
from seilearn.structures.phases import antifluorite_solid_solution, bulk, check_lpsc, li_bcc, lpsc
from seilearn.structures.seeds import seed_set
from seilearn.structures.validate import shortest_contacts, validate_structure

__all__ = ["antifluorite_solid_solution", "build_interface", "bulk", "check_lpsc", "li_bcc", "lpsc", "report",
           "seed_set", "shortest_contacts", "validate_structure"]
