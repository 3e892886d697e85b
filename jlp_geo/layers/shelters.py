"""应急避难场所 from OpenStreetMap: the features behind 人均避难面积 (第四十八章 第四节).

The tag rules are data (``layers/shelter_tags.csv``: key, value).  Nodes become points
(no area); closed ways become polygons whose area is measured in the analysis CRS.
OSM positions are contributors' mapping, not a survey: precision ``indicative`` with
:data:`OSM_UNCERTAINTY_M`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, Polygon

from ..crs import to_analysis
from ..sources.osm import OsmData
from .common import finish_layer, read_plan_table

__all__ = ["OSM_UNCERTAINTY_M", "load_shelter_tags", "shelters_from_osm"]

#: Working value for the position of an OSM-mapped feature (metres); not a standard.
OSM_UNCERTAINTY_M = 30.0


def load_shelter_tags() -> list[tuple[str, str]]:
    """``(key, value)`` pairs of ``layers/shelter_tags.csv``."""
    df = read_plan_table("shelter_tags.csv", ("key", "value"))
    return [(k.strip(), v.strip()) for k, v in zip(df["key"], df["value"])]


def _match(tags: object, rules: list[tuple[str, str]]) -> str:
    if not isinstance(tags, dict):
        return ""
    return next((f"{k}={v}" for k, v in rules if tags.get(k) == v), "")


def shelters_from_osm(osm: OsmData, analysis_crs: str = "EPSG:4544") -> gpd.GeoDataFrame:
    """Emergency shelters / assembly points mapped in OSM, in the agenda-layer form.

    Parameters
    ----------
    osm
        OSM data (already clipped to the study area).
    analysis_crs
        Metric CRS in which polygon areas are measured.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per matching node or closed way: ``name_zh`` (the OSM name,
        untrusted text), ``osm_id``, ``osm_tag``, ``area_m2`` (NaN for points),
        ``kind`` (``OSM 点`` / ``OSM 面``), ``source`` (OSM provenance) and
        ``source_tier`` ``other (OpenStreetMap, crowd-sourced)``.  Empty when none match.
    """
    rules = load_shelter_tags()
    records, geoms = [], []

    def add(osm_type: str, oid: int, tags: dict, rule: str, geom: object, kind: str) -> None:
        records.append({
            "name_zh": str(tags.get("name:zh") or tags.get("name") or "（无名称）"),
            "name_en": str(tags.get("name:en") or ""),
            "source": osm.provenance,
            "precision": "indicative",
            "uncertainty_m": OSM_UNCERTAINTY_M,
            "item_id": f"OSM {osm_type}/{oid}",
            "kind": kind,
            "plan_clause": "第四十八章 第四节",
            "plan_text": "",
            "figure": "",
            "plan_status": "现状 OSM mapped",
            "located": True,
            "location_status": f"OSM {rule}",
            "location_source": f"{osm.provenance} ({osm.licence})",
            "source_tier": "other (OpenStreetMap, crowd-sourced)",
            "osm_tag": rule,
        })
        geoms.append(geom)

    for nid, lon, lat, tags in osm.nodes[["id", "lon", "lat", "tags"]].itertuples(index=False):
        rule = _match(tags, rules)
        if rule:
            add("node", int(nid), tags, rule, Point(float(lon), float(lat)), "OSM 点")
    if len(osm.ways):
        coords = dict(zip(osm.nodes["id"].to_numpy(), zip(osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy())))
        for wid, refs, tags in osm.ways[["id", "refs", "tags"]].itertuples(index=False):
            rule = _match(tags, rules)
            if not rule:
                continue
            pts = [coords[r] for r in refs if r in coords]
            if len(refs) >= 4 and refs[0] == refs[-1] and len(pts) == len(refs):
                add("way", int(wid), tags, rule, Polygon(pts), "OSM 面")
            elif pts:
                add("way", int(wid), tags, rule, Point(np.mean([p[0] for p in pts]), np.mean([p[1] for p in pts])), "OSM 点")
    if not records:
        cols = ["name_zh", "name_en", "source", "precision", "uncertainty_m", "item_id", "kind", "osm_tag", "area_m2"]
        return finish_layer(pd.DataFrame(columns=cols), geometry=[], crs="EPSG:4326", layer="emergency_shelters")
    gdf = finish_layer(records, geometry=geoms, crs="EPSG:4326", layer="emergency_shelters")
    metric = to_analysis(gdf, analysis_crs)
    gdf["area_m2"] = np.where(metric.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy(), metric.geometry.area.to_numpy(), np.nan)
    return gdf
