"""`make bench`: mix-tui measured against a bare-Textual floor, in fresh processes, medians of runs."""
