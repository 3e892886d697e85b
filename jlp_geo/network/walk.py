"""The walk network: OSM node and way tables -> a segment-level :class:`WalkNetwork` with hill-aware times.

Walkable ways (:func:`~jlp_geo.network.filters.walk_exclusion_reason`) are split
into segments; each segment gets a grade from a DEM (or an ``ele`` column), with
the structure rules for bridges, tunnels, elevators and steps, and each direction
its own Tobler time.  The rules are set out in :mod:`jlp_geo.network`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..crs import require_projected
from ..errors import InputDataError
from ..settings import get_settings
from .filters import ONEWAY_FORWARD, check_tables, filter_ways, tag_flag, tag_values, walk_exclusion_reason
from .graph import OSM_SOURCE, WalkNetwork, components
from .segments import split_segments
from .terrain import DEFAULT_SPEED_M_PER_MIN, DEFAULT_STEPS_FACTOR, sample_dem, tobler_factor

__all__ = ["walk_network_from_osm"]


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
        ``tags`` (dict).  Non-walkable ways are filtered here (see
        :mod:`jlp_geo.network`), so the table may hold all ways of an extract.
    crs
        Metric analysis CRS (default: the settings' ``analysis_crs``, EPSG:4544).
    speed_m_per_min
        Level-ground walking speed (default 60 m/min, from GB 50180-2018's radii).
    dem
        Optional DEM GeoTIFF; makes times anisotropic (Tobler, see :mod:`jlp_geo.network`).
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
    check_tables(nodes, ways)
    if not (np.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputDataError(f"walking speed must be positive, got {speed_m_per_min!r}", fix="use e.g. 60 (m/min)")
    if not (np.isfinite(steps_factor) and 0 < steps_factor <= 1):
        raise InputDataError(f"steps_factor must be in (0, 1], got {steps_factor!r}")
    meta: dict[str, Any] = {"ways_in": int(len(ways)), "ways_dropped": {}}

    # 1. filter ways
    kept_tags, kept_refs, kept_ids = filter_ways(ways, walk_exclusion_reason, meta)

    way_highway = np.array([str(t.get("highway")) for t in kept_tags], dtype=object)
    way_name = np.array([t.get("name:zh", t.get("name")) for t in kept_tags], dtype=object)
    way_name_en = np.array([t.get("name:en") for t in kept_tags], dtype=object)
    way_bridge = np.array([tag_flag(t, "bridge") for t in kept_tags], dtype=bool)
    way_tunnel = np.array([tag_flag(t, "tunnel") for t in kept_tags], dtype=bool)
    way_elev = np.array(
        [str(t.get("highway")) == "elevator" or "yes" in tag_values(t, "elevator") for t in kept_tags], dtype=bool
    )
    oneway = [tag_values(t, "oneway:foot") for t in kept_tags]
    way_fwd = np.array([not (o & {"-1"}) for o in oneway], dtype=bool)
    way_bwd = np.array([not (o & ONEWAY_FORWARD) for o in oneway], dtype=bool)

    # 2.-3. segments between consecutive refs; nodes actually used, projected to the analysis CRS
    a, b, seg_way, used, x, y, seg_len = split_segments(nodes, kept_refs, meta, node_crs, target, "walkable", "walk")
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

    comp, comp_size = components(u, v, n)
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
