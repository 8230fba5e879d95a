"""Static structure of a see-through cell (window dust, bare glass beyond the film's
edge): off by default and bit-identical, planted as stated when on."""

import hashlib

import numpy as np
import pytest

from platescope.simulate import make_see_through
from platescope.simulate._static_structure import GLASS_EPI, GLASS_TRANS, STATIC_PARAMETERS

SMALL = {"size_px": 48, "n_cycles": 1, "n_sites": 3, "li_deposit_s": 20}
# sha256 of the seed-4 SMALL trans and epi movies. Recorded at commit d7adad8 (before the
# static-structure options) and re-recorded once when a Li site / pore stopped showing
# before its appearance time (issue 13; disk_coverage of a zero radius was ½ px of ramp):
# the new movies differ from d7adad8's only in frames before a site's t_appear_s or a
# pore's t_emerge_s within their 48-frame render chunk (Au 66, Ag 39 frames; compared
# array by array). A default simulation stays unchanged by the static options, bit for bit.
SHA256 = {
    "Au": (
        "6868f289d17869f46146674458136709dc24552302551b978029865af63c2b6b",
        "cd61537a879b278548c53403d5aa4cd0ee96741ac291617d2e3b15be759dcef1",
    ),
    "Ag": (
        "102fa7b8160f13ae59ae6dd30739ed8ef464059dcede3908a2b96fee1a344a47",
        "b95e1c3ddffc740fcaddaa52f9e4741819069426fadaa8dcb2749aee9aab3954",
    ),
}


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.mark.parametrize("metal", ["Au", "Ag"])
def test_default_simulation_unchanged_bit_for_bit(metal):
    a = make_see_through(metal, seed=4, **SMALL)
    assert (_sha(a["trans"]), _sha(a["epi"])) == SHA256[metal]
    assert "static_structure" not in a["truth"]
    b = make_see_through(
        metal, seed=4, **SMALL, **{k: p.default for k, p in STATIC_PARAMETERS.items()}
    )
    assert np.array_equal(a["trans"], b["trans"]) and np.array_equal(a["epi"], b["epi"])


@pytest.fixture(scope="module")
def pair():
    kw = {**SMALL, "size_px": 64, "noise_scale": 0.0}
    plain = make_see_through("Au", seed=5, **kw)
    tex = make_see_through("Au", seed=5, **kw, static_texture=0.05)
    strip = make_see_through("Au", seed=5, **kw, static_strip_um=1.5)
    return plain, tex, strip


def test_window_texture_multiplies_trans_once_and_epi_twice(pair):
    plain, tex, _ = pair
    w_t = tex["trans"][0].astype(float) / plain["trans"][0]
    w_e = tex["epi"][0].astype(float) / plain["epi"][0]
    # W has rms contrast 0.05 (12-bit rounding adds ~3e-4)
    assert w_t.std() == pytest.approx(0.05, rel=0.05)
    assert np.allclose(w_e, w_t**2, atol=3e-3)
    # static: the same factor in the last frame (the film changed meanwhile)
    w_last = tex["trans"][-1].astype(float) / plain["trans"][-1]
    assert np.allclose(w_last, w_t, atol=3e-3)
    # the texture does not alloy: the onset truth and the echem are the same
    assert np.array_equal(tex["onset_maps"][1], plain["onset_maps"][1])
    assert np.array_equal(tex["echem"]["potential_V"], plain["echem"]["potential_V"])


def test_glass_strip_never_changes_and_has_no_onset(pair):
    plain, _, strip = pair
    st = strip["truth"]["static_structure"]
    px = strip["pixel_size_um"]
    x = np.arange(64) * px
    glass = x > st["strip_x0_um"] + 3 * px  # clear of the PSF-blurred edge
    film = x < st["strip_x0_um"] - 3 * px
    tr = strip["trans"].astype(float)
    # glass: constant in time, 1.6 × the pristine film's trans (same flat field)
    assert np.ptp(tr[:, :, glass], axis=0).max() <= 1.0
    ratio = tr[0][:, glass] / plain["trans"][0][:, glass]
    assert np.allclose(ratio, GLASS_TRANS, rtol=2e-3)
    ep = strip["epi"][0].astype(float)[:, glass] / plain["epi"][0][:, glass]
    assert np.allclose(ep, GLASS_EPI, rtol=1e-2)
    # film (5 px from the edge: beyond the PSF), away from the Li sites (placed on the
    # film only, so elsewhere than without the strip): as without the strip before Li
    li = next(x for x in strip["truth"]["echem"]["stages"] if x["name"] == "Li metal")
    early = strip["frame_times_echem_s"] < li["t_start_s"]
    yy, xx = np.mgrid[0:64, 0:64] * px
    film5 = np.broadcast_to(x < st["strip_x0_um"] - 5 * px, (64, 64)).copy()
    for sites in (strip["sites"], plain["sites"]):
        for sx, sy in zip(sites["x_um"], sites["y_um"], strict=True):
            film5 &= np.hypot(xx - sx, yy - sy) > 1.0
    assert early.sum() > 20 and film5.sum() > 1000
    assert np.array_equal(strip["trans"][early][:, film5], plain["trans"][early][:, film5])
    # onset truth NaN exactly on the glass pixels, finite on the film
    for tau in strip["onset_maps"].values():
        assert np.isnan(tau[:, glass]).all() and np.isfinite(tau[:, film]).all()
    # Li sites on the film only
    assert (strip["sites"]["x_um"] < st["strip_x0_um"]).all()
