"""FireWorks workflows of seilearn: the active-learning campaign and the production campaign."""
