"""platescope.stats (see DESIGN.md §1)."""
