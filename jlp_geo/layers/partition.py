"""Area-weighted power diagrams: split a polygon into cells of prescribed areas.

Answers *how to cut a domain into n pieces of given sizes around n sites*.
:func:`partition_by_area` fits the weights of a power diagram (Laguerre
tessellation) by damped Newton iterations so that every cell, clipped to the
domain, gets its target area, optionally handing stray fragments of cells that a
non-convex domain cuts into pieces to a neighbour.  Pure geometry and numerics:
no profile, CRS or file knowledge (the 镇街 approximation of
:mod:`jlp_geo.layers.admin` is its user).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

__all__ = [
    "Partition",
    "partition_by_area",
]


@dataclass
class Partition:
    """Result of :func:`partition_by_area`.

    Attributes
    ----------
    cells
        One geometry per site (Polygon, or MultiPolygon when a cell stays in pieces),
        in the coordinates of the domain.
    areas
        Area of each cell.
    targets
        Target areas (scaled so they sum to the domain's area).
    weights
        Final power weights (in squared units of the *internal* km frame).
    iterations
        Newton iterations used.
    max_rel_error
        ``max(|areas - targets| / targets)``.
    reassigned
        ``(from_site, to_site, area)`` for each stray fragment handed to a neighbour.
    connected
        Whether stray fragments were handed over (see ``connect`` of :func:`partition_by_area`).
    """

    cells: list[BaseGeometry]
    areas: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    iterations: int
    max_rel_error: float
    reassigned: list[tuple[int, int, float]] = field(default_factory=list)
    connected: bool = True


def _clip_convex(verts: np.ndarray, labels: list[int], a: np.ndarray, b: float, j: int) -> tuple[np.ndarray, list[int]]:
    """Clip a convex polygon by the half-plane ``a·x <= b`` (Sutherland–Hodgman), tracking edge labels.

    ``labels[k]`` names the constraint that made the edge ``verts[k] -> verts[k+1]``.
    """
    f = verts @ a - b
    out_v: list[np.ndarray] = []
    out_l: list[int] = []
    m = len(verts)
    for k in range(m):
        p, q = verts[k], verts[(k + 1) % m]
        fp, fq = f[k], f[(k + 1) % m]
        if fp <= 0:
            out_v.append(p)
            out_l.append(labels[k])
            if fq > 0:
                out_v.append(p + fp / (fp - fq) * (q - p))
                out_l.append(j)
        elif fq <= 0:
            out_v.append(p + fp / (fp - fq) * (q - p))
            out_l.append(labels[k])
    return np.asarray(out_v, dtype=float).reshape(-1, 2), out_l


def _power_cells(
    sites: np.ndarray, weights: np.ndarray, domain: BaseGeometry, box: np.ndarray, grid: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power cells clipped to *domain*, their areas and the Jacobian of the areas.

    The power cell of site *i* is ``{x : |x-s_i|² - w_i <= |x-s_j|² - w_j for all j}``,
    the intersection of n-1 half-planes; ``dA_i/dw_j = -L_ij / (2 |s_i - s_j|)`` where
    ``L_ij`` is the length of their common edge inside the domain.
    """
    n = len(sites)
    sq = (sites**2).sum(axis=1)
    polys, segs, pairs = [], [], []
    for i in range(n):
        verts, labels = box.copy(), [-1] * len(box)
        for j in range(n):
            if j == i:
                continue
            a = 2.0 * (sites[j] - sites[i])
            b = sq[j] - sq[i] - weights[j] + weights[i]
            verts, labels = _clip_convex(verts, labels, a, b, j)
            if len(verts) < 3:
                break
        polys.append(shapely.Polygon(verts) if len(verts) >= 3 else shapely.Polygon())
        for k in range(len(verts) if len(verts) >= 3 else 0):
            if labels[k] >= 0:
                segs.append(shapely.LineString([verts[k], verts[(k + 1) % len(verts)]]))
                pairs.append((i, labels[k]))
    cells = shapely.intersection(np.asarray(polys, dtype=object), domain, grid_size=grid)
    cells = np.asarray([_polygonal(c) for c in cells], dtype=object)
    areas = shapely.area(cells)
    jac = np.zeros((n, n))
    if segs:
        lengths = shapely.length(shapely.intersection(np.asarray(segs, dtype=object), domain))
        for (i, j), length in zip(pairs, lengths):
            c = 0.5 * length / (2.0 * np.linalg.norm(sites[i] - sites[j]))  # half from each side
            jac[i, j] -= c
            jac[j, i] -= c
            jac[i, i] += c
            jac[j, j] += c
    return cells, areas, jac


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """The non-empty polygons of *geom* (lines and points left by snapping are dropped)."""
    if geom.geom_type == "Polygon":
        return [] if geom.is_empty else [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _parts(g)]


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """*geom* reduced to its polygons: a Polygon, MultiPolygon or empty Polygon."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = _parts(geom)
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _reassign_fragments(
    cells: np.ndarray, anchors: np.ndarray, grid: float
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Keep each cell's main part; give every other piece to the neighbour it shares most border with.

    The main part is the one holding the site's anchor (label) point, else the largest.
    """
    n = len(cells)
    main: list[BaseGeometry] = []
    strays: list[tuple[int, BaseGeometry]] = []
    for i, c in enumerate(cells):
        parts = _parts(c)
        if len(parts) <= 1:
            main.append(c)
            continue
        pt = shapely.Point(anchors[i])
        holding = [p for p in parts if p.covers(pt)]
        keep = holding[0] if holding else max(parts, key=lambda g: g.area)
        main.append(keep)
        strays.extend((i, p) for p in parts if p is not keep)
    if not strays:
        return cells, []
    out = list(main)
    moved: list[tuple[int, int, float]] = []
    for i, frag in strays:
        ring = frag.boundary
        shared = [0.0 if k == i else shapely.intersection(ring, main[k].boundary.buffer(grid * 10)).length for k in range(n)]
        k = int(np.argmax(shared))
        if shared[k] <= 0:  # touches nobody (cannot happen inside a connected domain): keep it
            out[i] = _polygonal(shapely.union(out[i], frag, grid_size=grid))
            continue
        out[k] = _polygonal(shapely.union(out[k], frag, grid_size=grid))
        moved.append((i, k, float(frag.area)))
    return np.asarray(out, dtype=object), moved


@dataclass
class _State:
    """Weights and the cells, areas, Jacobian and hand-overs they give."""

    w: np.ndarray
    cells: np.ndarray
    areas: np.ndarray
    jac: np.ndarray
    moved: list


def _max_rel(state: _State, targets: np.ndarray) -> float:
    return float(np.max(np.abs(targets - state.areas) / targets))


def _newton(
    evaluate: Callable[[np.ndarray], _State],
    state: _State,
    targets: np.ndarray,
    rtol: float,
    max_iter: int,
    floor: float,
) -> tuple[_State, int]:
    """Damped Newton on the weights; returns the best state seen (smallest worst error) and the step count."""
    best = state
    it = 0
    while it < max_iter and _max_rel(state, targets) >= rtol:
        it += 1
        err = targets - state.areas
        step = np.zeros(len(err))
        step[1:] = np.linalg.lstsq(state.jac[1:, 1:], err[1:], rcond=None)[0]
        trial = None
        for tau in 0.5 ** np.arange(12):
            cand = evaluate(state.w + tau * step)
            if cand.areas.min() > floor and np.abs(targets - cand.areas).sum() < np.abs(err).sum():
                trial = cand
                break
        if trial is None:  # no descent direction left (areas jump with the hand-overs)
            break
        state = trial
        if _max_rel(state, targets) < _max_rel(best, targets):
            best = state
    return best, it


def partition_by_area(
    domain: BaseGeometry,
    sites: np.ndarray,
    targets: np.ndarray,
    *,
    rtol: float = 1e-4,
    max_iter: int = 100,
    connect: bool = True,
    max_error: float = 0.005,
) -> Partition:
    """Partition *domain* into power cells of prescribed areas (an area-weighted power diagram).

    Cell *i* is the set of points whose power distance ``|x - s_i|² - w_i`` to site *i*
    is smallest, clipped to *domain*.  The weights are found by damped Newton
    iterations on the areas (the areas are the gradient of a concave function of the
    weights, semi-discrete optimal transport; Kitagawa, Mérigot & Thibert 2019), which
    converge in a handful of steps.  Power cells are convex, so the cells partition the
    domain exactly (up to a snapping grid of ~1 mm).

    Parameters
    ----------
    domain
        (Multi)Polygon in a metric CRS (metres).
    sites
        ``(n, 2)`` site coordinates in the same CRS, n >= 2, distinct.
    targets
        ``(n,)`` positive target areas (any unit); rescaled to sum to the domain's area.
    rtol
        Stop when every cell is within this relative error of its target.
    max_iter
        Maximum Newton iterations (each evaluation costs n convex clips and n intersections).
    connect
        If True, a cell that the non-convex domain cuts into pieces keeps the piece holding
        its site (else its largest); each other piece goes to the neighbour it shares the
        longest border with, and the weights are re-fitted with these hand-overs in place.
        If that fit does not reach *max_error*, the plain diagram (pieces kept) is returned
        instead, with ``connected=False``.
    max_error
        Largest acceptable relative area error of any cell.

    Returns
    -------
    Partition
        Cells in the domain's coordinates.

    Raises
    ------
    ValueError
        On bad arguments (programming errors), or when even the plain diagram does not
        reach *max_error*.
    """
    sites = np.asarray(sites, dtype=float)
    targets = np.asarray(targets, dtype=float)
    n = len(sites)
    if sites.shape != (n, 2) or targets.shape != (n,) or n < 2:
        raise ValueError("sites must be (n, 2) and targets (n,), n >= 2")
    if not (targets > 0).all():
        raise ValueError("targets must be positive")
    if len(np.unique(np.round(sites, 6), axis=0)) != n:
        raise ValueError("sites must be distinct")
    # Work in a centred kilometre frame: weights stay O(10-1000) and well conditioned.
    origin = sites.mean(axis=0)
    scale = 1e-3
    s = (sites - origin) * scale
    dom = affinity.affine_transform(domain, [scale, 0, 0, scale, -origin[0] * scale, -origin[1] * scale])
    grid = 1e-6  # 1 mm in km
    t = targets * dom.area / targets.sum()
    minx, miny, maxx, maxy = dom.bounds
    r = 4.0 * max(maxx - minx, maxy - miny, np.ptp(s[:, 0]), np.ptp(s[:, 1]))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])

    def plain(w: np.ndarray) -> _State:
        cells, areas, jac = _power_cells(s, w, dom, box, grid)
        return _State(w, cells, areas, jac, [])

    def handed_over(w: np.ndarray) -> _State:
        st = plain(w)
        cells, moved = _reassign_fragments(st.cells, s, grid)
        return _State(w, cells, shapely.area(cells) if moved else st.areas, st.jac, moved)

    first = plain(np.zeros(n))
    floor = 0.5 * min(first.areas.min(), t.min())
    best, iterations = _newton(plain, first, t, rtol, max_iter, floor)
    connected = False
    if connect and any(len(_parts(c)) > 1 for c in best.cells):
        start_state = handed_over(best.w)
        linked, more = _newton(handed_over, start_state, t, rtol, max_iter, floor)
        iterations += more
        if _max_rel(linked, t) <= max_error:
            best, connected = linked, True
    rel = _max_rel(best, t)
    if rel > max_error:
        raise ValueError(f"power diagram did not converge: worst cell {rel:.2%} off its target area")
    w, cells, areas, moved = best.w, best.cells, best.areas, best.moved
    it = iterations
    back = [
        affinity.affine_transform(c, [1 / scale, 0, 0, 1 / scale, origin[0], origin[1]]) for c in cells
    ]
    k2 = 1 / scale**2
    return Partition(
        cells=back,
        areas=areas * k2,
        targets=t * k2,
        weights=w,
        iterations=it,
        max_rel_error=rel,
        reassigned=[(i, k, a * k2) for i, k, a in moved],
        connected=connected,
    )
