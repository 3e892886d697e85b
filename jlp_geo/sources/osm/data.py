"""The canonical OSM representation every channel ends in: :class:`OsmData` and its three tables.

:func:`make_tables` turns the id-keyed dicts a reader collects (pyosmium objects,
Overpass JSON elements) into the sorted ``nodes`` / ``ways`` / ``relations``
tables described in :mod:`jlp_geo.sources.osm`, with coordinates snapped to the
1e-7 degree grid OSM stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LICENCE", "MEMBER_TYPES", "OsmData", "make_tables"]

LICENCE = "ODbL 1.0 — © OpenStreetMap contributors"

_COORD_SCALE = 10_000_000  # OSM stores coordinates as integers of 1e-7 degree
MEMBER_TYPES: dict[str, str] = {
    "n": "node",
    "w": "way",
    "r": "relation",
    "node": "node",
    "way": "way",
    "relation": "relation",
}
"""Relation member type as pyosmium (``'n'``, ``'w'``, ``'r'``) or Overpass spells it -> canonical name."""


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

    def release(self) -> None:
        """Drop the node, way and relation tables (their memory) once everything needed is built from them.

        For large extracts: the coverage job calls it after the walk network and the services, so
        that neither it nor the process drawing the service areas keeps the raw tables.  Provenance
        (:attr:`source`, :attr:`date`, :meth:`provenance`) stays.
        """
        for name in ("nodes", "ways", "relations"):
            table = getattr(self, name)
            object.__setattr__(self, name, table.iloc[0:0].copy())  # frozen: the one sanctioned mutation

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


def make_tables(
    nodes: Mapping[int, tuple[float, float, dict[str, str]]],
    ways: Mapping[int, tuple[list[int], dict[str, str]]],
    relations: Mapping[int, tuple[list[tuple[str, int, str]], dict[str, str]]],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build the three canonical tables from id-keyed dicts (any order).

    Parameters
    ----------
    nodes
        Node id -> ``(lon, lat, tags)``.
    ways
        Way id -> ``(node refs, tags)``.
    relations
        Relation id -> ``(members, tags)``, members as ``(type, ref, role)`` with
        any spelling of :data:`MEMBER_TYPES`.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(nodes, ways, relations)``, each sorted by ``id`` with a RangeIndex.
    """
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
                [[(MEMBER_TYPES[t], int(r), str(role)) for t, r, role in relations[i][0]] for i in rid],
                dtype=object,
            ),
            "tags": pd.Series([dict(relations[i][1]) for i in rid], dtype=object),
        }
    )
    return node_df, way_df, rel_df
