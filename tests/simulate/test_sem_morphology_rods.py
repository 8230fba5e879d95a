"""The whisker simulator works on each rod's bounding box: the same mask as the whole grid."""

import numpy as np

from platescope.simulate._sem_morphology import _SUPER, _rod_mask


def test_rod_mask_on_its_window_equals_the_whole_grid_mask():
    rng = np.random.default_rng(3)
    shape = (60, 80)
    for _ in range(20):
        length, width, ang = rng.uniform(8, 30), rng.uniform(1, 4), rng.uniform(0, np.pi)
        hx = 0.5 * (abs(length * np.cos(ang)) + abs(width * np.sin(ang)))
        hy = 0.5 * (abs(length * np.sin(ang)) + abs(width * np.cos(ang)))
        cx, cy = rng.uniform(hx + 2, shape[1] - hx - 2), rng.uniform(hy + 2, shape[0] - hy - 2)
        rod = (cy, cx, length, width, ang)
        whole = _rod_mask(shape, rod)
        win = (
            max(int(np.floor((cy - hy) * _SUPER)) - 2, 0),
            min(int(np.ceil((cy + hy) * _SUPER)) + 2, whole.shape[0]),
            max(int(np.floor((cx - hx) * _SUPER)) - 2, 0),
            min(int(np.ceil((cx + hx) * _SUPER)) + 2, whole.shape[1]),
        )
        part = _rod_mask(shape, rod, win)
        assert part.any()
        np.testing.assert_array_equal(part, whole[win[0] : win[1], win[2] : win[3]])
        outside = whole.copy()
        outside[win[0] : win[1], win[2] : win[3]] = False
        assert not outside.any()  # the bounding box holds the whole rod
