"""The forked background job (jlp_geo.analysis.background) and the pixel outlines (pixel_polygons)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import shapely

from jlp_geo.analysis.background import Background, background_enabled
from jlp_geo.analysis.pixel_polygons import polygons_from_grid


def _work(n: int) -> tuple[int, int]:
    return os.getpid(), int(np.arange(n).sum())


def _fail() -> None:
    raise ValueError("planted failure")


def test_background_forks_and_returns_the_value(monkeypatch):
    monkeypatch.delenv("JLP_GEO_BACKGROUND", raising=False)
    if not background_enabled():
        pytest.skip("no fork here")
    job = Background(_work, 1000)
    assert job.forked
    pid, total = job.result()
    assert pid != os.getpid() and total == 999 * 1000 // 2
    assert job.result() == (pid, total)  # a second call returns the same value


def test_background_raises_the_child_error_in_the_parent(monkeypatch):
    monkeypatch.delenv("JLP_GEO_BACKGROUND", raising=False)
    job = Background(_fail)
    with pytest.raises(ValueError, match="planted failure"):
        job.result()


def test_background_off_runs_in_process(monkeypatch):
    monkeypatch.setenv("JLP_GEO_BACKGROUND", "0")
    job = Background(_work, 10)
    assert not job.forked
    assert job.result() == (os.getpid(), 45)


def test_outline_of_a_rectangle_cuts_its_four_corners():
    grid = np.zeros((10, 12), dtype=bool)
    grid[2:5, 3:8] = True  # 3 x 5 pixels
    geom = polygons_from_grid(grid, 1000.0, 2000.0, 10.0)
    assert geom.is_valid and geom.geom_type == "Polygon"
    # marching squares cuts each convex corner by 1/8 pixel: (15 - 4/8) pixels of 100 m2
    assert geom.area == pytest.approx((15 - 0.5) * 100.0)
    assert shapely.get_num_coordinates(geom) == 8 + 1  # the straight runs keep only their ends
    xmin, ymin, xmax, ymax = geom.bounds
    assert (xmin, xmax) == (1030.0, 1080.0) and (ymin, ymax) == (2000.0 - 50.0, 2000.0 - 20.0)


def test_small_gaps_are_filled_larger_ones_kept():
    grid = np.zeros((12, 12), dtype=bool)
    grid[1:6, 1:6] = True
    grid[3, 3] = False  # a one-pixel gap: below the outline's precision
    filled = polygons_from_grid(grid, 0.0, 0.0, 1.0, min_hole_pixels=4)
    assert len(filled.interiors) == 0 and filled.area == pytest.approx(25 - 0.5)
    kept = polygons_from_grid(grid, 0.0, 0.0, 1.0, min_hole_pixels=0)
    # the gap is a diamond of half a pixel (its four corners cut)
    assert len(kept.interiors) == 1 and kept.area == pytest.approx(25 - 0.5 - 0.5) and kept.is_valid
    two = grid.copy()
    two[8:10, 8:11] = True
    multi = polygons_from_grid(two, 0.0, 0.0, 1.0)
    assert multi.geom_type == "MultiPolygon" and multi.area == pytest.approx(25 - 0.5 + 6 - 0.5)


def test_empty_grid_gives_an_empty_polygon():
    assert polygons_from_grid(np.zeros((4, 4), dtype=bool), 0.0, 0.0, 1.0).is_empty


def _slow_big() -> bytes:
    import time

    time.sleep(0.5)
    return b"x" * 5_000_000  # more than a pipe holds: the child would wait for a reader


def test_unclaimed_result_ends_the_child_and_no_pipe_is_inherited(monkeypatch):
    """A job nobody asks for ends with its object; the child keeps no other pipe open (a browser driver's)."""
    import gc
    import subprocess
    import sys
    import time

    monkeypatch.delenv("JLP_GEO_BACKGROUND", raising=False)
    if not background_enabled():
        pytest.skip("no fork here")
    # a pipe held by this process, as a browser driver's would be: its reader must see EOF when we close it
    reader = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    job = Background(_slow_big)
    pid = job._process.pid  # noqa: SLF001 (the test looks at the child itself)
    reader.stdin.close()
    assert reader.wait(timeout=10) == 0  # the child did not keep the driver's pipe open
    del job
    gc.collect()
    deadline = time.time() + 10
    while time.time() < deadline and os.path.exists(f"/proc/{pid}") and "zombie" not in open(f"/proc/{pid}/status").read().lower():
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
