import json

import pytest


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """The plugin's sample data: a simulated IRM galvanostatic run, analysed; its truth."""
    from platescope.viewer._sample import sample_irm_galvanostatic

    root = tmp_path_factory.mktemp("viewer")
    layers = sample_irm_galvanostatic(seed=2, folder=root)
    truth = json.loads((root / "input" / "truth" / "truth.json").read_text())
    summary = json.loads((root / "results" / "summary.json").read_text())
    return root, layers, truth, summary
