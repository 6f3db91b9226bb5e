"""SEI analysis: reduced fraction, crystallinity, growth laws, stages, plots and classified export."""

from seilearn.analysis.crystallinity import crystalline_anions, crystalline_fraction
from seilearn.analysis.growth import fit_log, fit_power, stages
from seilearn.analysis.reduction import ps_counts, reduced_fraction
from seilearn.analysis.trajectory import analyze_frame, analyze_trajectory, frames, li_consumed

__all__ = ["analyze_frame", "analyze_trajectory", "crystalline_anions", "crystalline_fraction", "fit_log",
           "fit_power", "frames", "li_consumed", "ps_counts", "reduced_fraction", "stages"]
