"""FrameWindow (platescope._frame_blocks): the sliding buffer of t_nuc_map.

Truth: the frames of a plain numpy movie (the window must hold exactly them, whatever
the batches), the chunk edges of the dask array (each chunk computed once, and never
two chunks in one computation: that is what bounds the temporaries of a computed
chain to one chunk's).
"""

import dask.array as da
import numpy as np
import pytest

from platescope._frame_blocks import FrameBlocks, FrameWindow


def _movie(n=37, h=6, w=5):
    return np.random.default_rng(3).integers(0, 4000, (n, h, w)).astype(np.uint16)


@pytest.mark.parametrize("chunk", [4, 7, 37])
@pytest.mark.parametrize("batch", [1, 3, 10])
def test_window_holds_the_movie_frames_each_chunk_once(chunk, batch, monkeypatch):
    mv = _movie()
    chain = da.from_array(mv, chunks=(chunk, 6, 5)).astype(np.float32) / 2.0 - 7.0
    truth = mv.astype(np.float32) / 2.0 - 7.0
    edges = set(range(0, mv.shape[0] + 1, chunk)) | {mv.shape[0]}
    spans = []
    get = FrameBlocks.get

    def spy(self, start, stop):
        spans.append((start, stop))
        return get(self, start, stop)

    monkeypatch.setattr(FrameBlocks, "get", spy)
    win = FrameWindow(chain, 12, region=(slice(1, 5), slice(0, 4)), batch_frames=batch)
    for first in range(0, mv.shape[0], 5):
        win.advance_to(first)
        win.fill(mv.shape[0])
        np.testing.assert_array_equal(win.frames(), truth[win.start : win.stop, 1:5, 0:4])
    assert win.stop == mv.shape[0]
    # each request within one chunk (no computation of two chunks at once)
    for a, b in spans:
        assert b - a <= batch
        assert not any(a < e < b for e in edges), (a, b)
    # and each chunk computed once
    assert win._blocks.n_computed_frames == mv.shape[0]


def test_chunk_stop():
    mv = _movie(n=10)
    fb = FrameBlocks(da.from_array(mv, chunks=(4, 6, 5)))
    assert [fb.chunk_stop(f) for f in range(10)] == [4] * 4 + [8] * 4 + [10] * 2
    assert FrameBlocks(mv).chunk_stop(3) == 10  # numpy: one block
