"""Administrative layers: the district, its 19 镇街 and the four 组团 (clusters).

镇街 boundaries are not openly published.  :func:`build_townships` takes an
official file when the user has one; otherwise it draws an **approximation**
(示意) that partitions the district polygon so that every 镇街 gets its
official area: an area-weighted power diagram seeded at the estimated label
points of ``layers/townships.csv`` (see
:func:`jlp_geo.layers.partition.partition_by_area`).  Such cells show roughly
*where* each 镇街 lies and *how big* it is; their boundaries are not the real
ones and every feature says so (``precision='schematic'``, ``is_schematic``,
``label_zh`` ending in （示意）).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..config import Profile
from ..crs import require_crs, to_analysis
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings
from ..sources.boundary import district_boundary
from ..sources.plausibility import check_datum_shift, check_township_tiling, tolerances
from .common import PRECISIONS, finish_layer
from .partition import partition_by_area

__all__ = [
    "ADMINISTERED_BY_ZH",
    "COLUMNS_ZH",
    "build_clusters",
    "build_district",
    "build_townships",
]

ADMINISTERED_BY_ZH: dict[str, str] = {"district": "九龙坡区直管", "high_tech_zone": "重庆高新区直管"}

APPROXIMATION_SOURCE: str = (
    "approximation: area-weighted power diagram from estimated label points (layers/townships.csv), "
    "areas from 九龙坡区“十四五”节约用水规划 via xzqh.org; NOT an official boundary (示意)"
)

APPROXIMATION_NOTE: str = (
    "示意: cell of an area-weighted power diagram, not the real 镇街 boundary. Its area equals the official "
    "area scaled to the cnmaps district polygon; its position follows an estimated label point. "
    "uncertainty_m = the larger of the label point's uncertainty and the radius of a circle of the "
    "镇街's official area: the real boundary may lie that far from the drawn one."
)

#: Chinese column headers for CSV/Excel export of the district, 镇街 and 组团 layers.
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "资料来源",
    "precision": "边界精度",
    "uncertainty_m": "边界不确定度（米）",
    "code": "统计用区划代码",
    "note": "说明",
    "area_km2": "计算面积（平方公里）",
    "area_km2_ellipsoid": "椭球面积（平方公里）",
    "official_area_km2": "官方面积（平方公里）",
    "area_diff_km2": "面积差（平方公里）",
    "area_diff_pct": "面积差（%）",
    "official_area_source": "官方面积来源",
    "area_km2_official": "官方面积（平方公里）",
    "area_km2_target": "示意拟合面积（平方公里）",
    "administered_by": "管理主体",
    "administered_by_zh": "管理主体（中文）",
    "cluster": "所属组团",
    "method": "边界来源方式",
    "is_schematic": "是否示意",
    "label_zh": "标注",
    "label_offset_m": "标注点距本单元（米）",
    "kind": "类别",
    "function": "功能定位（规划原文）",
    "members": "包含镇街",
    "membership_status": "组成依据状态",
    "membership_note": "组成说明",
    "area_km2_official_sum": "镇街官方面积合计（平方公里）",
}

#: Label points file (gazetteer) read for the approximation.
LABELS_FILE: str = "townships.csv"

_PRECISION_RANK = {p: i for i, p in enumerate(PRECISIONS)}


# --------------------------------------------------------------------------- district


def build_district(profile: Profile) -> gpd.GeoDataFrame:
    """Build the district layer (one polygon) in EPSG:4490.

    Parameters
    ----------
    profile
        Study-area profile (its ``boundary`` block says cnmaps or a file).

    Returns
    -------
    GeoDataFrame
        One row; see :func:`jlp_geo.sources.boundary.district_boundary` for the columns.
    """
    return finish_layer(district_boundary(profile), layer="district")


# --------------------------------------------------------------------------- 镇街


def _label_points(profile: Profile) -> pd.DataFrame:
    path = Path(get_settings().layers_dir) / LABELS_FILE
    if not path.is_file():
        raise MissingInputError(
            "the 镇街 label-point file is missing",
            where=str(path),
            fix="restore layers/townships.csv from the repository, or pass an official 镇街 file",
        )
    df = pd.read_csv(path, dtype={"stat_code_12": str})
    need = {"name_zh", "lon_wgs84", "lat_wgs84", "uncertainty_m"}
    if not need <= set(df.columns):
        raise InputDataError(
            f"columns {sorted(need - set(df.columns))} are missing", where=str(path), fix="restore the file"
        )
    df = df.set_index("name_zh")
    missing = [t.name_zh for t in profile.townships if t.name_zh not in df.index]
    if missing:
        raise InputDataError(
            f"no label point for 镇街 {'、'.join(missing)}",
            where=str(path),
            fix="add a row with lon_wgs84, lat_wgs84 and uncertainty_m for each 镇街 of the profile",
        )
    return df.loc[[t.name_zh for t in profile.townships]]


def _base_records(profile: Profile) -> list[dict]:
    return [
        {
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "code": t.code,
            "area_km2_official": t.area_km2,
            "administered_by": t.administered_by,
            "administered_by_zh": ADMINISTERED_BY_ZH[t.administered_by],
            "cluster": t.cluster,
        }
        for t in profile.townships
    ]


def _strip_suffix(name: str) -> str:
    name = str(name).strip()
    for suffix in ("街道办事处", "街道", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _normalise_code(value: object) -> str:
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) == 9 and text.isdigit():  # 9-digit township code -> 12 digits
        text += "000"
    return text


def _match_official(profile: Profile, official: gpd.GeoDataFrame, where: str) -> list[BaseGeometry]:
    """One dissolved geometry per profile 镇街 (profile order), from a user file."""
    if "code" in official.columns:
        key = "code"
        lookup = {t.code: t.name_zh for t in profile.townships}
        found = [lookup.get(_normalise_code(v)) for v in official["code"]]
    elif "name_zh" in official.columns:
        key = "name_zh"
        lookup = {}
        for t in profile.townships:
            lookup[t.name_zh] = t.name_zh
            lookup[_strip_suffix(t.name_zh)] = t.name_zh
        found = [lookup.get(str(v).strip(), lookup.get(_strip_suffix(v))) for v in official["name_zh"]]
    else:
        raise InputDataError(
            f"the 镇街 file has neither a 'code' nor a 'name_zh' column (columns: {', '.join(map(str, official.columns))})",
            where=where,
            fix="add a 'code' column with the 12-digit statistical codes, or a 'name_zh' column with the 镇街 names",
        )
    unknown = [str(v) for v, f in zip(official[key], found) if f is None]
    got = {f for f in found if f is not None}
    missing = [f"{t.name_zh} ({t.code})" for t in profile.townships if t.name_zh not in got]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing 镇街: {'、'.join(missing)}")
        if unknown:
            parts.append(f"rows not in the profile ({key}): {'、'.join(unknown)}")
        raise InputDataError(
            "the 镇街 file must cover exactly the profile's 19 镇街; " + "; ".join(parts),
            where=where,
            fix=f"correct the '{key}' values so that each 镇街 of layers/jiulongpo.yml appears (several rows per 镇街 are merged)",
        )
    geoms = official.geometry.values
    bad = [str(v) for v, g in zip(official[key], geoms) if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        raise InputDataError(
            f"rows without a polygon geometry: {'、'.join(bad)}", where=where, fix="give every 镇街 a polygon"
        )
    out = []
    for t in profile.townships:
        mine = [shapely.make_valid(g) for g, f in zip(geoms, found) if f == t.name_zh]
        out.append(shapely.union_all(mine))
    return out


def _check_official_fit(profile: Profile, district: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, where: str) -> None:
    """A user 镇街 file must be in the right datum and tile the district (tolerances: profile ``plausibility``)."""
    tol = tolerances(profile)
    outline = shapely.union_all(district.to_crs(towns.crs).geometry.values)
    check_datum_shift(towns, outline, analysis_crs=profile.analysis_crs, where=where, min_gain=tol["datum_shift_min_gain"])
    official_km2 = {t.name_zh: t.area_km2 for t in profile.townships}
    fit = check_township_tiling(towns, outline, official_km2, analysis_crs=profile.analysis_crs, where=where, tol=tol)
    towns.attrs["tiling"] = fit.summary()


def build_townships(
    profile: Profile, district: gpd.GeoDataFrame, official: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Build the 19 镇街: from an official file if given, else a labelled approximation (示意).

    Parameters
    ----------
    profile
        Study-area profile (names, codes, official areas, administration, cluster).
    district
        District layer from :func:`build_district` (its polygon is partitioned).
    official
        镇街 polygons already read from a user file, with a CRS and a ``code``
        (12-digit, 9-digit accepted) or ``name_zh`` column (``杨家坪`` and
        ``杨家坪街道`` both match); several rows of one 镇街 are merged.  The file
        name may be given in ``official.attrs['source']`` (or ``['source_file']``, as
        :func:`jlp_geo.sources.userfile.read_user_layer` sets it).

    Returns
    -------
    GeoDataFrame
        19 rows in profile order, EPSG:4490, with ``name_zh``, ``name_en``, ``code``,
        ``area_km2_official``, ``area_km2`` (computed in the analysis CRS),
        ``administered_by`` (``district``/``high_tech_zone``), ``administered_by_zh``,
        ``cluster``, ``method`` (``official file``/``approximation``), ``is_schematic``,
        ``label_zh``, ``area_km2_target`` and ``label_offset_m`` (approximation only:
        the area the cell was fitted to, and how far the label point lies outside its
        cell, 0 when inside), ``note`` and the provenance columns.

    Raises
    ------
    InputDataError
        If *official* does not cover exactly the profile's 19 镇街 (the message names
        those missing or unknown), lacks a key column or has rows without polygons.
    CRSError
        If *official* has no CRS.
    """
    records = _base_records(profile)
    if official is not None:
        named = official.attrs.get("source") or official.attrs.get("source_file")
        where = str(named or "user 镇街 file")
        require_crs(official, where)
        geoms = _match_official(profile, official, where)
        gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=official.crs)
        _check_official_fit(profile, district, gdf, where)
        source = str(named or "user file")
        gdf["source"] = source
        gdf["precision"] = "surveyed"
        gdf["uncertainty_m"] = np.nan
        gdf["method"] = "official file"
        gdf["is_schematic"] = False
        gdf["label_zh"] = gdf["name_zh"]
        gdf["area_km2_target"] = np.nan
        gdf["label_offset_m"] = np.nan
        gdf["note"] = "official 镇街 boundary supplied by the user"
        gdf["area_km2"] = (to_analysis(gdf, profile.analysis_crs).area / 1e6).round(3).values
        out = finish_layer(gdf, layer="townships")
        out.attrs["tiling"] = gdf.attrs.get("tiling", "")
        return out

    labels = _label_points(profile)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(labels["lon_wgs84"].astype(float), labels["lat_wgs84"].astype(float)),
        crs="EPSG:4326",
    )
    pts_a = to_analysis(pts, profile.analysis_crs).geometry
    sites = np.column_stack([pts_a.x.values, pts_a.y.values])
    dom_a = to_analysis(district, profile.analysis_crs)
    domain = shapely.union_all(dom_a.geometry.values)
    targets = np.array([t.area_km2 for t in profile.townships])
    part = partition_by_area(domain, sites, targets)
    gdf = gpd.GeoDataFrame(records, geometry=part.cells, crs=dom_a.crs)
    offsets = np.array([c.distance(shapely.Point(p)) for c, p in zip(part.cells, sites)])
    label_unc = labels["uncertainty_m"].astype(float).to_numpy()
    eq_radius = np.sqrt(targets * 1e6 / np.pi)
    gdf["source"] = APPROXIMATION_SOURCE
    gdf["precision"] = "schematic"
    gdf["uncertainty_m"] = np.round(np.maximum(label_unc, eq_radius), -2)
    gdf["method"] = "approximation"
    gdf["is_schematic"] = True
    gdf["label_zh"] = [f"{t.name_zh}（示意）" for t in profile.townships]
    gdf["area_km2"] = np.round(shapely.area(np.asarray(part.cells, dtype=object)) / 1e6, 3)
    gdf["area_km2_target"] = np.round(part.targets / 1e6, 3)
    gdf["label_offset_m"] = np.round(offsets, 0)
    gdf["note"] = APPROXIMATION_NOTE
    gdf.attrs["partition"] = {
        "iterations": part.iterations,
        "connected": part.connected,
        "max_rel_error": part.max_rel_error,
        "reassigned": [(profile.townships[i].name_zh, profile.townships[k].name_zh, a / 1e6) for i, k, a in part.reassigned],
    }
    out = finish_layer(gdf, layer="townships")
    out.attrs.update(gdf.attrs)
    return out


# --------------------------------------------------------------------------- 组团


def _least_precise(values: pd.Series) -> str:
    return max(values, key=lambda p: _PRECISION_RANK[p])


def build_clusters(profile: Profile, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build the four 组团 of 第三十章 第一节 and the 重庆高新区 unit, dissolved from the 镇街.

    Parameters
    ----------
    profile
        Study-area profile (cluster names, functions quoted from the plan, members).
    townships
        Layer from :func:`build_townships`; its precision is inherited.

    Returns
    -------
    GeoDataFrame
        5 rows (the four clusters, then the 高新区 unit), EPSG:4490, with ``name_zh``,
        ``name_en``, ``kind``, ``function``, ``members`` (、-joined), ``membership_status``,
        ``membership_note``, ``area_km2`` (analysis CRS), ``area_km2_official_sum``,
        ``is_schematic``, ``label_zh`` and the provenance columns.

    Raises
    ------
    InputDataError
        If *townships* lacks a member 镇街 named by the profile.
    """
    require_crs(townships, "townships layer")
    ta = to_analysis(townships, profile.analysis_crs).set_index("name_zh")
    plan = profile.document("plan")
    htz = profile.high_tech_zone_unit
    units = []
    for c in profile.clusters:
        note = c.membership_note
        if c.membership_status != "supported":
            note = f"Working assumption (membership not defined in the plan): {note}"
        units.append(
            {
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "kind": "组团 cluster",
                "function": c.function,
                "members": list(c.members),
                "membership_status": c.membership_status,
                "membership_note": note,
                "source": f"{plan} 第三十章 第一节 (name, function); membership: {c.membership_status}, see membership_note",
            }
        )
    htz_members = [t.name_zh for t in profile.townships if t.administered_by == "high_tech_zone"]
    units.append(
        {
            "name_zh": htz.get("name_zh", "重庆高新区直管镇"),
            "name_en": htz.get("name_en", "Towns administered by Chongqing High-tech Zone"),
            "kind": "高新区直管 administrative unit (not a cluster)",
            "function": (
                "Not one of the four clusters: 第三十章 第一节 names only 九龙新城、杨谢石黄九、东三街、中梁山华岩. "
                "These six towns are administered by 重庆高新区; the plan asks to “强化与重庆高新区协同联动” (第五章) "
                "and names “西部（重庆）科学城九龙坡片区” in its innovation layout (第十章 第一节) without defining its extent."
            ),
            "members": htz_members,
            "membership_status": "administrative",
            "membership_note": htz.get("note", ""),
            "source": f"{plan} 第三十章 第一节 (the four clusters); administration: {profile.townships_source}",
        }
    )
    official_area = {t.name_zh: t.area_km2 for t in profile.townships}
    geoms, rows = [], []
    for u in units:
        absent = [m for m in u["members"] if m not in ta.index]
        if absent:
            raise InputDataError(
                f"the 镇街 layer lacks {'、'.join(absent)}, a member of {u['name_zh']}",
                where="townships layer",
                fix="build the 镇街 layer with build_townships() for the same profile",
            )
        sub = ta.loc[u["members"]]
        geom = shapely.union_all(sub.geometry.values, grid_size=1e-3)
        precision = _least_precise(sub["precision"])
        schematic = precision != "surveyed"
        u = dict(u)
        u["members"] = "、".join(u["members"])
        u.update(
            precision=precision,
            uncertainty_m=float(sub["uncertainty_m"].max()) if sub["uncertainty_m"].notna().any() else np.nan,
            area_km2=round(geom.area / 1e6, 3),
            area_km2_official_sum=round(sum(official_area[m] for m in sub.index), 2),
            is_schematic=schematic,
            label_zh=f"{u['name_zh']}（示意）" if schematic else u["name_zh"],
        )
        geoms.append(geom)
        rows.append(u)
    return finish_layer(rows, geometry=geoms, crs=ta.crs, layer="clusters")
