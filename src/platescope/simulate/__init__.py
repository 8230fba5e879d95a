"""platescope.simulate (see DESIGN.md §1)."""
