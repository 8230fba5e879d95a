"""Shared steps: Scharifker–Hills runs wherever the record holds a potentiostatic step."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from platescope.models import scharifker_hills_current
from platescope.pipeline import analyze


def _ca_record(path, *, I_m_A, t_m_s, seed=0):
    """10 s at open circuit, then a potential step to −0.1 V with an SH transient."""
    rng = np.random.default_rng(seed)
    t_rest = np.arange(0.0, 10.0, 0.05)
    t_step = np.arange(0.05, 40.0, 0.05)
    i = scharifker_hills_current(t_step, I_m_A=I_m_A, t_m_s=t_m_s, mechanism="instantaneous")
    i = i * (1 + 0.003 * rng.standard_normal(i.size))
    df = pd.DataFrame(
        {
            "time_s": np.concatenate([t_rest, 10.0 + t_step]),
            "potential_V": np.concatenate(
                [0.6 + 1e-4 * rng.standard_normal(t_rest.size), np.full(t_step.size, -0.1)]
            ),
            "current_A": np.concatenate([np.zeros(t_rest.size), i]),
        }
    )
    df.to_csv(path, index=False)


@pytest.mark.parametrize("scenario", ["sem-particles", "irm-galvanostatic"])
def test_potentiostatic_deposition_gets_scharifker_hills(tmp_path, scenario):
    _ca_record(tmp_path / "ca.csv", I_m_A=-2e-6, t_m_s=4.0)
    exp = tmp_path / "e.toml"
    exp.write_text(
        textwrap.dedent(
            f"""
            [experiment]
            scenario = "{scenario}"
            [echem]
            path = "ca.csv"
            """
        )
    )
    s = analyze(exp, tmp_path / "res")
    sh = s["echem"]["scharifker_hills"]
    assert sh["n_steps"] == 1 and sh["n_nucleation_transients"] == 1
    step = sh["steps"][0]
    # the planted maximum, recovered (the step starts at t = 10 s)
    assert step["t_m_s"] == pytest.approx(4.0, rel=0.03)
    assert step["I_m_A"] == pytest.approx(-2e-6, rel=0.03)
    assert step["mechanism"] == "instantaneous"
    assert "chronoamperometry" in s["parameters"]


def test_galvanostatic_record_has_no_scharifker_hills(tmp_path):
    t = np.arange(0.0, 30.0, 0.05)
    pd.DataFrame(
        {"time_s": t, "potential_V": -0.05 - 1e-3 * t, "current_A": np.full(t.size, -1e-9)}
    ).to_csv(tmp_path / "g.csv", index=False)
    (tmp_path / "e.toml").write_text(
        '[experiment]\nscenario = "sem-particles"\n[echem]\npath = "g.csv"\n'
    )
    s = analyze(tmp_path / "e.toml", tmp_path / "res")
    assert "scharifker_hills" not in s.get("echem", {})
    assert not any(k["analysis"] == "chronoamperometry" for k in s["skipped"])
