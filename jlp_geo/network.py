"""Walk network: OSM ways and nodes -> compact arrays with terrain-aware travel times.

The network is built at *segment* level: every pair of consecutive OSM nodes of
a pedestrian-accessible way becomes one edge, in both directions (unless the
way carries ``oneway:foot``).  Ways are therefore split at every shared node
(junction), and each segment gets its own grade when a DEM is given.  All
lengths are measured in a metric analysis CRS (EPSG:4544 by default), never in
degrees or Web Mercator.

Walking speed
-------------
The default base speed is **60 m/min (3.6 km/h)**, read off the walking radii
of GB 50180-2018 (城市居住区规划设计标准): the 5-minute life circle's 300 m
gives 300/5 = 60 m/min; the 15-minute circle's 800-1000 m gives 53-67 m/min
(60 m/min sits in the middle); the 10-minute circle's 500 m gives 50 m/min
(the standard's radii are straight-line planning radii, so they do not pin the
speed down exactly).  Pass ``speed_m_per_min`` to use another value.

Hills (DEM)
-----------
With a DEM, each *directed* edge gets the grade ``g = dz / horizontal length``
and the speed::

    speed(g) = base * tobler(g) / tobler(0),   tobler(g) = 6 exp(-3.5 |g + 0.05|) km/h

i.e. Tobler's hiking function normalised so that flat ground gives exactly the
base speed (Tobler's own flat speed, 5.04 km/h, is not used).  Uphill and
downhill differ (anisotropic), so ``u -> v`` and ``v -> u`` carry different
``time_s``; home -> service times therefore need the reversed graph, which
:mod:`jlp_geo.coverage` takes care of.

Structures (the DEM describes the ground, not the deck):

* bridges (``bridge=*`` other than ``no``) and tunnels (``tunnel=*`` other
  than ``no``): the DEM beneath the segment is ignored.  The grade of every
  segment of such a way is the way's *overall* grade between its first and last
  node, ``(z_last - z_first) / way length``, when both end nodes also belong to
  a non-structure way (they touch the ground, so the DEM is right there);
  otherwise (e.g. a bridge split into several ways) the grade is 0.
* elevators (``highway=elevator``, or a way with ``elevator=yes``): grade 0,
  i.e. the horizontal length at the base speed (no waiting time is added).
* steps (``highway=steps``): ``speed = base * min(steps_factor, tobler(g)/tobler(0))``
  with ``steps_factor = 0.5`` by default.  On a flight the DEM does not resolve
  (flat), steps are half as fast as level walking; where the terrain grade is so
  steep that Tobler is already slower, Tobler alone governs -- multiplying the
  two would count the climb twice.  0.5 is a working assumption (measured
  stair speeds are roughly half of level walking speeds), configurable.

Where a node's elevation is unknown (outside the DEM or nodata) its segments
are treated as flat; :attr:`WalkNetwork.meta` counts them.

Which ways are walkable
-----------------------
After OSMnx's ``walk`` network type (``osmnx._overpass._get_network_filter``):
a way needs ``highway``; it is dropped when ``highway`` matches
``abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|rest_area|services``
(the same regular expression, searched as Overpass does), ``area=yes``,
``access=private``, ``foot=no``, ``service=private`` or any of
``sidewalk[:both|:left|:right]=separate`` (the sidewalk is mapped as its own
way, which is kept).  Tag values are compared exactly (split on ``;``), not as
unanchored regular expressions, so that e.g. ``foot=unknown`` is not read as
``foot=no``.  One addition for Chinese cities: ``highway=trunk`` /
``trunk_link`` (快速路, usually closed to pedestrians) is dropped unless it has a
sidewalk tag (``yes|both|left|right``) or ``foot=yes|designated|permissive``.
Walk ways are two-way, as in OSMnx; only ``oneway:foot`` is honoured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import require_projected, to_storage, transform_xy
from .errors import InputDataError, MissingInputError
from .settings import get_settings

DEFAULT_SPEED_M_PER_MIN: float = 60.0
"""Base walking speed on level ground (GB 50180-2018 radii: 300 m / 5 min)."""

DEFAULT_STEPS_FACTOR: float = 0.5
"""Speed factor of ``highway=steps`` relative to level walking (working assumption)."""

OSM_SOURCE: str = "OpenStreetMap contributors (ODbL)"

_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bus_guideway|construction|cycleway|motor|no|planned|"
    "platform|proposed|raceway|razed|rest_area|services"
)
_SIDEWALK_KEYS: tuple[str, ...] = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
_SIDEWALK_PRESENT: frozenset[str] = frozenset({"yes", "both", "left", "right"})
_FOOT_ALLOWED: frozenset[str] = frozenset({"yes", "designated", "permissive"})
_ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "true", "1"})


def _values(tags: Mapping[str, Any], key: str) -> set[str]:
    value = tags.get(key)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    return {part.strip().lower() for part in str(value).split(";")}


def walk_exclusion_reason(tags: Mapping[str, Any]) -> str | None:
    """Why a way is not part of the walk network, or None if it is.

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    str or None
        A short reason (``"no highway"``, ``"highway=motorway"``, ``"foot=no"``, ...)
        or None for a walkable way.  See the module docstring for the rules.
    """
    if not isinstance(tags, Mapping):
        return "no highway"
    highway = tags.get("highway")
    if highway is None or (isinstance(highway, float) and np.isnan(highway)) or str(highway) == "":
        return "no highway"
    highway = str(highway)
    if _EXCLUDED_HIGHWAY.search(highway):
        return f"highway={highway}"
    if "yes" in _values(tags, "area"):
        return "area=yes"
    if "private" in _values(tags, "access"):
        return "access=private"
    foot = _values(tags, "foot")
    if "no" in foot:
        return "foot=no"
    if "private" in _values(tags, "service"):
        return "service=private"
    for key in _SIDEWALK_KEYS:
        if "separate" in _values(tags, key):
            return f"{key}=separate"
    if highway in ("trunk", "trunk_link"):
        has_sidewalk = any(_values(tags, k) & _SIDEWALK_PRESENT for k in _SIDEWALK_KEYS)
        if not has_sidewalk and not (foot & _FOOT_ALLOWED):
            return f"highway={highway} without sidewalk"
    return None


def tobler_speed_kmh(grade: np.ndarray | float) -> np.ndarray:
    """Tobler's hiking function ``6 exp(-3.5 |g + 0.05|)`` in km/h.

    Parameters
    ----------
    grade
        Rise over horizontal run (0.1 = 10 % uphill, -0.1 = 10 % downhill).
    """
    return 6.0 * np.exp(-3.5 * np.abs(np.asarray(grade, dtype=float) + 0.05))


def tobler_factor(grade: np.ndarray | float) -> np.ndarray:
    """Tobler speed relative to level ground: ``tobler(g) / tobler(0)`` (1 on the flat)."""
    g = np.asarray(grade, dtype=float)
    return np.exp(-3.5 * (np.abs(g + 0.05) - 0.05))


def sample_dem(path: str | Path, xs: np.ndarray, ys: np.ndarray, crs: object, band: int = 1) -> np.ndarray:
    """Sample a DEM GeoTIFF at points, with bilinear interpolation.

    Parameters
    ----------
    path
        A GeoTIFF (or any raster rasterio reads) with elevations in metres and a CRS.
    xs, ys
        Point coordinates in *crs*.
    crs
        CRS of *xs*, *ys*; points are reprojected to the raster's CRS if they differ.
    band
        Raster band to read.

    Returns
    -------
    numpy.ndarray
        Elevation (float64) per point; NaN outside the raster or where any needed
        cell is nodata and the nearest cell is nodata too.

    Raises
    ------
    MissingInputError
        If the file does not exist or rasterio is not installed.
    InputDataError
        If the raster has no CRS.
    """
    try:
        import rasterio
        from rasterio.windows import Window
    except ImportError as exc:  # pragma: no cover - rasterio is in the osm extra
        raise MissingInputError(
            "reading a DEM needs the rasterio package", fix="pip install 'jlp_geo[osm]' (or pip install rasterio)"
        ) from exc
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"DEM file not found: {path}", where=str(path), fix="give the path of a GeoTIFF DEM")
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    out = np.full(xs.shape, np.nan)
    if xs.size == 0:
        return out
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise InputDataError(
                "the DEM has no coordinate reference system", where=str(path), fix="save the GeoTIFF with its CRS"
            )
        px, py = transform_xy(xs, ys, crs, ds.crs)
        inv = ~ds.transform  # fractional pixel coordinates (corner origin)
        col_f = inv.a * px + inv.b * py + inv.c
        row_f = inv.d * px + inv.e * py + inv.f
        inside = (col_f >= 0) & (col_f <= ds.width) & (row_f >= 0) & (row_f <= ds.height) & np.isfinite(col_f)
        if not inside.any():
            return out
        # read only the window that covers the points (+1 cell margin)
        c0 = max(int(np.floor(col_f[inside].min())) - 1, 0)
        r0 = max(int(np.floor(row_f[inside].min())) - 1, 0)
        c1 = min(int(np.ceil(col_f[inside].max())) + 1, ds.width)
        r1 = min(int(np.ceil(row_f[inside].max())) + 1, ds.height)
        data = ds.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        arr = np.ma.filled(data.astype(float), np.nan)
    h, w = arr.shape
    cf = col_f[inside] - c0 - 0.5  # relative to cell centres
    rf = row_f[inside] - r0 - 0.5
    cf = np.clip(cf, 0.0, w - 1.0)
    rf = np.clip(rf, 0.0, h - 1.0)
    ci = np.minimum(np.floor(cf).astype(np.int64), max(w - 2, 0))
    ri = np.minimum(np.floor(rf).astype(np.int64), max(h - 2, 0))
    ci1 = np.minimum(ci + 1, w - 1)
    ri1 = np.minimum(ri + 1, h - 1)
    tx = cf - ci
    ty = rf - ri
    z = (
        arr[ri, ci] * (1 - tx) * (1 - ty)
        + arr[ri, ci1] * tx * (1 - ty)
        + arr[ri1, ci] * (1 - tx) * ty
        + arr[ri1, ci1] * tx * ty
    )
    nearest = arr[np.clip(np.round(rf).astype(np.int64), 0, h - 1), np.clip(np.round(cf).astype(np.int64), 0, w - 1)]
    z = np.where(np.isnan(z), nearest, z)
    out[inside] = z
    return out


@dataclass
class WalkNetwork:
    """A directed walk network as flat arrays (the coverage core works on these).

    Every walkable segment appears as two directed edges (``u -> v`` and
    ``v -> u``), each with its own ``time_s``; ``length_m`` is the horizontal
    length in the analysis CRS.

    Attributes
    ----------
    node_ids
        OSM node id per node (int64).
    x, y
        Node coordinates in :attr:`crs` (metres).
    z
        Node elevation (m) or None without a DEM; NaN where unknown.
    u, v
        Directed edge endpoints as node indices (int32).
    length_m
        Horizontal edge length (m).
    time_s
        Walking time for the direction ``u -> v`` (s).
    grade
        Grade used for ``time_s`` (rise/run in the direction ``u -> v``; 0 without DEM).
    way_id
        OSM way id per edge.
    highway
        ``highway`` tag per edge (object array).
    bridge, tunnel, elevator
        Structure flags per edge (bool).
    name, name_en
        ``name`` (or ``name:zh``) and ``name:en`` tags of the way per edge
        (object arrays; None where absent).
    component
        Weakly connected component per node, numbered by size (0 = largest).
    component_size
        Number of nodes in the node's component.
    crs
        The analysis CRS of ``x``/``y``.
    speed_m_per_min
        Base (level ground) walking speed.
    source
        Data source (``"OpenStreetMap contributors (ODbL)"`` plus the extract date if known).
    meta
        Build counts: ways kept / dropped by reason, segments dropped for missing
        nodes, nodes without elevation, and so on.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray | None
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    grade: np.ndarray
    way_id: np.ndarray
    highway: np.ndarray
    bridge: np.ndarray
    tunnel: np.ndarray
    elevator: np.ndarray
    name: np.ndarray
    name_en: np.ndarray
    component: np.ndarray
    component_size: np.ndarray
    crs: str
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN
    source: str = OSM_SOURCE
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.u.size)

    def weight(self, metric: str) -> np.ndarray:
        """Edge weights for ``metric``: ``"length"`` (m) or ``"time"`` (s)."""
        if metric in ("length", "length_m"):
            return self.length_m
        if metric in ("time", "time_s"):
            return self.time_s
        raise ValueError(f"metric must be 'length' or 'time', not {metric!r}")

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The ``walk_edges`` layer: one row per directed edge, EPSG:4490.

        Columns: the provenance columns (``name_zh``/``name_en`` from the way's
        name, ``source``, ``precision="surveyed"``), ``u``, ``v``, ``u_osm``,
        ``v_osm``, ``way_id``, ``highway``, ``length_m``, ``time_s``, ``grade``,
        ``bridge``, ``tunnel``, ``elevator`` and a two-point LineString.
        """
        from .layers.common import finish_layer

        geoms = shapely.linestrings(
            np.stack(
                [np.column_stack([self.x[self.u], self.y[self.u]]), np.column_stack([self.x[self.v], self.y[self.v]])],
                axis=1,
            )
        )
        df = pd.DataFrame(
            {
                "name_zh": self.name,
                "name_en": self.name_en,
                "source": self.source,
                "precision": "surveyed",
                "uncertainty_m": np.nan,
                "u": self.u,
                "v": self.v,
                "u_osm": self.node_ids[self.u],
                "v_osm": self.node_ids[self.v],
                "way_id": self.way_id,
                "highway": self.highway,
                "length_m": self.length_m,
                "time_s": self.time_s,
                "grade": self.grade,
                "bridge": self.bridge,
                "tunnel": self.tunnel,
                "elevator": self.elevator,
            }
        )
        return finish_layer(gpd.GeoDataFrame(df, geometry=geoms, crs=self.crs), layer="walk_edges")

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """The network nodes as points in EPSG:4490.

        Columns: ``node`` (index), ``osm_id``, ``z`` (NaN without DEM),
        ``component``, ``component_size``, ``in_largest`` and the geometry.
        """
        gdf = gpd.GeoDataFrame(
            {
                "node": np.arange(self.n_nodes, dtype=np.int64),
                "osm_id": self.node_ids,
                "z": self.z if self.z is not None else np.full(self.n_nodes, np.nan),
                "component": self.component,
                "component_size": self.component_size,
                "in_largest": self.component == 0,
            },
            geometry=gpd.points_from_xy(self.x, self.y),
            crs=self.crs,
        )
        return to_storage(gdf)


def _components(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    g = coo_array((np.ones(u.size), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=True, connection="weak")
    counts = np.bincount(labels)
    order = np.argsort(-counts, kind="stable")  # relabel: 0 = largest
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    comp = rank[labels].astype(np.int32)
    return comp, counts[labels].astype(np.int64)


def _flag(tags: Mapping[str, Any], key: str) -> bool:
    vals = _values(tags, key)
    return bool(vals) and vals != {"no"}


def _check_tables(nodes: pd.DataFrame, ways: pd.DataFrame) -> None:
    """Raise :class:`InputDataError` if the OSM node/way tables lack a needed column."""
    for table, name, cols in ((nodes, "nodes", ("id", "lon", "lat")), (ways, "ways", ("id", "refs", "tags"))):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise InputDataError(
                f"the OSM {name} table lacks columns {missing}",
                where=f"{name} table",
                fix=f"give a table with columns {list(cols)} (as produced by jlp_geo.sources.osm)",
            )


def _filter_ways(
    ways: pd.DataFrame, exclusion_reason: Any, meta: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[list[int]], np.ndarray]:
    """Keep the ways *exclusion_reason* accepts; count the dropped ones by reason in *meta*.

    Returns the kept ways' tags, node refs and ids.
    """
    tags_list = list(ways["tags"])
    reasons = [exclusion_reason(t) for t in tags_list]
    keep = np.array([r is None for r in reasons], dtype=bool)
    for r in reasons:
        if r is not None:
            meta["ways_dropped"][r] = meta["ways_dropped"].get(r, 0) + 1
    meta["ways_kept"] = int(keep.sum())
    kept_tags = [t for t, k in zip(tags_list, keep) if k]
    kept_refs = [list(r) if r is not None else [] for r, k in zip(ways["refs"], keep) if k]
    return kept_tags, kept_refs, np.asarray(ways["id"], dtype=np.int64)[keep]


def _split_segments(
    nodes: pd.DataFrame,
    kept_refs: list[list[int]],
    meta: dict[str, Any],
    node_crs: object,
    target: object,
    adjective: str,
    filter_name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split kept ways into segments between consecutive node refs and project the used nodes.

    Returns ``(a, b, seg_way, used, x, y, seg_len)``: segment end node indices (int32,
    into *used*), the kept-way index of each segment, the row numbers of the used
    nodes in *nodes*, their coordinates in *target* and the segment lengths (m).
    Records ``segments_missing_node`` in *meta*; raises :class:`InputDataError`
    when no segment remains.
    """
    n_ways = len(kept_refs)
    lens = np.fromiter((len(r) for r in kept_refs), dtype=np.int64, count=n_ways)
    all_refs = (
        np.fromiter((nid for r in kept_refs for nid in r), dtype=np.int64, count=int(lens.sum()))
        if n_ways
        else np.empty(0, np.int64)
    )
    ends = np.cumsum(lens)
    seg_mask = np.ones(all_refs.size, dtype=bool)
    seg_mask[ends[lens > 0] - 1] = False  # last ref of each way starts no segment
    seg_pos = np.flatnonzero(seg_mask)
    seg_way = np.repeat(np.arange(n_ways), np.maximum(lens - 1, 0))

    node_index = pd.Index(np.asarray(nodes["id"], dtype=np.int64))
    if not node_index.is_unique:
        dup = node_index[node_index.duplicated()][:5].tolist()
        raise InputDataError(f"node ids repeat in the nodes table, e.g. {dup}", where="nodes table")
    a_row = node_index.get_indexer(all_refs[seg_pos])
    b_row = node_index.get_indexer(all_refs[seg_pos + 1])
    ok = (a_row >= 0) & (b_row >= 0)
    meta["segments_missing_node"] = int((~ok).sum())
    ok &= a_row != b_row
    a_row, b_row, seg_way = a_row[ok], b_row[ok], seg_way[ok]
    if a_row.size == 0:
        raise InputDataError(
            f"no {adjective} street segment in the OSM data ({meta['ways_kept']} of {meta['ways_in']} ways pass "
            f"the {filter_name} filter, {meta['segments_missing_node']} segments lack their nodes)",
            where="OSM ways/nodes tables",
            fix="check that the extract covers the study area and includes highway=* ways with their nodes",
        )
    used, inv = np.unique(np.concatenate([a_row, b_row]), return_inverse=True)
    a = inv[: a_row.size].astype(np.int32)
    b = inv[a_row.size :].astype(np.int32)
    lon = np.asarray(nodes["lon"], dtype=float)[used]
    lat = np.asarray(nodes["lat"], dtype=float)[used]
    x, y = transform_xy(lon, lat, node_crs, target)
    return a, b, seg_way, used, x, y, np.hypot(x[b] - x[a], y[b] - y[a])


def walk_network_from_osm(
    nodes: pd.DataFrame,
    ways: pd.DataFrame,
    crs: object | None = None,
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
    dem: str | Path | None = None,
    *,
    steps_factor: float = DEFAULT_STEPS_FACTOR,
    node_crs: object = "EPSG:4326",
    source: str = OSM_SOURCE,
) -> WalkNetwork:
    """Build the walk network from OSM node and way tables.

    Parameters
    ----------
    nodes
        Columns ``id`` (OSM node id, unique), ``lon``, ``lat`` (in *node_crs*)
        and optionally ``ele`` (elevation in metres for every node; used when
        no *dem* is given).  Extra columns are ignored.
    ways
        Columns ``id`` (OSM way id), ``refs`` (list of node ids in order) and
        ``tags`` (dict).  Non-walkable ways are filtered here (see the module
        docstring), so the table may hold all ways of an extract.
    crs
        Metric analysis CRS (default: the settings' ``analysis_crs``, EPSG:4544).
    speed_m_per_min
        Level-ground walking speed (default 60 m/min, from GB 50180-2018's radii).
    dem
        Optional DEM GeoTIFF; makes times anisotropic (Tobler, see module docstring).
    steps_factor
        Speed factor of ``highway=steps`` on level ground (default 0.5).
    node_crs
        CRS of ``lon``/``lat`` (OSM: EPSG:4326).
    source
        Provenance text stored on the network (add the extract date if known).

    Returns
    -------
    WalkNetwork
        Segment-level directed network; nodes are the OSM nodes used by walkable
        ways.  Small disconnected parts are kept and labelled (``component``,
        ``component_size``), not dropped.

    Raises
    ------
    InputDataError
        If a required column is missing, node ids repeat, the speed is not
        positive, or no walkable segment remains.
    CRSError
        If *crs* is geographic or Web Mercator.
    """
    target = require_projected(crs or get_settings().analysis_crs, where="walk network")
    _check_tables(nodes, ways)
    if not (np.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputDataError(f"walking speed must be positive, got {speed_m_per_min!r}", fix="use e.g. 60 (m/min)")
    if not (np.isfinite(steps_factor) and 0 < steps_factor <= 1):
        raise InputDataError(f"steps_factor must be in (0, 1], got {steps_factor!r}")
    meta: dict[str, Any] = {"ways_in": int(len(ways)), "ways_dropped": {}}

    # 1. filter ways
    kept_tags, kept_refs, kept_ids = _filter_ways(ways, walk_exclusion_reason, meta)

    way_highway = np.array([str(t.get("highway")) for t in kept_tags], dtype=object)
    way_name = np.array([t.get("name:zh", t.get("name")) for t in kept_tags], dtype=object)
    way_name_en = np.array([t.get("name:en") for t in kept_tags], dtype=object)
    way_bridge = np.array([_flag(t, "bridge") for t in kept_tags], dtype=bool)
    way_tunnel = np.array([_flag(t, "tunnel") for t in kept_tags], dtype=bool)
    way_elev = np.array(
        [str(t.get("highway")) == "elevator" or "yes" in _values(t, "elevator") for t in kept_tags], dtype=bool
    )
    oneway = [_values(t, "oneway:foot") for t in kept_tags]
    way_fwd = np.array([not (o & {"-1"}) for o in oneway], dtype=bool)
    way_bwd = np.array([not (o & _ONEWAY_FORWARD) for o in oneway], dtype=bool)

    # 2.-3. segments between consecutive refs; nodes actually used, projected to the analysis CRS
    a, b, seg_way, used, x, y, seg_len = _split_segments(nodes, kept_refs, meta, node_crs, target, "walkable", "walk")
    n = used.size

    # 4. elevations and grades (per segment, in the way's direction a -> b)
    z: np.ndarray | None = None
    if dem is not None:
        z = sample_dem(dem, x, y, target)
        meta["elevation"] = f"DEM {Path(dem).name}"
    elif "ele" in nodes.columns and pd.to_numeric(nodes["ele"], errors="coerce").notna().any():
        z = pd.to_numeric(nodes["ele"], errors="coerce").to_numpy(dtype=float)[used]
        meta["elevation"] = "nodes table column 'ele'"
    seg_grade = np.zeros(a.size)
    seg_struct = way_bridge[seg_way] | way_tunnel[seg_way]
    seg_elev = way_elev[seg_way]
    if z is not None:
        meta["nodes_without_elevation"] = int(np.isnan(z).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            g = (z[b] - z[a]) / seg_len
        seg_grade = np.where(np.isfinite(g), g, 0.0)
        # structures: overall grade between grounded end nodes, else flat
        grounded = np.zeros(n, dtype=bool)
        ground_seg = ~(seg_struct | seg_elev)
        grounded[a[ground_seg]] = True
        grounded[b[ground_seg]] = True
        sidx = np.flatnonzero(seg_struct & ~seg_elev)
        if sidx.size:
            sw = seg_way[sidx]  # segments are in way order, so first/last per way are the ends
            uniq, first = np.unique(sw, return_index=True)
            last = np.r_[first[1:], sw.size] - 1
            way_len = np.add.reduceat(seg_len[sidx], first)
            start_node = a[sidx[first]]
            end_node = b[sidx[last]]
            with np.errstate(invalid="ignore", divide="ignore"):
                wg = (z[end_node] - z[start_node]) / way_len
            ok_w = grounded[start_node] & grounded[end_node] & np.isfinite(wg)
            wg = np.where(ok_w, wg, 0.0)
            seg_grade[sidx] = wg[np.searchsorted(uniq, sw)]
            meta["structure_ways_flat"] = int((~ok_w).sum())
        seg_grade[seg_elev] = 0.0

    # 5. directed edges
    fwd = way_fwd[seg_way]
    bwd = way_bwd[seg_way]
    fi = np.flatnonzero(fwd)
    bi = np.flatnonzero(bwd)
    seg_of_edge = np.concatenate([fi, bi])
    u = np.concatenate([a[fi], b[bi]]).astype(np.int32)
    v = np.concatenate([b[fi], a[bi]]).astype(np.int32)
    grade = np.concatenate([seg_grade[fi], -seg_grade[bi]])
    length = seg_len[seg_of_edge]
    ew = seg_way[seg_of_edge]
    highway = way_highway[ew]
    steps = highway == "steps"
    factor = tobler_factor(grade) if z is not None else np.ones(u.size)
    factor = np.where(steps, np.minimum(steps_factor, factor), factor)
    speed_m_s = speed_m_per_min / 60.0 * factor
    time_s = length / speed_m_s

    comp, comp_size = _components(u, v, n)
    meta["components"] = int(comp.max() + 1)
    meta["nodes_outside_largest"] = int((comp != 0).sum())
    meta["steps_factor"] = steps_factor
    return WalkNetwork(
        node_ids=np.asarray(nodes["id"], dtype=np.int64)[used],
        x=x,
        y=y,
        z=z,
        u=u,
        v=v,
        length_m=length,
        time_s=time_s,
        grade=grade,
        way_id=kept_ids[ew],
        highway=highway,
        bridge=way_bridge[ew],
        tunnel=way_tunnel[ew],
        elevator=way_elev[ew],
        name=way_name[ew],
        name_en=way_name_en[ew],
        component=comp,
        component_size=comp_size,
        crs=target.to_string(),
        speed_m_per_min=float(speed_m_per_min),
        source=source,
        meta=meta,
    )


# --------------------------------------------------------------------------- drive network (haul trucks)

_DRIVE_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|"
    "pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"
)
_DRIVE_EXCLUDED_SERVICE: frozenset[str] = frozenset({"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"})
DEFAULT_TRUCK_SPEED_KMH: float = 30.0
"""Flat truck speed for the ``time_s`` column of the drive network (the haul analysis uses lengths only)."""


def drive_exclusion_reason(tags: Mapping[str, Any]) -> str | None:
    """Why a way is not part of the drive network for haul trucks, or None if it is.

    After OSMnx's ``drive`` network type (``osmnx._overpass._get_network_filter``): a way needs
    ``highway``; it is dropped when ``highway`` matches
    ``abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|
    pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track`` (searched as
    Overpass does), ``area=yes``, ``access=private``, ``motor_vehicle=no``, ``motorcar=no`` or ``service`` in
    ``alley|driveway|emergency_access|parking|parking_aisle|private``.  One addition for haul trucks:
    ``hgv=no`` is dropped.  Tag values are compared exactly (split on ``;``).

    Parameters
    ----------
    tags
        The way's OSM tags.
    """
    if not isinstance(tags, Mapping):
        return "no highway"
    highway = tags.get("highway")
    if highway is None or (isinstance(highway, float) and np.isnan(highway)) or str(highway) == "":
        return "no highway"
    highway = str(highway)
    if _DRIVE_EXCLUDED_HIGHWAY.search(highway):
        return f"highway={highway}"
    if "yes" in _values(tags, "area"):
        return "area=yes"
    if "private" in _values(tags, "access"):
        return "access=private"
    for key in ("motor_vehicle", "motorcar", "hgv"):
        if "no" in _values(tags, key):
            return f"{key}=no"
    if _values(tags, "service") & _DRIVE_EXCLUDED_SERVICE:
        return "service=" + ";".join(sorted(_values(tags, "service") & _DRIVE_EXCLUDED_SERVICE))
    return None


def drive_network_from_osm(
    nodes: pd.DataFrame,
    ways: pd.DataFrame,
    crs: object | None = None,
    *,
    speed_kmh: float = DEFAULT_TRUCK_SPEED_KMH,
    node_crs: object = "EPSG:4326",
    source: str = OSM_SOURCE,
) -> WalkNetwork:
    """Build the drive network (for haul trucks) from OSM node and way tables.

    Same segment-level arrays as :func:`walk_network_from_osm` (the :class:`WalkNetwork` container), with
    the drive filter of :func:`drive_exclusion_reason` and one-way streets: ``oneway=yes|true|1`` and
    ``junction=roundabout`` give only ``u -> v``, ``oneway=-1`` only ``v -> u``.  Grades are 0 and
    ``time_s = length / speed_kmh`` (the haul analysis uses ``length_m``).

    Parameters
    ----------
    nodes
        Columns ``id``, ``lon``, ``lat`` (in *node_crs*).
    ways
        Columns ``id``, ``refs``, ``tags``; non-drivable ways are filtered here.
    crs
        Metric analysis CRS (default: the settings' ``analysis_crs``).
    speed_kmh
        Flat speed for ``time_s``.
    node_crs
        CRS of ``lon``/``lat``.
    source
        Provenance text stored on the network.

    Returns
    -------
    WalkNetwork
        ``meta`` counts ways kept/dropped by reason and one-way ways.

    Raises
    ------
    InputDataError
        Missing columns, repeated node ids, a non-positive speed, or no drivable segment.
    CRSError
        If *crs* is geographic or Web Mercator.
    """
    target = require_projected(crs or get_settings().analysis_crs, where="drive network")
    _check_tables(nodes, ways)
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        raise InputDataError(f"speed must be positive, got {speed_kmh!r}", fix="use e.g. 30 (km/h)")
    meta: dict[str, Any] = {"ways_in": len(ways), "ways_dropped": {}}
    kept_tags, kept_refs, kept_ids = _filter_ways(ways, drive_exclusion_reason, meta)
    way_highway = np.array([str(t.get("highway")) for t in kept_tags], dtype=object)
    way_name = np.array([t.get("name:zh", t.get("name")) for t in kept_tags], dtype=object)
    way_name_en = np.array([t.get("name:en") for t in kept_tags], dtype=object)
    way_bridge = np.array([_flag(t, "bridge") for t in kept_tags], dtype=bool)
    way_tunnel = np.array([_flag(t, "tunnel") for t in kept_tags], dtype=bool)
    oneway = [_values(t, "oneway") for t in kept_tags]
    roundabout = np.array(["roundabout" in _values(t, "junction") for t in kept_tags], dtype=bool)
    way_fwd = np.array([not (o & {"-1"}) for o in oneway], dtype=bool)
    way_bwd = np.array([not (o & _ONEWAY_FORWARD) for o in oneway], dtype=bool) & ~roundabout
    meta["oneway_ways"] = int((~(way_fwd & way_bwd)).sum())

    a, b, seg_way, used, x, y, seg_len = _split_segments(nodes, kept_refs, meta, node_crs, target, "drivable", "drive")
    n = used.size
    fi = np.flatnonzero(way_fwd[seg_way])
    bi = np.flatnonzero(way_bwd[seg_way])
    seg_of_edge = np.concatenate([fi, bi])
    u = np.concatenate([a[fi], b[bi]]).astype(np.int32)
    v = np.concatenate([b[fi], a[bi]]).astype(np.int32)
    length = seg_len[seg_of_edge]
    ew = seg_way[seg_of_edge]
    comp, comp_size = _components(u, v, n)
    meta["components"] = int(comp.max() + 1)
    meta["nodes_outside_largest"] = int((comp != 0).sum())
    return WalkNetwork(
        node_ids=np.asarray(nodes["id"], dtype=np.int64)[used],
        x=x,
        y=y,
        z=None,
        u=u,
        v=v,
        length_m=length,
        time_s=length / (speed_kmh / 3.6),
        grade=np.zeros(u.size),
        way_id=kept_ids[ew],
        highway=way_highway[ew],
        bridge=way_bridge[ew],
        tunnel=way_tunnel[ew],
        elevator=np.zeros(u.size, dtype=bool),
        name=way_name[ew],
        name_en=way_name_en[ew],
        component=comp,
        component_size=comp_size,
        crs=target.to_string(),
        speed_m_per_min=float(speed_kmh) * 1000.0 / 60.0,
        source=source,
        meta=meta,
    )
