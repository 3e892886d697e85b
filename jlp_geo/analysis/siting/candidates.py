"""Candidate sites: from a planner's file, or generated on candidate land — each with the reason it is one.

Generated candidates are walk-network nodes

* on (within ``land_buffer_m`` of) OSM land listed under ``candidate_land`` in ``layers/siting.yml``
  (residential, vacant/brownfield, public/civic land), because OSM landuse polygons are bounded by streets
  and their nodes lie on the edge rather than inside;
* not already covered by an existing facility of the category (a new facility belongs where the gap is);
* in a network part large enough to serve anyone (``min_component_size`` nodes);
* thinned to at most one per ``spacing_m`` grid cell: the node nearest the cell centre (the spacing is
  stated in every reason).

Where no candidate land is mapped at all, uncovered nodes anywhere are used and the reason says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...crs import to_analysis
from ...layers.services import services_from_osm
from ...network import WalkNetwork
from ...sources.osm import OsmData
from ..coverage import snap_layer
from .parameters import SitingParameters

__all__ = ["CANDIDATE_COLUMNS", "candidate_land_from_osm", "candidates_from_file", "candidates_from_land", "thin_to_grid"]

CANDIDATE_COLUMNS = ("node", "name", "reason", "origin")


def candidate_land_from_osm(osm: OsmData, params: SitingParameters, crs: str) -> gpd.GeoDataFrame:
    """Polygons of the candidate land kinds (``layers/siting.yml``) found in OSM, in *crs*.

    Returns
    -------
    GeoDataFrame
        Columns ``land`` (kind id), ``land_zh``, ``reason``; polygons only.
    """
    kinds = {f"land_{k.id}": k for k in params.candidate_land}
    if not kinds:
        return gpd.GeoDataFrame({"land": [], "land_zh": [], "reason": []}, geometry=[], crs=crs)
    found = services_from_osm(osm, [k.as_category() for k in kinds.values()], crs=crs)
    if len(found):
        found = found[found["included"].astype(bool) & found.geom_type.isin(["Polygon", "MultiPolygon"])]
    cat = found["category"].to_numpy() if len(found) else np.array([], dtype=object)
    return gpd.GeoDataFrame(
        {
            "land": [kinds[c].id for c in cat],
            "land_zh": [kinds[c].name_zh for c in cat],
            "reason": [kinds[c].reason_zh for c in cat],
        },
        geometry=list(found.geometry) if len(found) else [],
        crs=crs,
    )


def thin_to_grid(x: np.ndarray, y: np.ndarray, spacing_m: float) -> np.ndarray:
    """Positions of the points kept when at most one per ``spacing_m`` grid cell is kept (nearest the centre)."""
    if len(x) == 0:
        return np.empty(0, dtype=np.int64)
    cx, cy = np.floor(x / spacing_m), np.floor(y / spacing_m)
    d = np.hypot(x - (cx + 0.5) * spacing_m, y - (cy + 0.5) * spacing_m)
    df = pd.DataFrame({"cx": cx, "cy": cy, "d": d, "i": np.arange(len(x))})
    keep = df.sort_values(["cx", "cy", "d", "i"]).drop_duplicates(["cx", "cy"], keep="first")["i"]
    return np.sort(keep.to_numpy())


def candidates_from_land(
    network: WalkNetwork,
    land: gpd.GeoDataFrame,
    eligible: np.ndarray,
    *,
    spacing_m: float,
    land_buffer_m: float,
) -> tuple[pd.DataFrame, list[str]]:
    """Generated candidates: eligible nodes on candidate land, thinned to *spacing_m*.

    Parameters
    ----------
    network
        The walk network (its CRS is *land*'s, metres).
    land
        From :func:`candidate_land_from_osm`.
    eligible
        Boolean per node: may hold a new facility (not covered, large component).
    spacing_m, land_buffer_m
        See the module docstring.

    Returns
    -------
    (DataFrame, list of str)
        Columns :data:`CANDIDATE_COLUMNS`, and notes.
    """
    notes: list[str] = []
    idx = np.flatnonzero(eligible)
    spacing = f"每 {spacing_m:g} m 网格取一个节点 (one per {spacing_m:g} m grid cell)"
    if len(land) == 0:
        notes.append("没有找到候选用地 (OSM 居住/待开发/公共用地): 候选点取自全部未覆盖的路网节点 — "
                     "no candidate land mapped: candidates are uncovered network nodes anywhere")
        keep = idx[thin_to_grid(network.x[idx], network.y[idx], spacing_m)]
        reason = f"无用地数据：现有设施未覆盖的路网节点；{spacing}"
        return pd.DataFrame({"node": keep, "name": "", "reason": reason, "origin": "generated"}), notes
    land = to_analysis(land, network.crs).reset_index(drop=True)
    pts = shapely.points(network.x[idx], network.y[idx])
    tree = shapely.STRtree(land.geometry.values)
    p_i, l_i = tree.query(pts, predicate="dwithin", distance=land_buffer_m)
    if p_i.size == 0:
        notes.append("候选用地附近没有未覆盖的路网节点 — no uncovered network node lies on candidate land")
        return pd.DataFrame({c: [] for c in CANDIDATE_COLUMNS}).astype({"node": np.int64}), notes
    # one land kind per node: the first listed in layers/siting.yml that the node touches
    order = {k: i for i, k in enumerate(dict.fromkeys(land["land"]))}
    df = pd.DataFrame({"pos": p_i, "land": land["land"].to_numpy()[l_i], "reason": land["reason"].to_numpy()[l_i]})
    df["rank"] = df["land"].map(order)
    df = df.sort_values(["pos", "rank"]).drop_duplicates("pos")
    nodes = idx[df["pos"].to_numpy()]
    keep = thin_to_grid(network.x[nodes], network.y[nodes], spacing_m)
    out = pd.DataFrame({
        "node": nodes[keep],
        "name": "",
        "reason": [f"{r}；现有设施未覆盖；{spacing}" for r in df["reason"].to_numpy()[keep]],
        "origin": "generated: " + df["land"].to_numpy()[keep].astype(object),
    })
    return out.reset_index(drop=True), notes


def candidates_from_file(
    network: WalkNetwork,
    layer: gpd.GeoDataFrame,
    *,
    snap_max_m: float,
    min_component_size: int,
    source: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Candidates from a planner's file (points or polygons, any CRS), snapped to the walk network.

    A ``reason`` column is kept when present; otherwise the reason is "given in <source>".  Rows farther
    than *snap_max_m* from the network are left out and reported.
    """
    notes: list[str] = []
    snapped = snap_layer(network, layer, snap_max_m, min_component_size=min_component_size)
    off = snapped["off_network"].to_numpy()
    if off.any():
        notes.append(f"{int(off.sum())} 个候选点距步行网络超过 {snap_max_m:g} m，未使用 — "
                     f"{int(off.sum())} candidate(s) more than {snap_max_m:g} m from the walk network were left out")
    ok = snapped[~off]
    names = ok["name_zh"] if "name_zh" in ok.columns else ok["name"] if "name" in ok.columns else pd.Series("", index=ok.index)
    given = f"用户提供的候选点 (given in {source})"
    reasons = ok["reason"].fillna(given).astype(str) if "reason" in ok.columns else pd.Series(given, index=ok.index)
    out = pd.DataFrame({
        "node": ok["node"].to_numpy(dtype=np.int64),
        "name": names.fillna("").astype(str).to_numpy(),
        "reason": reasons.to_numpy(),
        "origin": "file",
    })
    return out.reset_index(drop=True), notes
