"""The house figure style: one place for text sizes, figure widths and save formats.

Every platescope figure is drawn at its final size (no later scaling), so the point
sizes below are the sizes on paper:

- text: axis labels :data:`LABEL_PT`, tick labels :data:`TICK_PT`, legends and
  annotations :data:`LEGEND_PT`; nothing smaller than :data:`MIN_FONT_PT` (7 pt, the
  usual journal minimum) — :func:`enforce_min_font` raises anything smaller at save time;
- width: :data:`WIDTH_SINGLE_IN` (one journal column, 3.5 in), :data:`WIDTH_ONEHALF_IN`
  (5.5 in), :data:`WIDTH_DOUBLE_IN` (two columns, 7.2 in) and :data:`WIDTH_REPORT_IN`
  (≤ 10.5 in, multi-panel report figures that a paper would split);
- axis labels: "quantity (unit)", e.g. ``"Time (s)"``, ``"E (V vs Li/Li⁺)"``; a
  dimensionless quantity names no unit (``"CE"``, ``"Fraction nucleated"``);
- saving: :func:`platescope.report.atomic_savefig` writes the requested file and, for
  a PNG, its vector twin (SVG, text kept as text) beside it; PNGs at :data:`PNG_DPI`
  (300 dpi); layout ``constrained`` so labels do not overlap.

:func:`house_style` is the matching ``matplotlib.rc_context``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = [
    "LABEL_PT",
    "LEGEND_PT",
    "MIN_FONT_PT",
    "PNG_DPI",
    "RC",
    "TICK_PT",
    "TITLE_PT",
    "WIDTH_DOUBLE_IN",
    "WIDTH_ONEHALF_IN",
    "WIDTH_REPORT_IN",
    "WIDTH_SINGLE_IN",
    "enforce_min_font",
    "house_style",
    "native_rasters",
    "text_sizes",
]

#: Smallest text allowed at the saved size, points.
MIN_FONT_PT = 7.0
#: Axis labels, colour-bar labels and panel titles, points.
LABEL_PT = 10.0
#: Panel titles, points.
TITLE_PT = 10.0
#: Tick labels, points.
TICK_PT = 9.0
#: Legends and annotations, points.
LEGEND_PT = 8.5
#: Raster resolution of saved PNGs, dots per inch.
PNG_DPI = 300
#: One journal column, inches.
WIDTH_SINGLE_IN = 3.5
#: One and a half columns, inches.
WIDTH_ONEHALF_IN = 5.5
#: Two columns (full page width), inches.
WIDTH_DOUBLE_IN = 7.2
#: Widest multi-panel report figure, inches.
WIDTH_REPORT_IN = 10.5

#: rcParams of the house style.
RC: dict[str, Any] = {
    "font.size": LABEL_PT,
    "axes.labelsize": LABEL_PT,
    "axes.titlesize": TITLE_PT,
    "xtick.labelsize": TICK_PT,
    "ytick.labelsize": TICK_PT,
    "legend.fontsize": LEGEND_PT,
    "legend.title_fontsize": LEGEND_PT,
    "figure.titlesize": LABEL_PT + 1,
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "svg.fonttype": "none",  # text stays text (editable, searchable)
    "pdf.fonttype": 42,  # TrueType, editable in Illustrator/Inkscape
    "ps.fonttype": 42,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply the house rcParams (:data:`RC`) inside the block.

    Examples
    --------
    >>> import matplotlib
    >>> with house_style():
    ...     dpi = matplotlib.rcParams["savefig.dpi"]
    >>> int(dpi)
    300
    """
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def text_sizes(fig: Any) -> list[tuple[str, float]]:
    """Every visible, non-empty text of a figure with its size in points.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (drawn or not).

    Returns
    -------
    list of (str, float)
        ``(text, size_pt)`` for titles, labels, tick labels, legends, annotations and
        colour-bar texts.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); ax = fig.add_subplot(); _ = ax.set_xlabel("Time (s)", fontsize=9)
    >>> ("Time (s)", 9.0) in text_sizes(fig)
    True
    """
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels exist only once drawn
    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and _shown(t):
            out.append((t.get_text(), float(t.get_fontsize())))
    return out


def _points(size: Any) -> float:
    """A matplotlib font size (points or a name such as "small") in points."""
    from matplotlib.font_manager import FontProperties

    return float(FontProperties(size=size).get_size_in_points())


def _shown(artist: Any) -> bool:
    """False for texts inside an invisible parent (e.g. hidden tick labels)."""
    parent = getattr(artist, "axes", None)
    return parent is None or parent.get_visible()


def enforce_min_font(fig: Any, *, min_pt: float = MIN_FONT_PT) -> int:
    """Raise every text smaller than ``min_pt`` to ``min_pt``; returns how many changed.

    A safety net applied when a figure is saved; figure functions should already use
    the sizes above.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, changed in place.
    min_pt : float
        Smallest size, points.

    Returns
    -------
    int
        Number of texts raised.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); ax = fig.add_subplot(); _ = ax.set_title("t", fontsize=5)
    >>> enforce_min_font(fig), ax.title.get_fontsize()
    (1, 7.0)
    """
    from matplotlib.text import Text

    if not hasattr(fig, "findobj"):  # not a matplotlib Figure: nothing to check
        return 0
    n = 0
    for ax in fig.axes:  # tick labels made at draw time take the axis' tick parameters
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                kw = axis._major_tick_kw if which == "major" else axis._minor_tick_kw
                size = kw.get("labelsize")
                if size is not None and _points(size) < min_pt:
                    axis.set_tick_params(which=which, labelsize=min_pt)
                    n += 1
    for t in fig.findobj(Text):
        if t.get_text() and t.get_fontsize() < min_pt:
            t.set_fontsize(min_pt)
            n += 1
    return n


#: Interpolations that only pick pixels or smooth by default: in a vector file such an
#: image can be embedded with its own pixels instead (an explicit smoothing, e.g.
#: ``"bicubic"``, is kept).
_PIXEL_INTERPOLATIONS = (None, "auto", "antialiased", "nearest", "none")


@contextlib.contextmanager
def native_rasters(fig: Any, *, dpi: float = PNG_DPI, max_ratio: float = 2.0) -> Iterator[int]:
    """Inside the block, images are drawn unresampled (``interpolation = "none"``), so
    a vector file embeds their own pixels, scaled by the viewer without smoothing,
    instead of a raster resampled to ``dpi``; yields how many images changed. Restored
    on exit.

    An image stays as it is when it has more than ``max_ratio`` times the pixels a PNG
    at ``dpi`` shows of it (its own raster would make the file much larger than a
    resampled one), when its axes hold more than one image (they are composited into
    one raster), or when it asks for a smoothing interpolation. Resampling at 300 dpi
    and encoding the resampled raster were about half of an SVG's CPU with two
    1024 × 884 micrographs.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure that has been drawn (its layout fixed).
    dpi : float
        Resolution of the raster twin the images are compared with, dots per inch.
    max_ratio : float
        Largest ratio of an image's own pixels to the pixels the raster twin shows of it
        (within its axes) for it to be embedded with its own pixels.
    """
    from matplotlib.transforms import Bbox

    changed = []
    for ax in getattr(fig, "axes", []):
        if len(ax.images) != 1:
            continue
        im = ax.images[0]
        if im.get_interpolation() not in _PIXEL_INTERPOLATIONS:
            continue
        rows, cols = im.get_array().shape[:2]
        box = Bbox.intersection(im.get_window_extent(), ax.bbox)
        if box is None:
            continue
        scale = float(dpi) / float(fig.dpi)  # display units → pixels of the raster twin
        if rows * cols <= max_ratio * (box.width * scale) * (box.height * scale):
            changed.append((im, im.get_interpolation()))
            im.set_interpolation("none")
    try:
        yield len(changed)
    finally:
        for im, interp in changed:
            im.set_interpolation(interp)


@contextlib.contextmanager
def svg_png_level(level: int | None) -> Iterator[None]:
    """Inside the block, the PNG rasters matplotlib embeds in an SVG are encoded at zlib
    level ``level`` (Pillow's default 6 when None): the same pixels, fewer CPU seconds
    for figures whose own PNG is written at a low level (full-size micrographs: level 3
    encodes such noisy images 2.5–3× faster than 6, into files no larger).

    matplotlib's SVG back-end calls ``Image.fromarray(im).save(buf, format="png")`` with
    no encoder options; its module's ``Image`` name is pointed at a stand-in whose
    images save with ``compress_level`` and restored on exit.
    """
    if level is None:
        yield
        return
    from matplotlib.backends import backend_svg

    real = backend_svg.Image

    class _Image:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def fromarray(*args: Any, **kwargs: Any) -> Any:
            im = real.fromarray(*args, **kwargs)
            save = im.save

            def save_at_level(fp: Any, format: str | None = None, **params: Any) -> Any:
                params.setdefault("compress_level", level)
                return save(fp, format, **params)

            im.save = save_at_level
            return im

    backend_svg.Image = _Image()
    try:
        yield
    finally:
        backend_svg.Image = real
