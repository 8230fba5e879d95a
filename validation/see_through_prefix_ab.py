"""A/B for issue 13: today's analysis on movies of the see-through simulator before its fix.

Until the fix, ``disk_coverage`` of a zero radius still covered the pixels within ½ px of
a Li site's / pore's centre, so the centre changed before ``t_appear_s`` / ``t_emerge_s``
within its 48-frame render chunk. This script puts the old formula back (in this process
only), checks that it reproduces the pre-fix movies (sha256 of the seed-4 small movies
recorded in ``tests/simulate/test_see_through_static.py`` before the fix) and runs
``see_through.run`` on the same seeds, so that the rows of ``see_through.py`` can be
compared seed by seed with and without the fix.

Usage::

    python validation/see_through_prefix_ab.py au 1 0 20   # metal, noise, first seed, seeds

Writes ``validation/results/see_through_<metal>_prefix_ab.csv`` (noise 1) or
``..._noise<k>_prefix_ab.csv``.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

import platescope.simulate._see_through_model as model
from platescope.simulate import make_see_through

sys.path.insert(0, str(Path(__file__).parent))
import see_through  # noqa: E402

#: sha256 of the seed-4 small (trans, epi) movies before the fix (commit 88a4030's parent)
PRE_FIX_SHA256 = {
    "Au": (
        "ce6370ff8888f2f32d0d8aebe57b25479e5b84bc9b4fb2ddf5bb64c3384c1831",
        "d9969e58a9e8d75c38953e527f244b1493f3c49966e99bd13c4815cf3fdb9e27",
    ),
    "Ag": (
        "92ba68df0b858894fa513e269b46ab82fe02adc3bbc969bc6ca1f19a3399a808",
        "6703e431df996da125ec707bd981399d3ebe932c9d874c282156e3d4c03d61fe",
    ),
}


def pre_fix_disk_coverage(yy, xx, cy, cx, r):
    """The pre-fix coverage (0..1): a radius ≤ 0 still ramps over ½ px at the centre."""
    d = np.hypot(yy - cy, xx - cx)
    px = abs(xx[0, 1] - xx[0, 0]) if xx.shape[1] > 1 else 1.0
    return np.clip((np.asarray(r)[..., None, None] - d) / px + 0.5, 0.0, 1.0)


def _sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def main() -> None:
    metal, noise = sys.argv[1], float(sys.argv[2])
    first, n = int(sys.argv[3]), int(sys.argv[4])
    model.disk_coverage = pre_fix_disk_coverage
    small = {"size_px": 48, "n_cycles": 1, "n_sites": 3, "li_deposit_s": 20}
    for m, want in PRE_FIX_SHA256.items():
        a = make_see_through(m, seed=4, **small)
        if (_sha(a["trans"]), _sha(a["epi"])) != want:
            raise SystemExit(f"patched simulator does not reproduce the pre-fix {m} movies")
    out = Path(tempfile.mkdtemp(prefix="platescope-val-prefix-"))
    df = see_through.run(range(first, first + n), [noise], [metal], out)
    tag = "" if noise == 1 else f"_noise{noise:g}"
    df.to_csv(
        Path(__file__).parent / "results" / f"see_through_{metal}{tag}_prefix_ab.csv", index=False
    )
    print(see_through.table(df))


if __name__ == "__main__":
    main()
