"""D-optimality (MaxVol) selection: active sets, extrapolation grades, select_add, threshold schedule."""

from seilearn.selection.active_set import ActiveSet, build_active_set, update_active_set
from seilearn.selection.features import SelectionWeights
from seilearn.selection.grading import grade_configurations
from seilearn.selection.maxvol import MaxVolState, grades, maxvol
from seilearn.selection.schedule import ThresholdSchedule
from seilearn.selection.select_add import select_add

__all__ = ["ActiveSet", "MaxVolState", "SelectionWeights", "ThresholdSchedule", "build_active_set", "grades",
           "grade_configurations", "maxvol", "select_add",
           "update_active_set"]
