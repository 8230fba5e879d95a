"""The movie stabilisation step shared by the movie scenarios (issue 13, item 3).

``[analysis.registration]``: bad frames (dark/dropped, saturated, blurred, intensity
outliers; :func:`platescope.optics.frame_quality`) are left out of every per-pixel map,
and stage drift is registered (:func:`platescope.optics.register_drift`) and undone
lazily before them. One call, :func:`stabilize_section_movie`, right after the movie is
read, in ``irm-galvanostatic``, ``irm-cv`` (via ``prepare_irm``'s caller),
``see-through-au/ag``, ``dendrite-cycling`` and ``top-view-nucleation`` (per run). Writes ``summary["registration"]``, ``tables/frame_quality.csv``,
``tables/registration_shifts.csv`` and the ``drift`` figure; warnings go to
``summary["warnings"]``. Registration is on by default in every movie scenario but
``top-view-nucleation`` (each scenario's table: :func:`registration_defaults`).
"""

from __future__ import annotations

from collections.abc import Mapping

from platescope._params import Param
from platescope.pipeline._common import add_warning, analysis_params

__all__ = ["REGISTRATION_DEFAULTS", "registration_defaults", "stabilize_section_movie"]

#: ``[analysis.registration]`` parameters (registration off: ``top-view-nucleation``'s
#: table; the other movie scenarios turn it on with :func:`registration_defaults`).
REGISTRATION_DEFAULTS = {
    "enabled": Param(
        False,
        bool,
        "register stage drift (cross-correlation + robust Lucas–Kanade against a static "
        "reference, the changing pixels masked) and undo it before the per-pixel maps. "
        "Off here: on top-view-nucleation the static reference is 0.1–1.6 px off under "
        "a 0.15–0.27 px estimate (nuclei all over the field escape the change mask) and "
        "only the running-vs-fixed check refuses it (docs/registration.md)",
    ),
    "exclude_bad_frames": Param(
        True, bool, "leave dark, saturated, blurred and outlier frames out of the maps"
    ),
    "region": Param(
        "whole",
        str,
        "where to register: whole (frame, running reference) or auto (without the pixels "
        "that change between the first and last frames; see-through: the band of the "
        "field that never changes)",
        choices=("auto", "whole"),
    ),
    "region_um": Param(
        [], list, "a static part of the field [x0, x1, y0, y1] in µm (overrides region)"
    ),
    "min_shift_px": Param(
        0.25, float, "largest shift below which the movie is used as recorded, px", 0.0, 100.0
    ),
}


def registration_defaults(*, region: str = "whole", why: str = "", enabled: bool = True) -> dict:
    """``[analysis.registration]`` of one scenario (a copy of
    :data:`REGISTRATION_DEFAULTS`): registration **on** by default where the validation
    says it is safe and worth its CPU (``enabled``); ``region`` its default region,
    ``why`` a sentence for the parameter's help."""
    import dataclasses

    table = dict(REGISTRATION_DEFAULTS)
    table["enabled"] = dataclasses.replace(
        table["enabled"],
        default=bool(enabled),
        doc="register stage drift (a drift screen in the frame-quality pass; when it "
        "cannot vouch for a still stage, cross-correlation + robust Lucas–Kanade against "
        "a static reference, the changing pixels masked) and undo it before the "
        "per-pixel maps; a shift is applied only when the motion is significant, so a "
        "still movie is analysed as recorded; a movie read from disk and too large to "
        "keep in memory is registered only when enabled = true is written (else a "
        f"registration-skipped warning){'. ' + why if why else ''} "
        "(docs/registration.md)",
    )
    table["region"] = dataclasses.replace(table["region"], default=region)
    return table


def stabilize_section_movie(
    movie,
    exp,
    out,
    summary: dict,
    *,
    name: str | None = None,
    return_frame_means: bool = False,
    find_region=None,
    uncertain_hint: str | None = None,
    defaults: dict | None = None,
):
    """Run ``[analysis.registration]`` on a movie just read; return the movie to analyse.

    A scenario with one movie calls it once (``summary["registration"]`` is that
    movie's block); a scenario with several movies (``top-view-nucleation``: one per
    ``[[plating]]`` run) calls it per movie with a ``name``: the block goes to
    ``summary["registration"]["movies"][name]``, the tables and figure get the suffix
    ``_<name>`` and the warnings name the movie.

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
    name : str, optional
        The movie's name when the experiment has several (e.g. ``"run2"``).
    find_region : callable, optional
        With ``region = "auto"`` and no ``region_um``: ``find_region(movie, exclude)``
        (``exclude``: the bad frames) → a dict with ``region_um`` (a static part of the
        field in µm, or None) and ``reason``, called only when the full registration
        runs (not when the drift screen finds the movie still); a region found is
        registered on; none found: not registered unless ``enabled = true`` is written
        in the experiment file (then the whole field is tried, and a refusal warns) (see-through: the band that never changes,
        :func:`platescope.optics.find_static_region`), recorded as
        ``registration.static_region``.
    uncertain_hint : str, optional
        A sentence appended to the ``registration-uncertain`` warning (how to fix it in
        this kind of movie).
    defaults : dict, optional
        The scenario's ``[analysis.registration]`` table (default
        :data:`REGISTRATION_DEFAULTS`; see :func:`registration_defaults`).

    Returns
    -------
    xarray.DataArray
        The movie without its bad frames, drift-corrected when registration is on and
        found a shift (lazy); with ``return_frame_means``, a tuple (movie, mean counts
        per frame or None).
    """
    from platescope import optics, report

    p = summary["parameters"].setdefault(
        "registration", analysis_params(exp, "registration", defaults or REGISTRATION_DEFAULTS)
    )
    sfx = f"_{name}" if name else ""
    where = f"registration.movies.{name}" if name else "registration"

    def store(block):
        if name:
            summary.setdefault("registration", {}).setdefault("movies", {})[name] = block
        else:
            summary["registration"] = block

    if not p["enabled"] and not p["exclude_bad_frames"]:
        store(
            {
                "enabled": False,
                "bad_frame_detection": False,
                "reason": "turned off in [analysis.registration]",
            }
        )
        return (movie, None) if return_frame_means else movie
    region = list(p["region_um"]) if p["region_um"] else p["region"]
    given = exp.analysis.get("registration", {})
    explicitly_enabled = isinstance(given, Mapping) and given.get("enabled") is True
    res = optics.stabilize_movie(
        movie,
        register=bool(p["enabled"]),
        exclude_bad_frames=bool(p["exclude_bad_frames"]),
        region=region,
        min_shift_px=float(p["min_shift_px"]),
        # (called only when the full registration runs, on the frames already read)
        find_region=find_region,
        # registration on by default registers where a static part is found; asked
        # for in the experiment file, it also tries the whole field (and says so)
        region_required=find_region is not None and not explicitly_enabled,
        # on only by default, a movie too large to keep in memory is not registered
        # (six to sixteen more reads of a movie bigger than RAM): a warning says so
        full_when_uncached=explicitly_enabled,
    )
    block = res["summary"]
    for w in block.pop("warnings"):
        msg = f"{name}: {w['message']}" if name else w["message"]
        if uncertain_hint and w["code"] == "registration-uncertain":
            msg = f"{msg}. {uncertain_hint}"
        add_warning(summary, w["code"], msg, where)
    label = f" ({name})" if name else ""
    out.table(
        "frame_quality" + sfx,
        res["quality"],
        title=f"Per-frame quality{label} (bad frames excluded)",
    )
    if res["shifts"] is not None:
        block["shifts_table"] = out.table(
            "registration_shifts" + sfx,
            res["shifts"],
            title=f"Stage drift per frame{label} (content displacement relative to the "
            "reference frame)",
        )
        applied = bool(block.get("applied"))
        use = (
            "the shifts were undone before the maps."
            if applied
            else "not applied (registration.applied_reason): the movie was analysed as recorded."
        )
        out.figure(
            "drift" + sfx,
            report.fig_drift(res["shifts"], quality=res["quality"], applied=applied),
            title=f"Stage drift{label}",
            caption="Content shift of every frame relative to the reference frame "
            f"(band: ± error estimate); excluded frames marked at 0; {use}",
        )
    if not p["enabled"]:
        block["reason"] = "registration is off ([analysis.registration] enabled = false)"
    store(block)
    if not return_frame_means:
        return res["movie"]
    q = res["quality"]
    means = None
    if not block.get("applied"):  # frames as read: their means are the quality pass's
        means = q["mean_counts"].to_numpy(float)[~q["bad"].to_numpy(bool)]
    return res["movie"], means
