"""platescope.pipeline (see DESIGN.md §1)."""
