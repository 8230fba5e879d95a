"""platescope.report (see DESIGN.md §1)."""
