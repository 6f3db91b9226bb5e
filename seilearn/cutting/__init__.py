"""Neighbourhood cutting: DFT-sized configurations around the extrapolative atoms of large frames
(between selection, which grades them, and labelling, which cannot take thousands of atoms)."""

from seilearn.cutting.cut import CutSettings, choose_centres, cut_neighbourhood, fitted_cut
from seilearn.cutting.frames import cut_frames, frame_grades
from seilearn.cutting.weights import CutWeights, apply_cut_weights

__all__ = ["CutSettings", "CutWeights", "apply_cut_weights", "choose_centres", "cut_frames", "cut_neighbourhood",
           "fitted_cut", "frame_grades"]
