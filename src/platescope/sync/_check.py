"""``platescope info --check``: can this movie + echem pair be analysed, and how?"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from platescope._errors import InputError


def describe_aux(echem) -> dict:
    """What each auxiliary channel of a record holds (for ``platescope info``).

    Parameters
    ----------
    echem : pandas.DataFrame
        Echem record as :func:`platescope.io.read_echem` returns it.

    Returns
    -------
    dict
        Per aux column: ``range_V``, ``has_pulses``, and with pulses ``n_pulses``,
        ``pulse_width_ms`` and ``pulse_period_ms`` (medians), ``first_pulse_s``,
        ``last_pulse_s``; else ``reason``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(1000) * 1e-3
    >>> df = pd.DataFrame({"time_s": t, "aux1_V": np.where(np.arange(1000) % 100 < 50, 5.0, 0.0)})
    >>> describe_aux(df)["aux1_V"]["n_pulses"]
    9
    """
    from platescope.sync._strobe import AUX_COLUMNS, find_strobe_pulses

    out = {}
    for col in AUX_COLUMNS:
        if col not in echem.columns:
            continue
        v = echem[col].to_numpy(float)
        res = find_strobe_pulses(echem["time_s"].to_numpy(float), v)
        item = {
            "range_V": [float(np.nanmin(v)), float(np.nanmax(v))],
            "has_pulses": res["has_pulses"],
        }
        if res["has_pulses"]:
            c = res["centre_s"]
            item.update(
                n_pulses=res["n_pulses"],
                pulse_width_ms=1e3 * float(np.median(res["width_s"])),
                pulse_period_ms=1e3 * float(np.median(np.diff(c))),
                first_pulse_s=float(c[0]),
                last_pulse_s=float(c[-1]),
                carries="exposure strobe: frames get their times from it (sync method 'strobe')",
            )
        else:
            item["reason"] = res["reason"]
        out[col] = item
    return out


def check_pair(
    movie_path,
    echem_path,
    *,
    frame_times=None,
    frame_interval_s: float | None = None,
    pixel_size_um: float | None = None,
    time_offset_s: float | None = None,
    timezone: str | None = None,
) -> dict:
    """Diagnose a movie + echem pair before a long analysis.

    Parameters
    ----------
    movie_path, echem_path : path
        The two files.
    frame_times, frame_interval_s, pixel_size_um : optional
        As ``[movie]`` of an experiment file.
    time_offset_s, timezone : optional
        As ``[echem]`` of an experiment file.

    Returns
    -------
    dict
        ``ok`` (bool), ``n_frames``, ``median_interval_s``, ``time_axis`` (the
        diagnosis of the frame times), ``aux`` (:func:`describe_aux`), ``sync``
        (method, offset, errors or the reason none applies), ``clock_overlap_s``
        (movie and record overlap on the echem clock, s), ``problems`` (list of
        sentences), ``fatal`` (the sentence saying why the pair cannot be analysed).
    """
    from platescope import io
    from platescope.sync._clocks import synchronize, to_echem_clock

    out: dict = {"movie": str(movie_path), "echem": str(echem_path), "problems": []}
    if pixel_size_um is None and io.describe_movie(movie_path)["pixel_size_um"] is None:
        # the check is about times: a file without a pixel size (cine, spe, video) is
        # checked in pixel units; the analysis itself still asks for [movie] pixel_size_um
        pixel_size_um = 1.0
        out["pixel_size_um"] = None
    movie = io.read_movie(
        movie_path,
        frame_times=frame_times,
        frame_interval_s=frame_interval_s,
        pixel_size_um=pixel_size_um,
        lazy=True,
    )
    echem = io.read_echem(echem_path, timezone=timezone)
    t = np.asarray(movie["t"].values, float)
    out["n_frames"] = int(t.size)
    out["median_interval_s"] = float(np.median(np.diff(t))) if t.size > 1 else None
    out["aux"] = describe_aux(echem)
    try:
        sy = synchronize(movie, echem, time_offset_s=time_offset_s)
    except InputError as err:
        out["sync"] = {"method": None, "reason": err.problem}
        out["fatal"] = f"the clocks cannot be aligned: {err.problem}"
        out["ok"] = False
        out["problems"].append(out["fatal"] + f" ({err.fix})")
        return out
    ft = sy.pop("frame_times_s", None)
    out["time_axis"] = sy.get("frame_times")
    out["sync"] = {k: v for k, v in sy.items() if k not in ("frame_times", "warnings")}
    for w in sy.get("warnings", []):
        out["problems"].append(f"[{w['code']}] {w['message']}")
    st = sy.get("strobe")
    if st:
        for w in st.get("warnings", []):
            out["problems"].append(f"[{w['code']}] {w['message']}")
    for item in sy.get("tried", []):
        out["problems"].append(f"sync method {item['method']} not usable: {item['reason']}")
    moved = to_echem_clock(movie, sy["offset_s"], frame_times_s=ft)
    tm = moved["t"].values
    te = echem["time_s"].to_numpy(float)
    overlap = float(min(tm[-1], te[-1]) - max(tm[0], te[0]))
    out["clock_overlap_s"] = overlap
    out["movie_on_echem_clock_s"] = [float(tm[0]), float(tm[-1])]
    out["record_s"] = [float(te[0]), float(te[-1])]
    if overlap <= 0:
        out["fatal"] = (
            f"the movie (t = {tm[0]:.3g} … {tm[-1]:.3g} s on the echem clock) and the record "
            f"(t = {te[0]:.3g} … {te[-1]:.3g} s) do not overlap"
        )
        out["problems"].append(out["fatal"])
    elif overlap < 0.5 * (te[-1] - te[0]):
        out["problems"].append(
            f"the movie covers only {overlap:.3g} s of the {te[-1] - te[0]:.3g} s record"
        )
    out["ok"] = "fatal" not in out
    return out


def check_experiment(path) -> dict:
    """:func:`check_pair` on the ``[movie]`` and ``[echem]`` of an experiment file."""
    from platescope.io._experiment import read_experiment

    exp = read_experiment(Path(path))
    movie, echem = exp.movie, exp.echem
    if not movie or not echem or "path" not in movie or "path" not in echem:
        raise InputError(
            path,
            "the experiment has no [movie] and [echem] pair to check",
            "give an experiment file with both sections, or a movie and an echem file",
        )
    return check_pair(
        movie["path"],
        echem["path"],
        frame_times=movie.get("frame_times"),
        frame_interval_s=movie.get("frame_interval_s"),
        pixel_size_um=movie.get("pixel_size_um"),
        time_offset_s=echem.get("time_offset_s"),
        timezone=echem.get("timezone"),
    )
