"""platescope.particles: detection, segmentation and measurement of particles.

SEM nanoparticle counting and sizing in an SECCM footprint (SCIENCE.md §2):
:func:`detect_particles`, :func:`footprint_from_sem`, :func:`particle_summary`.
"""

from platescope.particles._sem_particles import (
    detect_particles,
    footprint_from_sem,
    particle_summary,
)

__all__ = ["detect_particles", "footprint_from_sem", "particle_summary"]
