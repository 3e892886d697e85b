"""The plan's spatial agenda: urban renewal, green system, ecological pattern, 九龙新城, utilities, shelters.

Each layer is digitised from the 十五五规划纲要 (seed 004) clause by clause; the data
is ``layers/plan_agenda.csv`` (one row per plan item, reviewed like code):

``layer``, ``item_id``, ``name_zh``, ``name_en``, ``kind``
    which layer, a stable id, names and the plan's own grouping (e.g. 三轴 / 四区 / 五圈);
``clause``, ``quote``
    where the plan says it and its exact words (tests compare every quote with the seed text);
``figure``, ``plan_status``
    the number the plan gives (as written) and what the plan does with the item;
``geometry``, ``anchors``, ``uncertainty_m``, ``precision``, ``location_note``
    how it is drawn: ``point`` (one anchor), ``line`` (anchors joined by `` > ``, pieces
    separated by `` | ``; a schematic line — never an alignment) or empty (not located: a row without geometry).

Anchors refer only to researched places of the gazetteer: ``township:<name>``
(``layers/townships.csv``), ``other:<name>`` (``layers/other.csv``), ``park:<name>``
(``layers/parks.csv``), ``waypoint:<place_name>`` and ``project:<id>`` (all waypoints of a
project, in order; ``layers/transport_waypoints.csv``).  Coordinates never come from
anywhere else; the uncertainty is the row's, and never less than the anchors' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, MultiLineString, Point

from ..config import Profile
from ..errors import InputDataError
from ..settings import get_settings
from .common import finish_layer, plan_number, read_plan_table

__all__ = ["AGENDA_LAYERS", "COLUMNS_ZH", "build_agenda_layer", "build_agenda_layers", "load_plan_agenda"]

#: The agenda layers, in atlas order, with what each holds.
AGENDA_LAYERS: dict[str, str] = {
    "urban_renewal": "城市更新（专栏18 第1–4项，第二十九章 第二节）",
    "green_system": "公园与绿地系统（专栏18 第1、6项，专栏24 第6项）",
    "ecological_pattern": "生态格局“一山四水五廊多园”/“一山一江三河”（名词解释13、44，第二十八章 第一节，第四十四章 第二节）",
    "jiulong_new_city": "九龙新城空间布局（第二十章 第二节，专栏13，专栏14）",
    "utilities": "水利与能源设施（第三十章 第二节，专栏19 第9–10项）",
    "emergency_shelters": "应急避难场所（第四十八章 第四节）",
}

_COLUMNS = ("layer", "item_id", "name_zh", "name_en", "kind", "clause", "quote", "figure", "plan_status",
            "geometry", "anchors", "uncertainty_m", "precision", "location_note")

#: Chinese column headers for CSV/Excel export of the agenda layers.
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "item_id": "编号",
    "kind": "类别",
    "plan_clause": "条款",
    "plan_text": "规划原文",
    "figure": "规划数字",
    "plan_status": "规划状态",
    "located": "绘于图上",
    "location_status": "定位情况",
    "location_source": "定位资料来源",
    "source_tier": "来源类别",
    "layer": "图层",
}

_TABLES = {
    "township": ("townships.csv", "name_zh"),
    "other": ("other.csv", "name_zh"),
    "park": ("parks.csv", "name_zh"),
    "waypoint": ("transport_waypoints.csv", "place_name"),
}


@dataclass(frozen=True)
class _Anchor:
    lon: float
    lat: float
    uncertainty_m: float
    label: str


def _anchor_tables() -> dict[str, pd.DataFrame]:
    return {key: read_plan_table(table, (col, "lon_wgs84", "lat_wgs84", "uncertainty_m")) for key, (table, col) in _TABLES.items()}


def _resolve(ref: str, tables: dict[str, pd.DataFrame], where: str) -> list[_Anchor]:
    """The gazetteer point(s) an anchor reference names."""
    kind, _, name = ref.strip().partition(":")
    kind, name = kind.strip(), name.strip()
    fix = "use township:/other:/park:/waypoint:<name as in the gazetteer> or project:<id>"
    if kind == "project":
        wp = tables["waypoint"]
        hits = wp[wp["project_id"] == name].copy()
        hits["_seq"] = pd.to_numeric(hits["seq"], errors="coerce")
        hits = hits.sort_values("_seq")
        table, col = _TABLES["waypoint"]
    elif kind in _TABLES:
        table, col = _TABLES[kind]
        df = tables[kind]
        hits = df[df[col] == name].drop_duplicates(col)
    else:
        raise InputDataError(f"anchor {ref!r}: unknown kind {kind!r}", where=where, fix=fix)
    out = []
    for _, r in hits.iterrows():
        lon, lat = plan_number(r["lon_wgs84"]), plan_number(r["lat_wgs84"])
        if np.isfinite(lon) and np.isfinite(lat):
            out.append(_Anchor(lon, lat, plan_number(r["uncertainty_m"]), f"layers/{table}: {r[col]}"))
    if not out:
        raise InputDataError(f"anchor {ref!r} has no coordinates in layers/{table}", where=where, fix=fix)
    return out


def load_plan_agenda() -> pd.DataFrame:
    """``layers/plan_agenda.csv`` as strings, checked (layer names, geometry kinds, precision)."""
    df = read_plan_table("plan_agenda.csv", _COLUMNS)
    where = str(Path(get_settings().layers_dir) / "plan_agenda.csv")
    bad = sorted(set(df["layer"]) - set(AGENDA_LAYERS))
    if bad:
        raise InputDataError(f"unknown layer names {bad}", where=where, fix=f"use one of {list(AGENDA_LAYERS)}")
    geoms = sorted(set(df["geometry"]) - {"", "point", "line"})
    if geoms:
        raise InputDataError(f"geometry values {geoms} are not allowed", where=where, fix="use point, line or leave empty")
    if df["item_id"].duplicated().any():
        raise InputDataError(f"duplicate item ids {sorted(df.loc[df['item_id'].duplicated(), 'item_id'])}", where=where,
                             fix="make item_id unique")
    return df


def build_agenda_layer(profile: Profile, layer: str, extra: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One agenda layer from ``layers/plan_agenda.csv``.

    Parameters
    ----------
    profile
        Study-area profile (for the plan's citation).
    layer
        One of :data:`AGENDA_LAYERS`.
    extra
        Features from another source appended after the plan's rows (e.g. OSM shelters,
        :func:`jlp_geo.layers.shelters.shelters_from_osm`); they must meet the layer contract.

    Returns
    -------
    GeoDataFrame
        EPSG:4490; one row per plan item with ``item_id``, ``kind``, ``plan_clause``,
        ``plan_text`` (the exact quote), ``figure``, ``plan_status``, ``located``,
        ``location_status``, ``location_source`` and ``source_tier``.  Items the
        gazetteer cannot place have no geometry.

    Raises
    ------
    InputDataError
        If *layer* is unknown or an anchor does not resolve.
    """
    if layer not in AGENDA_LAYERS:
        raise InputDataError(f"unknown agenda layer {layer!r}", where="jlp_geo.layers.agenda", fix=f"use one of {list(AGENDA_LAYERS)}")
    df = load_plan_agenda()
    df = df[df["layer"] == layer]
    tables = _anchor_tables()
    plan_doc = profile.document("plan")
    where = str(Path(get_settings().layers_dir) / "plan_agenda.csv")
    records, geoms = [], []
    for r in df.itertuples(index=False):
        note = r.location_note
        status = note if note.startswith("not located") else f"not located – {note}"
        geom, unc, loc_src = None, np.nan, ""
        if r.geometry:
            # " > " joins anchors into a line; " | " separates the pieces of a line drawn in parts
            parts = [[a for ref in part.split(">") for a in _resolve(ref, tables, f"{where}, item {r.item_id}")]
                     for part in r.anchors.split("|")]
            anchors = [a for part in parts for a in part]
            if r.geometry == "point" and len(anchors) != 1:
                raise InputDataError(f"item {r.item_id}: a point needs exactly one anchor, got {len(anchors)}", where=where,
                                     fix="give one anchor or set geometry to line")
            if r.geometry == "line" and min(len(part) for part in parts) < 2:
                raise InputDataError(f"item {r.item_id}: each piece of a line needs two anchors or more", where=where, fix="add anchors")
            if r.geometry == "point":
                geom = Point(anchors[0].lon, anchors[0].lat)
            else:
                lines = [LineString([(a.lon, a.lat) for a in part]) for part in parts]
                geom = lines[0] if len(lines) == 1 else MultiLineString(lines)
            # never claim more than the anchors' own uncertainty
            vals = [v for v in [plan_number(r.uncertainty_m)] + [a.uncertainty_m for a in anchors] if np.isfinite(v)]
            unc = float(max(vals)) if vals else np.nan
            head = "located (schematic line)" if r.geometry == "line" else "located (indicative point)"
            status = f"{head} – {r.location_note}"
            loc_src = "jlp_geo gazetteer " + " ; ".join(dict.fromkeys(a.label for a in anchors))
        records.append({
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "source": f"{plan_doc} {r.clause}",
            "precision": r.precision,
            "uncertainty_m": unc,
            "item_id": r.item_id,
            "kind": r.kind,
            "plan_clause": r.clause,
            "plan_text": r.quote,
            "figure": r.figure,
            "plan_status": r.plan_status,
            "located": geom is not None,
            "location_status": status,
            "location_source": loc_src,
            "source_tier": "official document",
        })
        geoms.append(geom)
    if any(isinstance(g, MultiLineString) for g in geoms):  # one line type per layer (GeoPackage, QGIS)
        geoms = [MultiLineString([g]) if isinstance(g, LineString) else g for g in geoms]
    gdf = finish_layer(records, geometry=geoms, crs="EPSG:4326", layer=layer)
    if extra is not None and len(extra):
        gdf = finish_layer(pd.concat([gdf, extra.to_crs(gdf.crs)], ignore_index=True), layer=layer)
    return gdf


def build_agenda_layers(profile: Profile, shelters: gpd.GeoDataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Every agenda layer (:data:`AGENDA_LAYERS`), *shelters* (from OSM) appended to ``emergency_shelters``."""
    return {name: build_agenda_layer(profile, name, extra=shelters if name == "emergency_shelters" else None)
            for name in AGENDA_LAYERS}
