"""The offline channel: ``.osm.pbf`` and OSM XML files read with pyosmium.

:func:`read_osm_file` streams the file; with a study area it reads in passes so
only the area's bounding box is held in memory, then applies the clipping rule
of :mod:`jlp_geo.sources.osm.clip`.  The data date comes from the file header
(or an Overpass XML ``<meta osm_base>``), else from the newest edit read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from ...errors import InputDataError, MissingInputError
from .clip import as_lonlat_polygon, clip_tables, empty_clip_error
from .data import MEMBER_TYPES, OsmData, make_tables
from .geofabrik import GEOFABRIK_CHONGQING_URL

__all__ = ["read_osm_file"]


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
    return [(MEMBER_TYPES[m.type], int(m.ref), str(m.role)) for m in obj.members]


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
    geom = as_lonlat_polygon(polygon) if polygon is not None else None
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
    node_df, way_df, rel_df = make_tables(nodes, ways, rels)
    if geom is not None:
        node_df, way_df, rel_df = clip_tables(node_df, way_df, rel_df, geom)
    if node_df.empty and way_df.empty:
        if geom is not None:
            raise empty_clip_error(label, geom)
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
    """Stream a file in passes, keeping a superset of what :func:`clip_tables` keeps.

    1. relations (all; few);  2. nodes inside the polygon's bounding box;
    3. ways touching those nodes, and every way that is a member of a
    multipolygon relation;  4. the remaining nodes those ways reference.
    Running :func:`clip_tables` on this superset gives exactly what it gives on
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

