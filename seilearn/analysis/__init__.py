"""SEI analysis: reduced fraction, crystallinity, growth laws, stages and plots."""

from seilearn.analysis.trajectory import analyze_trajectory

__all__ = ["analyze_trajectory"]
