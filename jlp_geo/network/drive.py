"""The drive network for haul trucks: OSM node and way tables -> a segment-level :class:`WalkNetwork`.

Same arrays as the walk network, with the drive filter
(:func:`~jlp_geo.network.filters.drive_exclusion_reason`), one-way streets and
roundabouts honoured, flat grades and a constant truck speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..crs import require_projected
from ..errors import InputDataError
from ..settings import get_settings
from .filters import ONEWAY_FORWARD, check_tables, drive_exclusion_reason, filter_ways, tag_flag, tag_values
from .graph import OSM_SOURCE, WalkNetwork, components
from .segments import split_segments

__all__ = ["DEFAULT_TRUCK_SPEED_KMH", "drive_network_from_osm"]

DEFAULT_TRUCK_SPEED_KMH: float = 30.0
"""Flat truck speed for the ``time_s`` column of the drive network (the haul analysis uses lengths only)."""


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
    check_tables(nodes, ways)
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        raise InputDataError(f"speed must be positive, got {speed_kmh!r}", fix="use e.g. 30 (km/h)")
    meta: dict[str, Any] = {"ways_in": len(ways), "ways_dropped": {}}
    kept_tags, kept_refs, kept_ids = filter_ways(ways, drive_exclusion_reason, meta)
    way_highway = np.array([str(t.get("highway")) for t in kept_tags], dtype=object)
    way_name = np.array([t.get("name:zh", t.get("name")) for t in kept_tags], dtype=object)
    way_name_en = np.array([t.get("name:en") for t in kept_tags], dtype=object)
    way_bridge = np.array([tag_flag(t, "bridge") for t in kept_tags], dtype=bool)
    way_tunnel = np.array([tag_flag(t, "tunnel") for t in kept_tags], dtype=bool)
    oneway = [tag_values(t, "oneway") for t in kept_tags]
    roundabout = np.array(["roundabout" in tag_values(t, "junction") for t in kept_tags], dtype=bool)
    way_fwd = np.array([not (o & {"-1"}) for o in oneway], dtype=bool)
    way_bwd = np.array([not (o & ONEWAY_FORWARD) for o in oneway], dtype=bool) & ~roundabout
    meta["oneway_ways"] = int((~(way_fwd & way_bwd)).sum())

    a, b, seg_way, used, x, y, seg_len = split_segments(nodes, kept_refs, meta, node_crs, target, "drivable", "drive")
    n = used.size
    fi = np.flatnonzero(way_fwd[seg_way])
    bi = np.flatnonzero(way_bwd[seg_way])
    seg_of_edge = np.concatenate([fi, bi])
    u = np.concatenate([a[fi], b[bi]]).astype(np.int32)
    v = np.concatenate([b[fi], a[bi]]).astype(np.int32)
    length = seg_len[seg_of_edge]
    ew = seg_way[seg_of_edge]
    comp, comp_size = components(u, v, n)
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
