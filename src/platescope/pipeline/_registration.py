"""The movie stabilisation step shared by the movie scenarios (issue 13, item 3).

``[analysis.registration]``: bad frames (dark/dropped, saturated, blurred, intensity
outliers; :func:`platescope.optics.frame_quality`) are left out of every per-pixel map,
and stage drift is registered (:func:`platescope.optics.register_drift`) and undone
lazily before them. One call, :func:`stabilize_section_movie`, right after the movie is
read, in ``irm-galvanostatic``, ``irm-cv`` (via ``prepare_irm``'s caller) and
``see-through-au/ag``. Writes ``summary["registration"]``, ``tables/frame_quality.csv``,
``tables/registration_shifts.csv`` and the ``drift`` figure; warnings go to
``summary["warnings"]``.
"""

from __future__ import annotations

from platescope._params import Param
from platescope.pipeline._common import add_warning, analysis_params

__all__ = ["REGISTRATION_DEFAULTS", "stabilize_section_movie"]

#: ``[analysis.registration]`` parameters.
REGISTRATION_DEFAULTS = {
    "enabled": Param(
        False,
        bool,
        "register stage drift (phase correlation) and undo it before the per-pixel maps; "
        "off by default: on the simulated IRM texture a still movie's shifts are noise of "
        "~0.1–0.3 px (docs/validation.md)",
    ),
    "exclude_bad_frames": Param(
        True, bool, "leave dark, saturated, blurred and outlier frames out of the maps"
    ),
    "region": Param(
        "whole",
        str,
        "where to register: whole (frame, running reference) or auto (without the pixels "
        "that change between the first and last frames)",
        choices=("auto", "whole"),
    ),
    "region_um": Param(
        [], list, "a static part of the field [x0, x1, y0, y1] in µm (overrides region)"
    ),
    "min_shift_px": Param(
        0.25, float, "largest shift below which the movie is used as recorded, px", 0.0, 100.0
    ),
}


def stabilize_section_movie(movie, exp, out, summary: dict, *, return_frame_means: bool = False):
    """Run ``[analysis.registration]`` on a movie just read; return the movie to analyse.

    With ``return_frame_means``, also return the mean intensity of each frame of that
    movie when the frame-quality pass measured it on unshifted frames (else None), so
    that the synchronisation does not read the movie again for it.

    Parameters
    ----------
    movie : xarray.DataArray
        The movie as read (movie clock).
    exp : Experiment
        The experiment (its ``[analysis.registration]`` table).
    out : StagedOutput
        Where tables and the figure go.
    summary : dict
        The summary being built: gains ``registration`` and warnings.

    Returns
    -------
    xarray.DataArray
        The movie without its bad frames, drift-corrected when registration is on and
        found a shift (lazy); with ``return_frame_means``, a tuple (movie, mean counts
        per frame or None).
    """
    from platescope import optics, report

    p = summary["parameters"].setdefault(
        "registration", analysis_params(exp, "registration", REGISTRATION_DEFAULTS)
    )
    if not p["enabled"] and not p["exclude_bad_frames"]:
        summary["registration"] = {
            "enabled": False,
            "bad_frame_detection": False,
            "reason": "turned off in [analysis.registration]",
        }
        return (movie, None) if return_frame_means else movie
    region = list(p["region_um"]) if p["region_um"] else p["region"]
    res = optics.stabilize_movie(
        movie,
        register=bool(p["enabled"]),
        exclude_bad_frames=bool(p["exclude_bad_frames"]),
        region=region,
        min_shift_px=float(p["min_shift_px"]),
    )
    block = res["summary"]
    for w in block.pop("warnings"):
        add_warning(summary, w["code"], w["message"], "registration")
    out.table("frame_quality", res["quality"], title="Per-frame quality (bad frames excluded)")
    if res["shifts"] is not None:
        block["shifts_table"] = out.table(
            "registration_shifts",
            res["shifts"],
            title="Stage drift per frame (content displacement relative to the reference frame)",
        )
        out.figure(
            "drift",
            report.fig_drift(res["shifts"], quality=res["quality"]),
            title="Stage drift",
            caption="Content shift of every frame relative to the reference frame found by "
            "phase correlation (band: ± error estimate); excluded frames marked at 0.",
        )
    if not p["enabled"]:
        block["reason"] = "registration is off ([analysis.registration] enabled = false)"
    summary["registration"] = block
    if not return_frame_means:
        return res["movie"]
    q = res["quality"]
    means = None
    if not block.get("applied"):  # frames as read: their means are the quality pass's
        means = q["mean_counts"].to_numpy(float)[~q["bad"].to_numpy(bool)]
    return res["movie"], means
