"""The dock widget: E(t), I(t) with a cursor on the frame slider; a clicked pixel's trace.

Imports Qt (through qtpy, as napari does) and matplotlib's Qt canvas: only used inside
napari (the package's ``napari`` extra).
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

__all__ = ["EchemPlotWidget", "show_colorbars"]


def _meta(layer) -> dict:
    meta = getattr(layer, "metadata", None) or {}
    return meta.get("platescope") or {}


def show_colorbars(layers) -> None:
    """Turn on the colour bar of every platescope map layer among ``layers``."""
    for layer in layers:
        if _meta(layer).get("colorbar") and hasattr(layer, "colorbar"):
            layer.colorbar.visible = True


def _current_scale(i_a: np.ndarray) -> tuple[float, str]:
    peak = np.nanmax(np.abs(i_a)) if np.isfinite(i_a).any() else 0.0
    for factor, unit in ((1e3, "mA"), (1e6, "µA"), (1e9, "nA")):
        if peak * factor >= 1.0:
            return factor, unit
    return 1e12, "pA"


class EchemPlotWidget(QWidget):
    """E(t) and I(t) of the opened result, linked to the frame slider, and pixel traces.

    The cursor (vertical line) sits at the current frame's real time on the clock the
    movie layer states (``metadata["platescope"]["clock"]``: the potentiostat's when the
    clocks were synchronised). Clicking the movie, or :meth:`select_pixel`, plots that
    pixel's intensity against time with every time map (t_nuc, onset) marked at its
    value for the pixel.

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.figure = Figure(figsize=(5.0, 6.5), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(360, 420)
        self.status = QLabel("open a platescope result folder")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas)
        layout.addWidget(self.status)
        self.ax_e, self.ax_i, self.ax_px = self.figure.subplots(3, 1)
        self.ax_i.sharex(self.ax_e)
        self.movie_layer = None
        self.frame_times_s: np.ndarray | None = None
        self.cursor_t_s: float | None = None
        self.pixel: tuple[int, int] | None = None
        self.pixel_trace: np.ndarray | None = None
        self.marks: dict[str, float] = {}
        self._cursors: list = []
        napari_viewer.dims.events.current_step.connect(self._on_step)
        napari_viewer.layers.events.inserted.connect(self._on_layers)
        napari_viewer.layers.events.removed.connect(self._on_layers)
        self._on_layers()

    # -- layers -----------------------------------------------------------------------
    def _find_movie(self):
        for layer in self.viewer.layers:
            if _meta(layer).get("kind") == "movie":
                return layer
        return None

    def _on_layers(self, event=None) -> None:
        show_colorbars(self.viewer.layers)
        movie = self._find_movie()
        if movie is self.movie_layer:
            return
        if self.movie_layer is not None and self._on_click in self.movie_layer.mouse_drag_callbacks:
            self.movie_layer.mouse_drag_callbacks.remove(self._on_click)
        self.movie_layer = movie
        self.pixel = None
        self.pixel_trace = None
        self.marks = {}
        if movie is not None:
            movie.mouse_drag_callbacks.append(self._on_click)
            self.frame_times_s = np.asarray(_meta(movie)["frame_times_s"], dtype=float)
        else:
            self.frame_times_s = None
        self._plot_echem()
        self._on_step()

    def _time_label(self) -> str:
        clock = _meta(self.movie_layer).get("clock") if self.movie_layer is not None else None
        return "t on the potentiostat clock (s)" if clock == "echem" else "t on the movie clock (s)"

    def _plot_echem(self) -> None:
        for ax in (self.ax_e, self.ax_i, self.ax_px):
            ax.clear()
        self._cursors = []
        meta = _meta(self.movie_layer) if self.movie_layer is not None else {}
        echem = meta.get("echem")
        if echem is not None and "potential_V" in echem:
            self.ax_e.plot(echem["time_s"], echem["potential_V"], lw=0.8, color="C0")
        else:
            self.ax_e.text(
                0.5, 0.5, "no potential record", ha="center", transform=self.ax_e.transAxes
            )
        if echem is not None and "current_A" in echem:
            i_a = np.asarray(echem["current_A"], dtype=float)
            factor, unit = _current_scale(i_a)
            self.ax_i.plot(echem["time_s"], i_a * factor, lw=0.8, color="C1")
            self.ax_i.set_ylabel(f"I ({unit})")
        else:
            self.ax_i.set_ylabel("I")
        self.ax_e.set_ylabel("E (V)")
        self.ax_i.set_xlabel(self._time_label())
        self.ax_px.set_xlabel(self._time_label())
        self.ax_px.set_ylabel("intensity (counts)")
        self.ax_px.set_title("click a pixel of the movie", fontsize=8)
        if self.frame_times_s is not None:
            t = self.frame_times_s
            for ax in (self.ax_e, self.ax_i):
                ax.axvspan(t[0], t[-1], color="0.9", zorder=0, lw=0)  # the movie's span
        for ax in (self.ax_e, self.ax_i, self.ax_px):
            self._cursors.append(ax.axvline(np.nan, color="crimson", lw=1.0))
        self.status.setText(meta.get("note", "open a platescope result folder"))
        self.canvas.draw_idle()

    # -- time cursor --------------------------------------------------------------------
    def _on_step(self, event=None) -> None:
        if self.frame_times_s is None or not len(self.frame_times_s):
            self.cursor_t_s = None
            return
        frame = int(self.viewer.dims.current_step[0])
        frame = min(max(frame, 0), len(self.frame_times_s) - 1)
        self.cursor_t_s = float(self.frame_times_s[frame])
        for line in self._cursors:
            line.set_xdata([self.cursor_t_s, self.cursor_t_s])
        note = _meta(self.movie_layer).get("note", "")
        self.status.setText(f"frame {frame}: t = {self.cursor_t_s:.3f} s — {note}")
        self.canvas.draw_idle()

    # -- pixel traces -------------------------------------------------------------------
    def _on_click(self, layer, event) -> None:
        data_pos = layer.world_to_data(event.position)
        row, col = int(round(data_pos[-2])), int(round(data_pos[-1]))
        ny, nx = layer.data.shape[-2:]
        if 0 <= row < ny and 0 <= col < nx:
            self.select_pixel(row, col)

    def select_pixel(self, row: int, col: int) -> dict:
        """Plot pixel (``row``, ``col``) of the movie over time; returns the time marks.

        Parameters
        ----------
        row, col : int
            Pixel of the movie layer (data coordinates).

        Returns
        -------
        dict
            Quantity (``t_nuc``, ``onset``, …) → its value at that pixel, s (NaN where
            the map has none).
        """
        movie = self.movie_layer
        if movie is None:
            raise ValueError("no platescope movie layer is open")
        trace = np.asarray(movie.data[:, row, col], dtype=float)  # one pixel, read on request
        self.pixel, self.pixel_trace = (row, col), trace
        px = float(_meta(movie).get("pixel_size_um") or 1.0)
        y_um, x_um = row * px, col * px
        ax = self.ax_px
        ax.clear()
        t = self.frame_times_s
        ax.plot(t, trace, lw=0.8, color="0.2")
        ax.set_xlabel(self._time_label())
        ax.set_ylabel("intensity (counts)")
        ax.set_title(f"pixel (row {row}, col {col}) = ({y_um:.2f}, {x_um:.2f}) µm", fontsize=8)
        self.marks = {}
        for k, layer in enumerate(self.viewer.layers):
            meta = _meta(layer)
            if meta.get("kind") != "map" or not meta.get("time_map"):
                continue
            mpx = float(meta.get("pixel_size_um") or px)
            data = np.asarray(layer.data)
            if data.ndim != 2:
                continue
            r, c = int(round(y_um / mpx)), int(round(x_um / mpx))
            if not (0 <= r < data.shape[0] and 0 <= c < data.shape[1]):
                continue
            value = float(data[r, c])
            label = meta.get("map", layer.name)
            self.marks[label] = value
            if np.isfinite(value):
                ax.axvline(
                    value, color=f"C{k % 10}", ls="--", lw=1.0, label=f"{label} = {value:.2f} s"
                )
        if any(np.isfinite(v) for v in self.marks.values()):
            ax.legend(fontsize=7, loc="best")
        self._cursors = self._cursors[:2] + [ax.axvline(np.nan, color="crimson", lw=1.0)]
        self._on_step()
        return dict(self.marks)
