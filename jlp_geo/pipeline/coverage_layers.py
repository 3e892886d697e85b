"""The compact layers written into ``coverage.gpkg``: one walk-network row per OSM way, integer access costs.

The in-memory result keeps its full form (``result.nodes`` with float ``dist_m_<id>`` /
``time_min_<id>``, ``network.edges_gdf()`` with one row per directed edge); only what is
written changes, so that the GeoPackage of a 500k-node network stays small and fast to write:

* ``walk_edges`` -- one row per connected run of an OSM way's segments (usually the whole
  way), with the walking times in both directions instead of two directed rows per segment;
* ``access_nodes`` -- network metres and walking seconds as integers rounded UP
  (``ceil``; SQLite stores a small integer in 1-3 bytes, every REAL in 8), so a reader who
  re-tests an integer threshold gets exactly the analysis's covered flag;
* every row keeps the provenance columns, with a short per-row ``source`` (the full text is
  in the layer's metadata).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import transform_xy
from ..layers.common import finish_layer
from ..settings import get_settings

if TYPE_CHECKING:
    from ..analysis.accessibility import CoverageResult
    from ..network import WalkNetwork

__all__ = [
    "NODE_INDEX_LIMIT",
    "VALID_BY_CONSTRUCTION",
    "access_nodes_chunks",
    "access_nodes_layer",
    "ceil_seconds",
    "coverage_gpkg_layers",
    "coverage_layer_metadata",
    "short_source",
    "walk_ways_layer",
]

VALID_BY_CONSTRUCTION: frozenset[str] = frozenset({"walk_edges", "access_nodes", "coverage_hex", "isochrones"})
"""Layers whose geometries are valid by construction (no validity check needed when writing):
merged street lines without zero-length parts, network nodes, H3 hexagons, service areas traced by
marching squares on a 0/1 grid (rings never cross or touch; ``tests/test_service_areas.py`` checks)."""

NODE_INDEX_LIMIT: int = 200_000
"""From this many network nodes on, ``access_nodes`` is written without a spatial index (its R-tree
costs more than the points: 35 MB at 500k nodes); the layer's metadata says how to add one in QGIS."""

CEIL_NOTE = ("rounded up (ceil): for an integer threshold L, ceil(x) <= L exactly when x <= L, so re-testing "
             "15 min = 900 s or 300 m on this column gives exactly the analysis's covered flag; NULL = unreachable")

_OSM_SOURCE = re.compile(r"^OpenStreetMap via (?:\w+ file |)(?P<what>.*?), (?P<date>\d{4}-\d{2}-\d{2})")


def short_source(text: str) -> str:
    """A short per-row ``source`` for a long one: dataset and date, ``"OSM 2026-01-01"`` (the full text, with
    the file or API it came through, is in the layer's metadata); other texts unchanged.

    Parameters
    ----------
    text
        The full provenance text (``"OpenStreetMap via PBF file grid.osm.pbf, 2026-01-01T00:00:00Z"``).
    """
    m = _OSM_SOURCE.match(text or "")
    if not m:
        return text
    return f"OSM {m['date']}"


def ceil_seconds(minutes: np.ndarray) -> np.ndarray:
    """Walking minutes as whole seconds rounded up, exact against integer-minute thresholds.

    The smallest integer ``s`` with ``s / 60 >= minutes`` (in floating point), so that
    ``s <= 60 * L`` holds exactly when ``minutes <= L`` for every integer ``L`` (a plain
    ``ceil(minutes * 60)`` can be off by one where ``minutes * 60`` rounds). NaN stays NaN.
    """
    t = np.asarray(minutes, dtype=float)
    with np.errstate(invalid="ignore"):
        s = np.ceil(t * 60.0)
        s = np.where((s - 1.0) / 60.0 >= t, s - 1.0, s)
        return np.where(s / 60.0 < t, s + 1.0, s)


def _int_column(values: np.ndarray) -> pd.array:
    """Float values (already whole, NaN = unknown) as a nullable Int32 column (written as INTEGER / NULL)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    out = np.zeros(v.size, dtype=np.int32)
    out[ok] = v[ok].astype(np.int64).clip(np.iinfo(np.int32).min, np.iinfo(np.int32).max)
    return pd.arrays.IntegerArray(out, ~ok)


NODE_CHUNK: int = 100_000
"""Rows of ``access_nodes`` built and written at a time (the integer columns of 500k nodes are 100 MB)."""


def access_nodes_chunks(result: CoverageResult, rows: int = NODE_CHUNK) -> Iterator[gpd.GeoDataFrame]:
    """:func:`access_nodes_layer` in consecutive chunks of *rows* nodes (for writing without holding it whole)."""
    for start in range(0, max(len(result.nodes), 1), rows):
        yield access_nodes_layer(result, slice(start, start + rows))


def access_nodes_layer(result: CoverageResult, rows: slice | None = None) -> gpd.GeoDataFrame:
    """The ``access_nodes`` layer as written: integer metres and seconds to the nearest service per category.

    The columns of ``result.nodes`` in their order (provenance with a short ``source``, ``node``,
    ``osm_node_id``, ``component``, ``component_size``, ``population``, ``covered_*_basic_all``),
    except that per category ``dist_m_<id>`` holds network metres rounded up and ``time_min_<id>``
    becomes ``time_s_<id>``, walking seconds rounded up (:func:`ceil_seconds`): nullable integers,
    NULL = unreachable.
    """
    nodes = result.nodes if rows is None else result.nodes.iloc[rows]
    geom = nodes.geometry.name
    ids = {c.id for c in result.categories}
    cols: dict[str, object] = {}
    for col in nodes.columns:
        if col == geom or col in ("node", "component"):  # node = fid - 1; the part's size, not its arbitrary id
            continue
        if col.startswith("dist_m_") and col[7:] in ids:
            cols[col] = _int_column(np.ceil(nodes[col].to_numpy(dtype=float)))
        elif col.startswith("time_min_") and col[9:] in ids:
            cols[f"time_s_{col[9:]}"] = _int_column(ceil_seconds(nodes[col].to_numpy(dtype=float)))
        elif col == "source":
            cols[col] = nodes[col].map({s: short_source(s) for s in nodes[col].unique()}).to_numpy()
        else:
            cols[col] = nodes[col].to_numpy()
    return gpd.GeoDataFrame(pd.DataFrame(cols), geometry=nodes.geometry.to_numpy(), crs=nodes.crs)


def _segments(net: WalkNetwork) -> dict[str, np.ndarray]:
    """Undirected segments of the directed edges, sorted by (way, end nodes): ends, length, both times, grade.

    A segment is every directed edge with the same way and the same two end nodes; it is oriented
    like its first directed edge (the way's own direction for the OSM builders), ``t_ab`` / ``t_ba``
    the shortest time of its edges in / against that orientation (NaN: not walkable that way).
    """
    u, v = net.u.astype(np.int64), net.v.astype(np.int64)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((np.arange(u.size), hi, lo, net.way_id))  # stable: first of a group = lowest edge index
    wo, lo_o, hi_o = net.way_id[order], lo[order], hi[order]
    start = np.flatnonzero(np.r_[True, (wo[1:] != wo[:-1]) | (lo_o[1:] != lo_o[:-1]) | (hi_o[1:] != hi_o[:-1])])
    first = order[start]
    a, b = u[first], v[first]
    seg_of = np.repeat(np.arange(start.size), np.diff(np.r_[start, order.size]))
    along = u[order] == a[seg_of]
    t = net.time_s[order]
    t_ab = np.minimum.reduceat(np.where(along, t, np.inf), start)
    t_ba = np.minimum.reduceat(np.where(along, np.inf, t), start)
    grade = np.maximum.reduceat(np.abs(net.grade[order]), start)
    return {"edge": first, "a": a, "b": b, "length": net.length_m[first], "grade": grade,
            "t_ab": np.where(np.isfinite(t_ab), t_ab, np.nan), "t_ba": np.where(np.isfinite(t_ba), t_ba, np.nan)}


def walk_ways_layer(net: WalkNetwork) -> gpd.GeoDataFrame:
    """The ``walk_edges`` layer as written: one row per connected run of an OSM way's segments.

    A way whose segments follow one another (the builders emit them in the way's order) is one
    line drawn in the way's direction; the others (missing nodes, reversed or branching pieces)
    are merged with ``shapely.line_merge``, one row per connected run. Zero-length segments (two
    nodes at one position) are left out of the geometry and the sums.

    Columns: the provenance columns (way name, short ``source``, ``precision="surveyed"``),
    ``way_id``, ``highway``, ``length_m`` (sum of the segments' horizontal lengths),
    ``time_fwd_s`` / ``time_back_s`` (walking seconds along / against the direction the line is
    drawn; NULL where a segment is one-way against that direction), ``max_grade`` (largest
    |rise/run| of its segments), ``bridge``, ``tunnel``, ``elevator``, ``n_segments``.
    """
    seg = _segments(net)
    canon = _canonical_nodes(net.x, net.y)
    seg["a"], seg["b"] = canon[seg["a"]], canon[seg["b"]]
    seg["way"] = net.way_id[seg["edge"]]
    keep = seg["a"] != seg["b"]
    order = np.lexsort((seg["edge"], seg["way"]))  # per way, in the order the builder emitted them
    order = order[keep[order]]
    seg = {k: val[order] for k, val in seg.items()}
    way_ids, way_idx = np.unique(seg["way"], return_inverse=True)
    a, b = seg["a"], seg["b"]
    same_way = way_idx[1:] == way_idx[:-1]
    broken = np.zeros(way_ids.size, dtype=bool)
    broken[way_idx[1:][same_way & (b[:-1] != a[1:])]] = True
    chain = ~broken[way_idx]
    runs = [_chained_runs(seg, way_idx, chain), _merged_runs(seg, way_idx, ~chain, net.x, net.y)]
    offsets = np.cumsum([0] + [len(r["part_way"]) for r in runs])
    part_way = np.concatenate([r["part_way"] for r in runs])
    vert_node = np.concatenate([r["vert_node"] for r in runs])
    vert_part = np.concatenate([r["vert_part"] + o for r, o in zip(runs, offsets)])
    pair_part = np.concatenate([r["pair_part"] + o for r, o in zip(runs, offsets)])
    n_parts = part_way.size
    counts = np.bincount(pair_part, minlength=n_parts)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)  # every run has at least one segment

    def per_part(key: str, ufunc: np.ufunc) -> np.ndarray:
        values = np.concatenate([r[key] for r in runs])
        return ufunc.reduceat(values, starts) if n_parts else np.empty(0)

    lon, lat = transform_xy(net.x, net.y, net.crs, get_settings().storage_crs)
    geoms = shapely.linestrings(np.column_stack([lon[vert_node], lat[vert_node]]), indices=vert_part) \
        if n_parts else np.empty(0, dtype=object)
    first_edge = seg["edge"][np.r_[0, np.flatnonzero(np.diff(way_idx)) + 1]] if way_idx.size else np.empty(0, np.int64)
    e = first_edge[part_way]
    df = pd.DataFrame({
        "name_zh": net.name[e], "name_en": net.name_en[e], "source": short_source(net.source),
        "precision": "surveyed", "uncertainty_m": np.nan,
        "way_id": way_ids[part_way], "highway": net.highway[e],
        "length_m": np.round(per_part("length", np.add), 2),
        "time_fwd_s": np.round(per_part("fwd", np.add), 1),
        "time_back_s": np.round(per_part("back", np.add), 1),
        "max_grade": np.round(per_part("grade", np.maximum), 4),
        "bridge": net.bridge[e], "tunnel": net.tunnel[e], "elevator": net.elevator[e],
        "n_segments": counts.astype(np.int32),
    })
    return gpd.GeoDataFrame(df, geometry=geoms, crs=get_settings().storage_crs)


def _chained_runs(seg: dict[str, np.ndarray], way_idx: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Ways whose segments follow one another: one run each, vertices = first start node, then every end node."""
    s = {k: val[rows] for k, val in seg.items()}
    w = way_idx[rows]
    starts = np.flatnonzero(np.r_[True, w[1:] != w[:-1]]) if w.size else np.empty(0, np.int64)
    part_of_seg = np.cumsum(np.r_[True, w[1:] != w[:-1]]) - 1 if w.size else np.empty(0, np.int64)
    return {"part_way": w[starts], "vert_node": np.insert(s["b"], starts, s["a"][starts]),
            "vert_part": np.insert(part_of_seg, starts, part_of_seg[starts]), "pair_part": part_of_seg,
            "fwd": s["t_ab"], "back": s["t_ba"], "length": s["length"], "grade": s["grade"]}


def _merged_runs(seg: dict[str, np.ndarray], way_idx: np.ndarray, rows: np.ndarray, x: np.ndarray,
                 y: np.ndarray) -> dict[str, np.ndarray]:
    """Ways whose segments do not follow one another: ``shapely.line_merge`` per way, one run per part.

    The node index rides along as Z, so the merged lines say which nodes they pass; their
    consecutive vertices are matched back to the segments by (way, end nodes).
    """
    s = {k: val[rows] for k, val in seg.items()}
    w, a, b = way_idx[rows], s["a"], s["b"]
    coords = np.stack([np.column_stack([x[a], y[a], a]), np.column_stack([x[b], y[b], b])], axis=1)
    ways, local = np.unique(w, return_inverse=True)
    merged = shapely.line_merge(shapely.multilinestrings(shapely.linestrings(coords), indices=local)) if w.size else []
    parts, part_way = shapely.get_parts(merged, return_index=True)
    part_way = ways[part_way]
    xyz, vert_part = shapely.get_coordinates(parts, include_z=True, return_index=True)
    pair = np.flatnonzero(vert_part[1:] == vert_part[:-1])
    vert_node = xyz[:, 2].astype(np.int64)
    p, q = vert_node[pair], vert_node[pair + 1]
    hit = _match(w, a, b, part_way[vert_part[pair]], p, q)
    found = hit >= 0
    hit = np.where(found, hit, 0)
    along = a[hit] == p
    out = {"part_way": part_way, "vert_node": vert_node, "vert_part": vert_part, "pair_part": vert_part[pair]}
    for key, here, there in (("fwd", "t_ab", "t_ba"), ("back", "t_ba", "t_ab")):
        out[key] = np.where(found, np.where(along, s[here][hit], s[there][hit]), np.nan)
    out["length"] = np.where(found, s["length"][hit], np.nan)
    out["grade"] = np.where(found, s["grade"][hit], np.nan)
    return out


def _canonical_nodes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per node, the lowest-index node at exactly the same position (itself when alone)."""
    order = np.lexsort((np.arange(x.size), y, x))
    xs, ys = x[order], y[order]
    new = np.r_[True, (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])]
    head = order[np.flatnonzero(new)]
    out = np.empty(x.size, dtype=np.int64)
    out[order] = head[np.cumsum(new) - 1]
    return out


def _match(seg_way: np.ndarray, a: np.ndarray, b: np.ndarray, pw: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Index of the segment ``(seg_way, {a, b})`` of each vertex pair ``(pw, {p, q})``; -1 where none.

    Every segment appears once among the merged lines' vertex pairs, so both sorted by
    (way, lower node, higher node) they line up; a general look-up is the fallback.
    """
    lo, hi, plo, phi = np.minimum(a, b), np.maximum(a, b), np.minimum(p, q), np.maximum(p, q)
    if pw.size == seg_way.size:
        so, po = np.lexsort((hi, lo, seg_way)), np.lexsort((phi, plo, pw))
        if (np.array_equal(seg_way[so], pw[po]) and np.array_equal(lo[so], plo[po])
                and np.array_equal(hi[so], phi[po])):
            out = np.empty(pw.size, dtype=np.int64)
            out[po] = so
            return out
    key = pd.MultiIndex.from_arrays([seg_way, lo, hi])
    return key.get_indexer(pd.MultiIndex.from_arrays([pw, plo, phi]))


def coverage_gpkg_layers(result: CoverageResult) -> dict[str, gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame]]:
    """The layers of ``coverage.gpkg``, in order: the compact ``walk_edges`` and ``access_nodes``, the rest as is.

    Parameters
    ----------
    result
        The coverage analysis (:func:`jlp_geo.analysis.accessibility.analyse_coverage`).

    Returns
    -------
    dict of str to GeoDataFrame
        ``walk_edges`` (:func:`walk_ways_layer`), ``services``, ``access_nodes``
        (:func:`access_nodes_layer`), ``coverage_hex``, ``coverage_townships`` /
        ``coverage_clusters`` when computed, and ``isochrones``; ``walk_edges``, ``access_nodes`` and
        ``isochrones`` as functions returning the layer (built -- or, for the service areas, awaited from
        the second process -- when :func:`jlp_geo.io.write_geopackage` comes to them, and freed after);
        every one in EPSG:4490 with the provenance columns.
    """
    out = {  # the two large layers are built when written (and freed after): not all held at once
        "walk_edges": lambda: walk_ways_layer(result.network),
        "services": finish_layer(result.services, layer="services"),
        "access_nodes": lambda: access_nodes_chunks(result, NODE_CHUNK),
        "coverage_hex": result.by_hex,
    }
    if result.by_township is not None:
        out["coverage_townships"] = result.by_township
    if result.by_cluster is not None:
        out["coverage_clusters"] = result.by_cluster
    out["isochrones"] = lambda: result.isochrones  # drawn in a second process: written last, when ready
    return out


def coverage_layer_metadata(result: CoverageResult) -> dict[str, dict[str, str]]:
    """Layer metadata of the compact layers: the full source text and what each new column holds.

    Stored by :func:`jlp_geo.io.write_geopackage` as the layer's GDAL metadata and in its QGIS
    metadata (abstract), so the description travels with the file.
    """
    src = result.network.source
    short = short_source(src)
    basis = f"source: per-row '{short}' stands for: {src}"
    return {
        "walk_edges": {
            "description": "步行网络：每条 OSM 道路一行（连续路段合并） Walk network: one row per OSM way (connected run of its segments)",
            "source_full": basis,
            "column_length_m": "horizontal length (m), sum of the way's segments",
            "column_time_fwd_s": "walking seconds along the direction the line is drawn (sum of the directed edges); NULL = one-way against it",
            "column_time_back_s": "walking seconds against the direction the line is drawn; differs from time_fwd_s on slopes (DEM)",
            "column_max_grade": "largest |rise/run| of the way's segments (0 without a DEM)",
            "column_n_segments": "number of node-to-node segments merged into the row",
        },
        "access_nodes": {
            "description": "路网节点到各类最近设施的步行距离（米）与时间（秒） Network nodes: walking metres and seconds to the nearest service per category",
            "source_full": basis,
            "column_dist_m_<category>": f"network metres to the nearest service of the category, integer {CEIL_NOTE}",
            "column_time_s_<category>": f"walking seconds to the nearest service of the category, integer {CEIL_NOTE}",
            "spatial_index": ("none (more than {:,} nodes: the R-tree would outweigh the points); QGIS: Layer Properties > "
                              "Source > Create Spatial Index".format(NODE_INDEX_LIMIT)
                              if len(result.nodes) >= NODE_INDEX_LIMIT else "R-tree"),
            "column_node": "not a column: the node index is fid - 1 (one row per network node, in node order)",
            "column_component_size": "nodes in the node's connected part of the walk network (a small part: an isolated fragment)",
            "column_covered_time_basic_all": "covered for every basic category by the time rule (minutes <= the category's level)",
            "column_covered_dist_basic_all": "covered for every basic category by the distance rule (metres <= the category's radius)",
        },
    }
