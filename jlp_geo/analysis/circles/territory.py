"""Polygons of the units: network-Voronoi territories that tile each 镇街, and their residential land.

A unit's territory is the union of the (straight-line) Voronoi cells of its walk-network nodes, computed
per nesting unit and clipped to it, so the units of one 镇街 tile it without gaps or overlaps (up to
floating-point slivers) and never cross its boundary.  The residential part of a unit is its territory
intersected with the residential land (OSM ``landuse=residential`` and residential buildings).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["overlap_area", "polygonal", "residential_parts", "territories"]


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygonal part of *geom* (an intersection may add stray lines or points); empty Polygon if none."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.union_all(polys)


def territories(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    node_group: np.ndarray,
    unit_group: np.ndarray,
    group_polygons: dict[int, shapely.Geometry],
) -> list[shapely.Geometry]:
    """Territory polygon per unit (analysis CRS).

    Parameters
    ----------
    x, y
        Node coordinates.
    labels
        Unit per node (-1 = none).
    node_group
        Nesting unit per node.
    unit_group
        Nesting unit per unit.
    group_polygons
        Polygon of each nesting unit (same CRS as *x*, *y*).

    Returns
    -------
    list of shapely geometries
        One per unit, in unit order (empty geometry where a unit has no area).
    """
    out: list[shapely.Geometry] = [shapely.Polygon()] * int(unit_group.size)
    for gcode, poly in group_polygons.items():
        units = np.flatnonzero(unit_group == gcode)
        if units.size == 0:
            continue
        if units.size == 1:
            out[int(units[0])] = polygonal(poly)
            continue
        idx = np.flatnonzero((labels >= 0) & (node_group == gcode))
        xy, first = np.unique(np.column_stack([x[idx], y[idx]]), axis=0, return_index=True)
        lab = labels[idx][first]
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=poly, ordered=True)
        )
        for j in units:
            mine = cells[lab == j]
            if mine.size == 0:
                continue
            merged = shapely.coverage_union_all(mine)
            out[int(j)] = polygonal(shapely.intersection(merged, poly))
    return out


def make_contiguous(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    seeds: np.ndarray,
    territory: list[shapely.Geometry],
) -> tuple[np.ndarray, int]:
    """Hand every detached piece of a unit (an enclave inside other units) to the neighbour it shares most border with.

    A piece is any polygon of a unit's territory but its main one (the one holding the seed node, unless
    another is over four times larger) that touches another
    unit; its nodes (and residents) move to that neighbour, so populations stay conserved.  Pieces touching no
    other unit (a 镇街's own exclave) stay.

    Returns
    -------
    tuple
        New labels and the number of pieces moved.
    """
    labels = labels.copy()
    moved = 0
    arr = np.asarray(territory, dtype=object)
    tree = shapely.STRtree(arr)
    for j, geom in enumerate(territory):
        parts = shapely.get_parts(geom)
        if parts.size <= 1:
            continue
        seed_pt = shapely.Point(x[seeds[j]], y[seeds[j]]) if seeds[j] >= 0 else None
        holds_seed = [seed_pt is not None and p.covers(seed_pt) for p in parts]
        main = int(np.argmax(holds_seed)) if any(holds_seed) else int(np.argmax(shapely.area(parts)))
        if shapely.area(parts).max() > 4 * parts[main].area:  # the seed sits in a sliver: keep the largest piece
            main = int(np.argmax(shapely.area(parts)))
        for i, part in enumerate(parts):
            if i == main:
                continue
            border = part.boundary
            best, best_len = -1, 0.0
            for k in tree.query(part, predicate="intersects"):
                if int(k) == j:
                    continue
                shared = border.intersection(arr[int(k)].boundary).length
                if shared > best_len:
                    best, best_len = int(k), shared
            if best < 0:
                continue
            inside = np.flatnonzero((labels == j) & shapely.contains_xy(part, x, y))
            if inside.size:
                labels[inside] = best
                moved += 1
    return labels, moved


def residential_parts(territory: list[shapely.Geometry], residential: shapely.Geometry | None) -> list[shapely.Geometry]:
    """Residential land inside each territory (empty geometries where none or no residential data)."""
    if residential is None or residential.is_empty:
        return [shapely.Polygon()] * len(territory)
    shapely.prepare(residential)
    return [polygonal(shapely.intersection(t, residential)) if not t.is_empty else shapely.Polygon() for t in territory]


def overlap_area(geoms: list[shapely.Geometry]) -> float:
    """Total pairwise overlap area (m²) among *geoms* (sum of intersections of intersecting pairs)."""
    arr = np.asarray([g if g is not None else shapely.Polygon() for g in geoms], dtype=object)
    tree = shapely.STRtree(arr)
    a, b = tree.query(arr, predicate="intersects")
    keep = a < b
    if not keep.any():
        return 0.0
    return float(shapely.area(shapely.intersection(arr[a[keep]], arr[b[keep]])).sum())
