"""A napari viewer for platescope results (optional extra ``napari``).

``pip install "platescope[napari]"`` registers the napari plugin ``platescope``
(npe2 manifest ``napari.yaml``):

- **reader**: drop a result folder (``analyze --out``) or an experiment ``.toml`` on
  napari. A result folder opens as layers: the movie, read lazily (dask), whose layer
  metadata carries the real frame times on the electrochemistry clock
  (``metadata["platescope"]["frame_times_s"]``; the slider steps through frames, which
  need not be evenly spaced); each map (t_nuc, onset, CE, residual) as an Image in µm
  with its unit in the layer name and a colour bar; particle and pore outlines
  (Shapes, µm); deposit tracks (Tracks); nucleation sites (Points). An experiment file
  opens as its movie(s) with the echem record attached.
- **dock widget** "Echem and pixel traces": E(t) and I(t) with a cursor that follows
  the frame slider on the real time axis; click a pixel of the movie (or call
  :meth:`EchemPlotWidget.select_pixel`) for its intensity trace with t_nuc / onset
  of the maps marked.
- **sample data**: a simulated IRM galvanostatic experiment, analysed on the spot.

From Python: :func:`open_result` adds a result folder to a viewer (colour bars on).
This package imports nothing of napari or Qt until used; :func:`layer_data` (the layer
tuples of a result folder) works without napari.
"""

from platescope.viewer._layers import layer_data, time_axis

__all__ = ["layer_data", "open_result", "time_axis"]


def open_result(path, viewer=None):
    """Add a result folder (or an experiment file) to a napari viewer; returns the layers.

    Parameters
    ----------
    path : path
        ``analyze --out`` folder or experiment ``.toml``.
    viewer : napari.Viewer, optional
        Where to add them (default: a new viewer).

    Returns
    -------
    list of napari.layers.Layer
    """
    import napari

    from platescope.viewer._widget import show_colorbars

    viewer = viewer if viewer is not None else napari.Viewer()
    layers = []
    for data, kwargs, kind in layer_data(path):
        layers.append(getattr(viewer, f"add_{kind}")(data, **kwargs))
    show_colorbars(layers)
    return layers
