"""platescope.optics (see DESIGN.md §1)."""
