"""The online channel: Overpass API (through osmnx's request and cache machinery) -> :class:`OsmData`.

:func:`overpass_queries` builds the queries, :func:`fetch_overpass` sends them
(osmnx caches the responses, so a repeated run needs no internet) and
:func:`osm_from_overpass_json` turns responses -- fresh, cached or saved by
``jlp-geo fetch`` -- into the canonical tables, clipped like files are.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import InputDataError, MissingInputError
from ...settings import get_settings
from .clip import as_lonlat_polygon, clip_osm
from .data import OsmData, make_tables
from .geofabrik import GEOFABRIK_CHONGQING_URL

__all__ = ["DEFAULT_OVERPASS_FILTERS", "fetch_overpass", "osm_from_overpass_json", "overpass_queries"]

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
            "emergency",  # emergency=assembly_point: 应急避难场所 (layers/shelter_tags.csv, issue 15)
        )
        for kind in ("node", "way", "relation")
    ),
    # parks by land use; urban land use for the 建成区 stand-in of 路网密度 and the residential-area basis (issue 15)
    *(f'{kind}["landuse"~"^(recreation_ground|village_green|residential|commercial|retail|industrial)$"]'
      for kind in ("way", "relation")),
    *(f'{kind}["name"]' for kind in ("node", "way", "relation")),
)
"""Overpass filters fetched by default: every highway (the walk network is
filtered later, in :mod:`jlp_geo.network`) and every object carrying a key the
service-category table (``layers/service_categories.csv``) tests, plus named
objects (some category rules match on names alone).  :func:`jlp_geo.layers.categories.overpass_filters`
derives a tighter list from the table."""


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
    node_df, way_df, rel_df = make_tables(nodes, ways, rels)
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

    geom = as_lonlat_polygon(polygon)
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
