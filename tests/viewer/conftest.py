import json

import pytest


@pytest.fixture(scope="session")
def sample_run(build_once):
    """The plugin's sample data: a simulated IRM galvanostatic run, analysed; its truth.

    Built once per test run (``build_once``): ``test_layers.py`` and ``test_napari.py``
    may run on different xdist workers. Whichever builds it calls the plugin's sample
    function, whose returned layers must be those the reader makes of the result folder;
    the layers given to the tests are the reader's.
    """
    from platescope.viewer._layers import layer_data
    from platescope.viewer._sample import sample_irm_galvanostatic

    def build(folder):
        layers = sample_irm_galvanostatic(seed=2, folder=folder)
        assert _same_layers(layers, layer_data(folder / "results"))

    root = build_once("viewer-sample-irm-galvanostatic-seed2", build)
    layers = layer_data(root / "results")
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    summary = json.loads((root / "results" / "summary.json").read_text())
    return root, layers, truth, summary


def _same_layers(a, b) -> bool:
    """Two layer-data lists hold the same layers: kinds, names and data shapes."""
    import numpy as np

    def key(layers):
        return [
            (kind, kw.get("name"), np.shape(data) if not isinstance(data, list) else len(data))
            for data, kw, kind in layers
        ]

    return key(a) == key(b)
