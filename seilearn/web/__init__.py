"""The web GUI: FireWorks' own pages plus the seilearn dashboard (a Flask blueprint under /seilearn/)."""
