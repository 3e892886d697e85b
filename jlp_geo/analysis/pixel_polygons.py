"""Pixels to polygons: the outline of a set of grid cells as valid (Multi)Polygons, fast.

``rasterio.features.shapes`` hands every ring back as Python tuples; on a city's service areas building
the shapely polygons from them cost more than tracing them.  Here ``contourpy`` (marching squares, C++)
traces the cells' outline as arrays and the rings are assembled in one vectorised call.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["polygons_from_grid"]


def polygons_from_grid(
    grid: np.ndarray, x0: float, y0: float, resolution_m: float, *, min_hole_pixels: int = 4
) -> shapely.Geometry:
    """The True cells of a bool *grid* (row 0 at the top, top-left corner at ``(x0, y0)``, square cells of
    *resolution_m*) as valid (Multi)Polygons: marching squares on the 0/1 grid, straight runs merged.

    ``contourpy`` traces the 0.5 level of the cropped 0/1 grid (outer rings with their holes, as arrays);
    its vertices lie on the pixel edges, so the outline follows the pixel boundary except that a pixel
    corner is cut diagonally.  Vertices in the middle of a straight run are dropped exactly (zero cross
    product on the half-pixel lattice) and enclosed gaps of fewer than *min_hole_pixels* pixels are
    filled (below the outline's precision), before the rings are built in one vectorised call.

    Returns
    -------
    shapely.Geometry
        Polygon or MultiPolygon in the grid's CRS; an empty Polygon when *pix* is empty.
    """
    import contourpy

    rows_in, cols_in = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    if rows_in.size == 0:
        return shapely.Polygon()
    # cropped to the cells' bounding box, with one empty cell around so that every ring closes
    r0, c0 = int(rows_in[0]) - 1, int(cols_in[0]) - 1
    z = np.zeros((int(rows_in[-1]) - r0 + 2, int(cols_in[-1]) - c0 + 2))  # float64: contourpy would copy any other
    z[1:-1, 1:-1] = grid[r0 + 1 : int(rows_in[-1]) + 1, c0 + 1 : int(cols_in[-1]) + 1]
    # the generator class itself, with the cell coordinates as broadcast views: contour_generator() would
    # first build two full float64 coordinate grids (memory: three times the grid's)
    ny, nx = z.shape
    gen = contourpy.SerialContourGenerator(
        np.broadcast_to(np.arange(nx, dtype=np.float64)[None, :], z.shape),
        np.broadcast_to(np.arange(ny, dtype=np.float64)[:, None], z.shape),
        z, None, corner_mask=False, line_type=contourpy.LineType.Separate,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, quad_as_tri=False, z_interp=contourpy.ZInterp.Linear,
    )
    points, offsets, outer = (a[0] for a in gen.filled(0.5, 2.0))
    if points is None or len(points) == 0:
        return shapely.Polygon()
    keep, ring = _corner_vertices(points, offsets)
    # holes of fewer than min_hole_pixels pixels are dropped (shoelace area of every ring, in pixels)
    x, y = points[:, 0], points[:, 1]
    nxt = np.r_[np.arange(1, x.size), 0]
    cross = x * y[nxt] - x[nxt] * y
    cross[offsets[1:] - 1] = 0.0  # the closing vertex pairs with the next ring's first: not an edge
    ring_area = np.abs(np.add.reduceat(cross, offsets[:-1])) / 2.0
    small_hole = ring_area < min_hole_pixels
    small_hole[outer[:-1]] = False  # outer rings (the first of each polygon) stay
    keep &= ~small_hole[ring]
    res = resolution_m
    xy = np.column_stack([x0 + (c0 + points[keep, 0] + 0.5) * res, y0 - (r0 + points[keep, 1] + 0.5) * res])
    ring_kept = ring[keep]
    rings = shapely.linearrings(xy, indices=np.unique(ring_kept, return_inverse=True)[1])
    ring_polygon = np.repeat(np.arange(len(outer) - 1), np.diff(outer))
    polys = shapely.polygons(rings, indices=ring_polygon[np.unique(ring_kept)])
    return shapely.MultiPolygon(list(polys)) if len(polys) > 1 else polys[0]


def _corner_vertices(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices where a closed ring turns (the closing duplicate dropped), and the ring of every point."""
    n = points.shape[0]
    ring = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    first, last = offsets[:-1][ring], offsets[1:][ring] - 1
    idx = np.arange(n)
    prev = np.where(idx == first, last - 1, idx - 1)
    nxt = np.where(idx == last, first + 1, idx + 1)
    d1, d2 = points - points[prev], points[nxt] - points
    keep = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) != 0
    keep[idx == last] = False
    return keep, ring
