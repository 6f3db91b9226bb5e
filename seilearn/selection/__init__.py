"""D-optimality (MaxVol) selection: active sets, extrapolation grades, select_add, threshold schedule."""

from seilearn.selection.active_set import ActiveSet, build_active_set
from seilearn.selection.maxvol import MaxVolState, grades, maxvol
from seilearn.selection.select_add import select_add

__all__ = ["ActiveSet", "MaxVolState", "build_active_set", "grades", "maxvol", "select_add"]
