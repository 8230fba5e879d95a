"""Electrochemistry analyses: galvanostatic nucleation features (more to come)."""

from platescope.echem._galvanostatic import galvanostatic_features, potential_noise_V

__all__ = ["galvanostatic_features", "potential_noise_V"]
