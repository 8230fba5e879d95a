"""platescope.particles (see DESIGN.md §1)."""
