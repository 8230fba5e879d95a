"""The npe2 sample-data contribution: a simulated experiment, analysed on the spot."""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["sample_irm_galvanostatic"]


def sample_irm_galvanostatic(*, seed: int = 0, folder=None) -> list[tuple]:
    """A short simulated IRM galvanostatic experiment (30 s), analysed; its layers.

    Simulates with :func:`platescope.simulate.simulate` (planted nucleation time and
    deposit), runs :func:`platescope.analyze`, and returns the result's layer data
    (movie, t_nuc map, SEM particle outlines). Takes about half a minute.

    Parameters
    ----------
    seed : int
        Simulation seed.
    folder : path, optional
        Where to write the input and results (default: a new temporary folder).
    """
    from platescope.pipeline import analyze
    from platescope.simulate import simulate
    from platescope.viewer._layers import layer_data

    root = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="platescope-"))
    exp = simulate("irm-galvanostatic", root / "input", seed=seed, overrides={"duration_s": 30.0})
    analyze(exp, root / "results")
    return layer_data(root / "results")
