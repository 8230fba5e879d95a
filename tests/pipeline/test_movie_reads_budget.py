"""How many times an analysis reads its movie (issue 17): a budget per movie scenario.

The movie bytes are counted by a wrapper around tifffile's file handle (a third-party
reader, independent of platescope): every byte tifffile reads from a movie file while
``analyze`` runs. The movies are read lazily in chunks of ~1/8 of the movie (the chunk
target is lowered for the test), so that a small simulated movie behaves as a large one
does with its 32 MiB chunks: a step that reads a few frames decodes their chunk only,
and a step that walks the movie in blocks smaller than a chunk must not decode a chunk
once per block. The provenance hash (one more sequential read of each file, a plain
``open``) is not counted here.
"""

import functools
import os
import threading

import numpy as np
import pytest
import tifffile

from platescope import io
from platescope.io import _movie_tiff
from platescope.pipeline import analyze
from platescope.simulate import simulate


class CountingReads:
    """Bytes tifffile reads from the given files (nested calls counted once)."""

    def __init__(self, paths):
        self.paths = {os.path.realpath(p) for p in paths}
        self.bytes = dict.fromkeys(self.paths, 0)
        self._depth = threading.local()
        self._lock = threading.Lock()

    def _add(self, fh, n):
        path = os.path.realpath(fh.path)
        if path in self.paths:
            with self._lock:
                self.bytes[path] += n

    def _plain(self, fn):
        @functools.wraps(fn)
        def inner(fh, *a, **k):
            d = getattr(self._depth, "n", 0)
            self._depth.n = d + 1
            try:
                out = fn(fh, *a, **k)
            finally:
                self._depth.n = d
            if d == 0:
                self._add(
                    fh, out if isinstance(out, int) else getattr(out, "nbytes", None) or len(out)
                )
            return out

        return inner

    def _segments(self, fn):
        @functools.wraps(fn)
        def inner(fh, *a, **k):
            gen = fn(fh, *a, **k)
            while True:
                d = getattr(self._depth, "n", 0)
                self._depth.n = d + 1
                try:
                    item = next(gen)
                except StopIteration:
                    return
                finally:
                    self._depth.n = d
                if d == 0:
                    seg = item[0] if isinstance(item, tuple) else item
                    self._add(fh, 0 if seg is None else len(seg))
                yield item

        return inner

    def install(self, mp):
        fh = tifffile.FileHandle
        for name in ("read", "readinto", "read_array"):
            mp.setattr(fh, name, self._plain(getattr(fh, name)))
        mp.setattr(fh, "read_segments", self._segments(fh.read_segments))

    def reads(self, path):
        path = os.path.realpath(path)
        return self.bytes[path] / os.path.getsize(path)


def _lazy_small_chunks(mp, movie_bytes):
    """Read movies lazily in chunks of ~1/8 of the movie (as a big movie is read)."""
    mp.setattr(_movie_tiff, "_CHUNK_TARGET_BYTES", max(1, movie_bytes // 8))
    eager = io.read_movie
    mp.setattr(io, "read_movie", lambda path, **kw: eager(path, **{**kw, "lazy": True}))


def test_the_counter_counts_one_read_of_a_movie(tmp_path):
    path = tmp_path / "m.tif"
    data = np.arange(20 * 32 * 32, dtype=np.uint16).reshape(20, 32, 32)
    tifffile.imwrite(path, data, photometric="minisblack")
    count = CountingReads([path])
    with pytest.MonkeyPatch.context() as mp:
        count.install(mp)
        np.testing.assert_array_equal(tifffile.imread(path), data)
        once = count.reads(path)
        tifffile.imread(path)
        twice = count.reads(path)
    assert 0.95 < once <= 1.0  # the pixels (20 × 2 kB) are nearly all of the file
    assert twice == pytest.approx(2 * once)


def _analyse_counting(tmp_path, scenario, overrides, names):
    exp = simulate(scenario, tmp_path / "in", seed=1, overrides=overrides)
    movies = [exp.parent / n for n in names]
    count = CountingReads(movies)
    with pytest.MonkeyPatch.context() as mp:
        _lazy_small_chunks(mp, min(m.stat().st_size for m in movies))
        count.install(mp)
        summary = analyze(exp, tmp_path / "out")
    reads = {n: count.reads(m) for n, m in zip(names, movies, strict=True)}
    print(scenario, reads)
    return summary, reads


# budgets reached by this change (before it, at the same chunking: see
# docs/performance.md "Movies bigger than RAM"); the reason for each read is there too
def test_dendrite_cycling_reads_its_movie_twice_and_a_sample(tmp_path):
    over = {"field_px": 96, "n_deposits": 6, "n_new_per_cycle": 1, "n_merging_pairs": 1}
    summary, reads = _analyse_counting(tmp_path, "dendrite-cycling", over, ["movie.tif"])
    assert summary["deposits"]["n_tracks"] > 0
    # frame quality 1 + detection pass 1 + the auto threshold's 12 sample frames
    assert reads["movie.tif"] <= 2.1, reads


def test_see_through_reads_each_movie_a_bounded_number_of_times(tmp_path):
    over = {"size_px": "48", "n_cycles": "2", "li_deposit_s": "30", "n_sites": "4"}
    summary, reads = _analyse_counting(tmp_path, "see-through-au", over, ["trans.tif", "epi.tif"])
    assert summary["sites"]["count"] is not None
    # trans: frame quality 1, signal + mean 1, sites window, pores window, montage
    # (I₀ of T = I/I₀ computed once: the pores' blocks no longer re-read it)
    assert reads["trans.tif"] <= 3.7, reads
    # its mean curve: one pass, + I₀ computed first (the chunk of its reference frames)
    assert reads["epi.tif"] <= 1.15, reads


def test_top_view_reads_each_run_movie_twice(tmp_path):
    over = {
        "n_runs": "2",
        "j_min_mA_cm2": "0.5",
        "j_max_mA_cm2": "4",
        "field_px": "200",
        "n_ref": "14",
        "n_pit_ref": "4",
        "stripping_s": "80",
        "plating_s": "200",
        "frame_interval_s": "5",
    }
    names = ["run_1/movie.tif", "run_2/movie.tif"]
    summary, reads = _analyse_counting(tmp_path, "top-view-nucleation", over, names)
    assert len(summary["nucleation"]["runs"]) == 2
    for name in names:  # frame quality 1 + detection pass 1 + 12 sample frames
        assert reads[name] <= 2.25, reads


def test_irm_cv_reads_its_movie_twice_and_the_landing_frames(tmp_path):
    over = {"irm_size_px": 48, "footprint_diameter_um": 4.0, "Q_c1_nC": 0.8, "n_cycles": 2}
    summary, reads = _analyse_counting(tmp_path, "irm-cv", over, ["irm.tif"])
    assert summary["optics"]["ce_calibration"] is not None
    assert summary["optics"]["ce_calibration"]["n_points"] == 2  # both cycles' I_a/I_c
    # frame quality 1 + statistics pass 1 (drift, footprint mean and the CE windows,
    # whose instants the echem gives) + the landing step (sync ≤ 16 frames; the step
    # image: its 18 frames read one by one, 0.057 — it read their chunk, 0.13: 2.09)
    assert reads["irm.tif"] <= 2.05, reads  # measured 2.023
