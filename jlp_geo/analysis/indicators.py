"""规划指标: the plan's measurable spatial targets, computed per 镇街 and 组团.

The indicators, their targets (with the plan's own words and clause), default
parameters and caveats are data, in ``layers/indicators.yml``; this module
computes them from what the project already has:

==========================  =================================================  ==========================
indicator                   computed from                                      without the data
==========================  =================================================  ==========================
公园绿化活动场地服务半径覆盖率  coverage result (walk network, OSM parks,          "not computed: no OSM data"
                            population) — network and straight-line distance;
                            OSM residential land for the area basis
15分钟高品质生活服务圈        coverage result: every category, both rules,        same
                            all basic categories together; ranking; worst
                            H3 cells; walk-time distribution
15分钟健身圈, 一老一小        coverage result (sports/fitness; elderly care,      same
                            childcare, kindergarten)
轨道通车里程                 OSM rail ways and route relations clipped to the   station-chord lower bound
                            district, measured in the analysis CRS             (layers/metro_km_in_jiulongpo.csv)
轨道站点800米覆盖人口         coverage nodes + stations                           not computed
建筑垃圾 70% / 73% / 年限     the construction-waste analysis (``waste``)        not computed, with the reason
==========================  =================================================  ==========================

Everything is returned as one long table (:data:`INDICATOR_COLUMNS`): one row
per indicator × measure × unit (全域 / 组团 / 镇街) with value, target, gap,
status, data source and date, method and caveats.  A value that cannot be
computed is NaN with status ``未计算 not computed`` and the reason -- never a
zero.

Shares are population-weighted with the coverage result's weights (people per
node from a raster or census, or one per node when no population was given:
then they are shares of walk-network nodes, and the ``population_basis``
column says so).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from ..config import Profile, load_profile
from ..crs import metric_crs_for, to_analysis, to_storage
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings

__all__ = [
    "HEADERS_ZH",
    "INDICATOR_COLUMNS",
    "LEVEL_CLUSTER",
    "LEVEL_TOWNSHIP",
    "LEVEL_WHOLE",
    "WHOLE_AREA",
    "IndicatorDef",
    "IndicatorResult",
    "RailLength",
    "Target",
    "analyse_indicators",
    "load_indicator_definitions",
    "park_service_coverage",
    "rail_route_length",
]

LEVEL_WHOLE = "全域 whole area"
LEVEL_CLUSTER = "组团 cluster"
LEVEL_TOWNSHIP = "镇街 township"
LEVEL_FACILITY = "设施 facility"
WHOLE_AREA = "全域 whole area"

STATUS = {
    "computed": "已计算 computed",
    "no_facility": "已计算：路网上无此类设施 computed: no such facility on the walk network",
    "no_nodes": "未计算：单元内无路网节点 not computed: no walk-network node in the unit",
    "lower_bound": "下限：站间弦长 lower bound from station chords",
    "not_computed": "未计算 not computed",
}

#: Columns of the indicator table, in order.
INDICATOR_COLUMNS: tuple[str, ...] = (
    "indicator",
    "indicator_zh",
    "indicator_en",
    "measure",
    "measure_zh",
    "unit_level",
    "unit",
    "value",
    "value_unit",
    "target",
    "target_text",
    "gap",
    "meets",
    "rank",
    "status",
    "note",
    "covered",
    "population",
    "population_basis",
    "data_source",
    "data_date",
    "method",
    "target_clause",
    "caveats",
)

#: Chinese (and English) headers for CSV / Excel.
HEADERS_ZH: dict[str, str] = {
    "indicator": "指标代码 indicator",
    "indicator_zh": "指标",
    "indicator_en": "indicator (English)",
    "measure": "口径代码 measure",
    "measure_zh": "口径",
    "unit_level": "统计单元层级",
    "unit": "统计单元",
    "value": "现状值 value",
    "value_unit": "单位 unit",
    "target": "目标值 target",
    "target_text": "规划目标 target (plan)",
    "gap": "差距 gap (value − target)",
    "meets": "是否达标 meets target",
    "rank": "排名 rank",
    "status": "计算状态 status",
    "note": "说明 note",
    "covered": "覆盖人口(或节点) covered",
    "population": "人口(或节点)合计 population",
    "population_basis": "人口口径 population basis",
    "data_source": "数据来源 data source",
    "data_date": "数据日期 data date",
    "method": "计算方法 method",
    "target_clause": "目标出处 target clause",
    "caveats": "注意事项 caveats",
    # extra tables
    "category": "服务类别 category",
    "name_zh": "名称",
    "level_min": "生活圈层级(分钟)",
    "h3_cell": "H3网格 cell",
    "township": "所在镇街",
    "lon": "经度 lon (CGCS2000)",
    "lat": "纬度 lat (CGCS2000)",
    "share_basic_all": "全部基本服务覆盖率 % (5/10/15分钟)",
    "missing_zh": "缺少的基本服务 (覆盖率<50%)",
    "deficit": "基本服务缺口人次 person-category gaps",
    "line": "线路 line",
    "route": "类型 route",
    "n_relations": "线路关系数 relations",
    "km": "区内长度(公里) km inside",
    "km_directions": "各方向长度(公里)",
    "ways_missing": "缺失成员轨道 member ways not in the data",
    "mean_basic_share": "基本服务平均覆盖率 %",
}

_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
_OP_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[\d:]+Z)?")


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Target:
    """A plan target: comparison, value, year and where the plan says it."""

    op: str
    value: float
    year: int | None
    text_zh: str
    text_en: str
    document: str
    clause: str
    quote: str
    applies_to: tuple[str, ...] | None = None

    def applies(self, measure: str) -> bool:
        """True if the target is for *measure* (all measures when ``applies_to`` is unset)."""
        return self.applies_to is None or measure in self.applies_to

    def meets(self, value: float, lower_bound: bool = False) -> bool | None:
        """Whether *value* meets the target; None if unknown (NaN, or a lower bound that falls short)."""
        if value is None or not math.isfinite(value):
            return None
        ok = bool(_OPS[self.op](value, self.value))
        if lower_bound and not ok and self.op in (">", ">="):
            return None  # the true value is higher than a lower bound: cannot tell
        if lower_bound and ok and self.op in ("<", "<="):
            return None
        return ok


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator of ``layers/indicators.yml``."""

    id: str
    name_zh: str
    name_en: str
    value_unit: str
    target: Target | None
    no_target_zh: str
    no_target_en: str
    parameters: dict[str, Any]
    method_zh: str
    method_en: str
    caveats: tuple[str, ...]

    def target_for(self, measure: str) -> Target | None:
        """The target that applies to *measure*, if any."""
        return self.target if self.target is not None and self.target.applies(measure) else None


def load_indicator_definitions(path: str | Path | None = None) -> dict[str, IndicatorDef]:
    """Load and validate the indicator definitions.

    Parameters
    ----------
    path
        YAML file; default ``<layers_dir>/indicators.yml``.

    Returns
    -------
    dict
        Indicator id -> :class:`IndicatorDef`, in file order.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        Naming the indicator and field of the first bad entry.
    """
    p = Path(path) if path is not None else get_settings().layers_dir / "indicators.yml"
    if not p.is_file():
        raise MissingInputError("indicator definitions not found", where=str(p), fix="restore layers/indicators.yml")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputDataError(f"not valid YAML: {exc}", where=str(p), fix="check the indentation and quoting") from exc
    items = data.get("indicators") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InputDataError("no 'indicators:' list", where=str(p), fix="see the header of layers/indicators.yml")
    out: dict[str, IndicatorDef] = {}
    for i, item in enumerate(items, 1):
        ident = item.get("id") if isinstance(item, dict) else None
        where = f"{p}, indicator {ident or f'#{i}'}"

        def need(d: Any, key: str, w: str = where) -> Any:
            if not isinstance(d, dict) or d.get(key) in (None, ""):
                raise InputDataError(f"missing field '{key}'", where=w, fix=f"add '{key}:'")
            return d[key]

        ident = str(need(item, "id"))
        if ident in out:
            raise InputDataError("duplicate indicator id", where=where, fix="make ids unique")
        target = None
        if item.get("target") is not None:
            t = item["target"]
            tw = f"{where}, target"
            op = str(need(t, "op", tw))
            if op not in _OPS:
                raise InputDataError(f"op {op!r} is not one of {list(_OPS)}", where=tw, fix="use > >= < or <=")
            try:
                value = float(need(t, "value", tw))
            except (TypeError, ValueError):
                raise InputDataError(f"target value {t.get('value')!r} is not a number", where=tw) from None
            applies = t.get("applies_to")
            target = Target(
                op=op,
                value=value,
                year=int(t["year"]) if t.get("year") is not None else None,
                text_zh=str(need(t, "text_zh", tw)),
                text_en=str(t.get("text_en", "")),
                document=str(need(t, "document", tw)),
                clause=str(need(t, "clause", tw)),
                quote=str(need(t, "quote", tw)),
                applies_to=tuple(str(a) for a in applies) if applies else None,
            )
        elif not item.get("no_target_zh"):
            raise InputDataError("neither 'target' nor 'no_target_zh'", where=where, fix="say what the plan sets, or that it sets nothing")
        caveats = item.get("caveats", []) or []
        if not isinstance(caveats, list) or not all(isinstance(c, str) for c in caveats):
            raise InputDataError("caveats must be a list of texts", where=where,
                                 fix='quote each caveat ("...") — a ": " inside an unquoted YAML text makes it a mapping')
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise InputDataError("'parameters' must be a mapping", where=where)
        for tier in params.get("tiers", []) or []:
            tw = f"{where}, parameters.tiers {tier.get('id', '?') if isinstance(tier, dict) else tier!r}"
            for key in ("id", "categories", "min_area_m2", "radius_m"):
                need(tier, key, tw)
            if not isinstance(tier["categories"], list) or not tier["categories"]:
                raise InputDataError("categories must be a non-empty list of service-category ids", where=tw)
            for key in ("min_area_m2", "radius_m"):
                if not isinstance(tier[key], (int, float)) or tier[key] <= 0:
                    raise InputDataError(f"{key} must be a positive number", where=tw, fix="e.g. 1000 / 300")
        out[ident] = IndicatorDef(
            id=ident,
            name_zh=str(need(item, "name_zh")),
            name_en=str(need(item, "name_en")),
            value_unit=str(need(item, "value_unit")),
            target=target,
            no_target_zh=str(item.get("no_target_zh", "")),
            no_target_en=str(item.get("no_target_en", "")),
            parameters=params,
            method_zh=str(need(item, "method_zh")).strip(),
            method_en=str(item.get("method_en", "")).strip(),
            caveats=tuple(caveats),
        )
    return out


# --------------------------------------------------------------------------- result


@dataclass
class IndicatorResult:
    """Everything the report shows.

    Attributes
    ----------
    table
        The indicator table (:data:`INDICATOR_COLUMNS`).
    definitions
        The indicator definitions used.
    extra
        Supporting tables: ``ranking``, ``worst_served``, ``walk_time``, ``services``,
        ``park_tiers``, ``rail_lines``, ``rail_chords``, ``waste_balance``,
        ``waste_landfill_life`` (present when computed).
    notes
        Provenance and method notes.
    gaps
        Every data gap, one sentence each (Chinese with English).
    provenance
        Data sources and basis (OSM, population, CRS, 镇街 boundaries, generated time).
    profile
        The study-area profile (document citations).
    """

    table: pd.DataFrame
    definitions: dict[str, IndicatorDef]
    extra: dict[str, pd.DataFrame]
    notes: list[str]
    gaps: list[str]
    provenance: dict[str, str]
    profile: Profile

    def summary(self) -> pd.DataFrame:
        """Whole-area rows only (one per indicator and measure)."""
        return self.table[self.table["unit_level"] == LEVEL_WHOLE].reset_index(drop=True)


class _Rows:
    """Collects table rows; targets, gaps and texts are filled in by :meth:`frame`."""

    def __init__(self, defs: Mapping[str, IndicatorDef], profile: Profile) -> None:
        self.defs = defs
        self.profile = profile
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        indicator: str,
        measure: str,
        measure_zh: str,
        level: str,
        unit: str,
        value: float,
        *,
        status: str = "computed",
        note: str = "",
        covered: float = np.nan,
        population: float = np.nan,
        basis: str = "",
        source: str = "",
        date: str = "",
        unit_of_value: str | None = None,
    ) -> None:
        self.rows.append(
            {
                "indicator": indicator,
                "measure": measure,
                "measure_zh": measure_zh,
                "unit_level": level,
                "unit": unit,
                "value": float(value) if value is not None else np.nan,
                "status_key": status,
                "note": note,
                "covered": covered,
                "population": population,
                "population_basis": basis,
                "data_source": source,
                "data_date": date,
                "value_unit_override": unit_of_value,
            }
        )

    def frame(self) -> pd.DataFrame:
        out = []
        for r in self.rows:
            d = self.defs[r["indicator"]]
            t = d.target_for(r["measure"])
            lower = r["status_key"] == "lower_bound"
            value = r["value"]
            meets = t.meets(value, lower_bound=lower) if t is not None else None
            if t is not None:
                doc = self.profile.document(t.document) if t.document in self.profile.documents else t.document
                clause = f"{doc} {t.clause}：“{t.quote}”"
                unit = d.value_unit if d.value_unit == "%" else f" {d.value_unit}"
                target_text = f"{_OP_TEXT[t.op]} {t.value:g}{unit}（{t.text_zh}）"
            else:
                clause = ""
                target_text = d.no_target_zh or "—"
            out.append(
                {
                    "indicator": d.id,
                    "indicator_zh": d.name_zh,
                    "indicator_en": d.name_en,
                    "measure": r["measure"],
                    "measure_zh": r["measure_zh"],
                    "unit_level": r["unit_level"],
                    "unit": r["unit"],
                    "value": value,
                    "value_unit": r["value_unit_override"] or d.value_unit,
                    "target": t.value if t is not None else np.nan,
                    "target_text": target_text,
                    "gap": value - t.value if t is not None and math.isfinite(value) else np.nan,
                    "meets": {True: "是 yes", False: "否 no", None: ""}[meets],
                    "rank": np.nan,
                    "status": STATUS[r["status_key"]],
                    "note": r["note"],
                    "covered": r["covered"],
                    "population": r["population"],
                    "population_basis": r["population_basis"],
                    "data_source": r["data_source"],
                    "data_date": r["data_date"],
                    "method": f"{d.method_zh} / {d.method_en}" if d.method_en else d.method_zh,
                    "target_clause": clause,
                    "caveats": "；".join(d.caveats),
                }
            )
        df = pd.DataFrame(out, columns=list(INDICATOR_COLUMNS))
        # rank units of one level for one measure (1 = highest value)
        mask = df["unit_level"].isin([LEVEL_CLUSTER, LEVEL_TOWNSHIP]) & df["value"].notna()
        if mask.any():
            ranks = (df.loc[mask, "value"].round(6)  # float noise must not split ties
                     .groupby([df.loc[mask, "indicator"], df.loc[mask, "measure"], df.loc[mask, "unit_level"]])
                     .rank(ascending=False, method="min"))
            df.loc[mask, "rank"] = ranks
        return df


# --------------------------------------------------------------------------- units


@dataclass
class _Units:
    """Node labels per unit level and the list of units per level."""

    labels: dict[str, np.ndarray]
    names: dict[str, list[str]]
    polygons: dict[str, gpd.GeoDataFrame]  # analysis CRS, column name_zh
    schematic: bool


def _geometry_named(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf if gdf.geometry.name == "geometry" else gdf.rename_geometry("geometry")


def _node_units(x: np.ndarray, y: np.ndarray, crs: str, townships: gpd.GeoDataFrame | None, clusters: gpd.GeoDataFrame | None) -> _Units:
    labels: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    polys: dict[str, gpd.GeoDataFrame] = {}
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs)

    def within(polygons: gpd.GeoDataFrame) -> np.ndarray:
        joined = gpd.sjoin(pts, polygons[["name_zh", "geometry"]], how="left", predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        return joined["name_zh"].reindex(pts.index).to_numpy(dtype=object)

    schematic = False
    if townships is not None and len(townships):
        tw = to_analysis(townships, crs)
        tw = _geometry_named(tw[["name_zh"] + (["cluster"] if "cluster" in tw.columns else []) + [tw.geometry.name]])
        polys[LEVEL_TOWNSHIP] = tw
        labels[LEVEL_TOWNSHIP] = within(tw)
        names[LEVEL_TOWNSHIP] = [str(n) for n in tw["name_zh"]]
        schematic = bool(townships["is_schematic"].astype(bool).any()) if "is_schematic" in townships.columns else False
    if clusters is not None and len(clusters):
        cl = to_analysis(clusters, crs)
        cl = _geometry_named(cl[["name_zh", cl.geometry.name]])
        polys[LEVEL_CLUSTER] = cl
        names[LEVEL_CLUSTER] = [str(n) for n in cl["name_zh"]]
        tw = polys.get(LEVEL_TOWNSHIP)
        if tw is not None and "cluster" in tw.columns:
            # same rule as the coverage tables: a 镇街 belongs to its profile cluster; 镇街 without one
            # (the 重庆高新区 towns) to the one cluster no 镇街 names
            named = set(tw["cluster"].dropna())
            spare = [c for c in names[LEVEL_CLUSTER] if c not in named]
            fill = spare[0] if len(spare) == 1 else None
            of = {t: (c if isinstance(c, str) and c else fill) for t, c in zip(tw["name_zh"], tw["cluster"])}
            labels[LEVEL_CLUSTER] = np.array([of.get(t) if isinstance(t, str) else None for t in labels[LEVEL_TOWNSHIP]], dtype=object)
        else:
            labels[LEVEL_CLUSTER] = within(cl)
    return _Units(labels, names, polys, schematic)


# --------------------------------------------------------------------------- coverage context


@dataclass
class _Cov:
    coverage: Any  # CoverageResult
    weights: np.ndarray
    basis: str
    source: str
    date: str
    units: _Units
    crs: str


def _date_of(text: str) -> str:
    m = _DATE_RE.search(text or "")
    return m.group(0) if m else "unknown"


def _finite(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(a, dtype=float), nan=np.inf)


def _add_shares(rows: _Rows, ctx: _Cov, indicator: str, measure: str, measure_zh: str, covered: np.ndarray,
                status: str = "computed", note: str = "") -> None:
    """Whole-area, 组团 and 镇街 rows of a population-weighted share (in %)."""
    from .population import coverage_shares

    w = ctx.weights
    c = np.asarray(covered, dtype=bool)
    common = {"basis": ctx.basis, "source": ctx.source, "date": ctx.date}
    whole = coverage_shares(w, c, None).iloc[0]
    rows.add(indicator, measure, measure_zh, LEVEL_WHOLE, WHOLE_AREA, 100.0 * whole["share"], status=status, note=note,
             covered=whole["covered_population"], population=whole["population"], **common)
    for level in (LEVEL_CLUSTER, LEVEL_TOWNSHIP):
        if level not in ctx.units.labels:
            continue
        table = coverage_shares(w, c, ctx.units.labels[level])
        unit_note = "镇街边界为示意 approximate boundaries" if ctx.units.schematic else ""
        for name in ctx.units.names[level]:
            if name in table.index and table.loc[name, "population"] > 0:
                r = table.loc[name]
                rows.add(indicator, measure, measure_zh, level, name, 100.0 * r["share"], status=status,
                         note="; ".join(x for x in (note, unit_note) if x),
                         covered=r["covered_population"], population=r["population"], **common)
            else:
                rows.add(indicator, measure, measure_zh, level, name, np.nan, status="no_nodes",
                         note="单元内无路网节点或人口 no walk-network node (or no population) inside", **common)


# --------------------------------------------------------------------------- parks


def park_service_coverage(coverage: Any, tiers: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Which walk-network nodes lie within a park tier's service radius.

    Parameters
    ----------
    coverage
        A :class:`~jlp_geo.life_circle.CoverageResult` (its network, services in the
        analysis CRS and nodes).
    tiers
        Dicts with ``id``, ``categories`` (service-category ids whose features count),
        ``min_area_m2`` and ``radius_m`` (``layers/indicators.yml``).

    Returns
    -------
    DataFrame
        One row per node: ``net_<tier>`` / ``line_<tier>`` (bool) per tier, and
        ``network`` / ``straight_line`` (covered by any tier).  ``attrs['parks']``
        holds the parks of each tier (GeoDataFrame, analysis CRS) and
        ``attrs['counts']`` the number per tier (all / on the network).

    Notes
    -----
    *Network*: parks are reached at their edge -- boundary points every 25 m
    (:func:`~jlp_geo.layers.services.service_access_points`), snapped to the network
    with the coverage analysis' defaults (≤ 200 m, network parts ≥ 50 nodes), then
    one multi-source Dijkstra per tier on network metres.  *Straight line*: the
    Euclidean distance from the node to the park polygon (0 inside).
    """
    from .coverage import CoverageWarning, nearest_by_category, snap_points
    from ..layers.services import service_access_points
    from .accessibility import DEFAULT_MIN_COMPONENT, DEFAULT_SNAP_M

    net = coverage.network
    services = coverage.services
    if services.crs is not None and services.crs != net.crs:
        services = to_analysis(services, net.crs)
    pts = shapely.points(net.x, net.y)
    cols: dict[str, np.ndarray] = {}
    parks_by_tier: dict[str, gpd.GeoDataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    included = services["included"].astype(bool) if "included" in services.columns else pd.Series(True, index=services.index)
    for tier in tiers:
        tid = str(tier["id"])
        sel = services[services["category"].isin(list(tier["categories"])) & included]
        sel = sel[sel.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        sel = sel[sel.geometry.area >= float(tier["min_area_m2"])]
        parks = sel.drop_duplicates(subset=["osm_type", "osm_id"]).reset_index(drop=True)
        parks_by_tier[tid] = parks
        radius = float(tier["radius_m"])
        # network distance
        access = service_access_points(parks) if len(parks) else None
        sources = np.array([], dtype=np.int64)
        if access is not None and len(access):
            snapped = snap_points(net, access.geometry.x.to_numpy(), access.geometry.y.to_numpy(), DEFAULT_SNAP_M,
                                  min_component_size=DEFAULT_MIN_COMPONENT)
            sources = np.unique(snapped.loc[~snapped["off_network"], "node"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            dist = nearest_by_category(net, {tid: sources}, metric="length")[tid].to_numpy()
        cols[f"net_{tid}"] = dist <= radius
        # straight line
        line = np.zeros(net.n_nodes, dtype=bool)
        if len(parks):
            tree = shapely.STRtree(parks.geometry.to_numpy())
            idx = tree.query(pts, predicate="dwithin", distance=radius)
            line[np.unique(idx[0])] = True
        cols[f"line_{tid}"] = line
        n_on = 0
        if access is not None and len(access):
            acc_ok = ~snapped["off_network"].to_numpy(dtype=bool)
            n_on = int(pd.Series(acc_ok).groupby(access["service_index"].to_numpy()).any().sum())
        counts[tid] = {"parks": len(parks), "on_network": n_on}
    out = pd.DataFrame(cols)
    out["network"] = out[[c for c in out.columns if c.startswith("net_")]].any(axis=1)
    out["straight_line"] = out[[c for c in out.columns if c.startswith("line_")]].any(axis=1)
    out.attrs["parks"] = parks_by_tier
    out.attrs["counts"] = counts
    return out


def _residential_area_shares(
    residential: gpd.GeoDataFrame,
    parks_by_tier: Mapping[str, gpd.GeoDataFrame],
    tiers: Sequence[Mapping[str, Any]],
    units: _Units,
    boundary: shapely.Geometry | None,
) -> dict[str, pd.DataFrame]:
    """Share of residential area within the straight-line radii, whole area and per unit (m² and %)."""
    res = residential[residential.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    land = shapely.union_all(shapely.make_valid(res.geometry.to_numpy())) if len(res) else shapely.Polygon()
    if boundary is not None:
        land = land.intersection(boundary)
    buffers = []
    for tier in tiers:
        parks = parks_by_tier.get(str(tier["id"]))
        if parks is not None and len(parks):
            buffers.append(shapely.union_all(parks.geometry.buffer(float(tier["radius_m"]), quad_segs=16).to_numpy()))
    reach = shapely.union_all(buffers) if buffers else shapely.Polygon()
    covered_land = land.intersection(reach)

    def share(area_geom: shapely.Geometry | None) -> tuple[float, float]:
        total = land if area_geom is None else land.intersection(area_geom)
        cov = covered_land if area_geom is None else covered_land.intersection(area_geom)
        return float(cov.area), float(total.area)

    out = {LEVEL_WHOLE: pd.DataFrame([share(None)], index=[WHOLE_AREA], columns=["covered_m2", "total_m2"])}
    for level, polys in units.polygons.items():
        vals = [share(g) for g in polys.geometry]
        out[level] = pd.DataFrame(vals, index=[str(n) for n in polys["name_zh"]], columns=["covered_m2", "total_m2"])
    return out


def _park_rows(rows: _Rows, ctx: _Cov, d: IndicatorDef, osm: Any, boundary: shapely.Geometry | None,
               extra: dict[str, pd.DataFrame], gaps: list[str]) -> None:
    tiers = d.parameters.get("tiers") or []
    known = {c.id for c in ctx.coverage.categories}
    unknown = sorted({c for t in tiers for c in t["categories"]} - known)
    if unknown:
        raise InputDataError(f"park tiers name unknown service categories {unknown}",
                             where=f"layers/indicators.yml, indicator {d.id}, parameters.tiers",
                             fix=f"use ids of layers/service_categories.csv, e.g. {sorted(known & {'park_small', 'park_large'})}")
    pc = park_service_coverage(ctx.coverage, tiers)
    counts = pc.attrs["counts"]
    tier_text = "；".join(f"{t.get('name_zh', t['id'])}" for t in tiers)
    none_found = all(c["parks"] == 0 for c in counts.values())
    status = "no_facility" if none_found else "computed"
    _add_shares(rows, ctx, d.id, "network", f"路网距离（{tier_text}）", pc["network"].to_numpy(), status=status)
    _add_shares(rows, ctx, d.id, "straight_line", f"直线距离（{tier_text}）", pc["straight_line"].to_numpy(), status=status)
    extra["park_tiers"] = pd.DataFrame(
        [
            {
                "tier": str(t["id"]),
                "name_zh": t.get("name_zh", ""),
                "categories": "、".join(t["categories"]),
                "min_area_m2": float(t["min_area_m2"]),
                "radius_m": float(t["radius_m"]),
                "parks": counts[str(t["id"])]["parks"],
                "parks_on_network": counts[str(t["id"])]["on_network"],
                "share_network_pct": 100.0 * float(np.average(pc[f"net_{t['id']}"], weights=ctx.weights)) if ctx.weights.sum() > 0 else np.nan,
                "share_straight_pct": 100.0 * float(np.average(pc[f"line_{t['id']}"], weights=ctx.weights)) if ctx.weights.sum() > 0 else np.nan,
            }
            for t in tiers
        ]
    )
    # residential-area basis (the 城市体检 indicator's own): needs the OSM data itself
    measure_zh = f"直线距离，居住用地面积口径（{tier_text}）"
    if osm is None:
        rows.add(d.id, "straight_line_residential_area", measure_zh, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：未提供OSM数据本身（居住用地） not computed: the OSM data itself (residential land) was not given",
                 source=ctx.source, date=ctx.date)
        gaps.append("居住用地面积口径未计算：未提供OSM数据 (residential-area basis of the park indicator: no OSM data given)")
        return
    from ..layers.services import services_from_osm
    from .accessibility import RESIDENTIAL_LAND

    residential = services_from_osm(osm, [RESIDENTIAL_LAND], crs=ctx.crs)
    if len(residential) == 0:
        rows.add(d.id, "straight_line_residential_area", measure_zh, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：OSM中无居住用地 not computed: no residential land mapped in the OSM data", source=ctx.source, date=ctx.date)
        gaps.append("OSM中无居住用地，公园指标的居住用地面积口径未计算 (no residential land in the OSM data)")
        return
    shares = _residential_area_shares(residential, pc.attrs["parks"], tiers, ctx.units, boundary)
    basis = "OSM居住用地面积（平方米） residential land area, m² (OSM landuse=residential, residential buildings)"
    for level, table in shares.items():
        for name, r in table.iterrows():
            ok = r["total_m2"] > 0
            rows.add(d.id, "straight_line_residential_area", measure_zh, level, str(name),
                     100.0 * r["covered_m2"] / r["total_m2"] if ok else np.nan,
                     status="no_facility" if none_found and ok else ("computed" if ok else "no_nodes"),
                     note="" if ok else "单元内无OSM居住用地 no residential land mapped in the unit",
                     covered=r["covered_m2"], population=r["total_m2"], basis=basis, source=ctx.source, date=ctx.date)


# --------------------------------------------------------------------------- 15-minute indicators


def _life_circle_rows(rows: _Rows, ctx: _Cov, d: IndicatorDef, extra: dict[str, pd.DataFrame], gaps: list[str]) -> None:
    from .accessibility import BASIC

    cov = ctx.coverage
    nodes = cov.nodes
    cats = cov.categories
    basic = [c for c in cats if c.basic]
    time_cov: dict[str, np.ndarray] = {}
    dist_cov: dict[str, np.ndarray] = {}
    empty: list[str] = []
    for c in cats:
        t = _finite(nodes[f"time_min_{c.id}"])
        time_cov[c.id] = t <= c.level_min
        if not np.isfinite(t).any():
            empty.append(c.id)
        if c.radius_m is not None:
            dist_cov[c.id] = _finite(nodes[f"dist_m_{c.id}"]) <= c.radius_m
    names_zh = "、".join(c.name_zh for c in basic)
    all_t = np.logical_and.reduce([time_cov[c.id] for c in basic]) if basic else np.zeros(len(nodes), bool)
    all_d = np.logical_and.reduce([dist_cov[c.id] for c in basic if c.id in dist_cov]) if basic else np.zeros(len(nodes), bool)
    basic_empty = [c.name_zh for c in basic if c.id in empty]
    status = "no_facility" if basic_empty else "computed"
    note = ("路网上无以下基本服务设施（覆盖率因而为0，多为OSM数据缺失） no such facility on the walk network: " + "、".join(basic_empty)) if basic_empty else ""
    note = "; ".join(x for x in (f"基本服务 basic categories: {names_zh}", note) if x)
    _add_shares(rows, ctx, d.id, f"{BASIC}:time", "全部基本服务，各按5/10/15分钟步行", all_t, status, note)
    _add_shares(rows, ctx, d.id, f"{BASIC}:dist", "全部基本服务，各按服务半径（路网）", all_d, status, note)
    for c in cats:
        st = "no_facility" if c.id in empty else "computed"
        _add_shares(rows, ctx, d.id, f"{c.id}:time", f"{c.name_zh} {c.level_min}分钟步行", time_cov[c.id], st)
        if c.id in dist_cov:
            _add_shares(rows, ctx, d.id, f"{c.id}:dist", f"{c.name_zh} 路网{c.radius_m:g}米", dist_cov[c.id], st)
    found = dict(zip(cov.service_summary["category"], cov.service_summary["n_found"]))
    absent = [c.name_zh for c in cats if c.id in empty and found.get(c.id, 0) == 0]
    off = [c.name_zh for c in cats if c.id in empty and found.get(c.id, 0) > 0]
    if absent:
        gaps.append("OSM中未找到以下类别的设施，其覆盖率为0（多为未绘制）: " + "、".join(absent)
                    + " (no facility of these categories in the OSM data: 0% usually means unmapped)")
    if off:
        gaps.append("以下类别的设施均不在步行网络上（距路网过远或位于孤立路段），其覆盖率为0: " + "、".join(off)
                    + " (facilities found but none on the walk network)")

    # walk-time distribution (population-weighted)
    bands = [float(b) for b in d.parameters.get("walk_time_bands_min", [5, 10, 15, 30])]
    show = [c for c in cats if c.basic or c.id in ("childcare", "sports", "fitness", "park_large", "rail_station")]
    recs = []
    w = ctx.weights
    total = w.sum()
    for c in show:
        t = _finite(nodes[f"time_min_{c.id}"])
        rec: dict[str, Any] = {"category": c.id, "name_zh": c.name_zh, "level_min": c.level_min}
        lo = -np.inf
        for b in bands:
            rec[f"≤{b:g}分钟" if lo == -np.inf else f"{lo:g}–{b:g}分钟"] = 100.0 * w[(t > lo) & (t <= b)].sum() / total if total else np.nan
            lo = b
        rec[f">{lo:g}分钟"] = 100.0 * w[np.isfinite(t) & (t > lo)].sum() / total if total else np.nan
        rec["不可达 unreachable"] = 100.0 * w[~np.isfinite(t)].sum() / total if total else np.nan
        recs.append(rec)
    extra["walk_time"] = pd.DataFrame(recs)

    # services found
    extra["services"] = cov.service_summary.copy()

    # worst-served places: H3 cells with the most person-category gaps among the basic categories
    hexes = cov.by_hex
    n_worst = int(d.parameters.get("worst_served_n", 10))
    if len(hexes) and basic:
        h = pd.DataFrame(hexes.drop(columns=hexes.geometry.name))
        h = h[h["population"] > 0].copy()
        shares = {c.id: h[f"share_time_{c.id}"].fillna(0.0) for c in basic}
        h["deficit"] = sum(h["population"] * (1.0 - s) for s in shares.values())
        h["share_basic_all"] = 100.0 * h[f"share_time_{BASIC}"].fillna(0.0)
        h["missing_zh"] = [
            "、".join(c.name_zh for c in basic if shares[c.id].loc[i] < 0.5) for i in h.index
        ]
        h = h.sort_values(["deficit", "population"], ascending=[False, False]).head(n_worst)
        import h3

        lat_lon = [h3.cell_to_latlng(cell) for cell in h["h3_cell"]]
        h["lat"] = [round(a, 6) for a, _ in lat_lon]
        h["lon"] = [round(b, 6) for _, b in lat_lon]
        h["township"] = _township_of(h["lon"].to_numpy(), h["lat"].to_numpy(), ctx.units)
        h.insert(0, "rank", np.arange(1, len(h) + 1))
        extra["worst_served"] = h[["rank", "h3_cell", "township", "lon", "lat", "population", "share_basic_all", "missing_zh", "deficit"]].reset_index(drop=True)


def _township_of(lon: np.ndarray, lat: np.ndarray, units: _Units) -> list[str]:
    tw = units.polygons.get(LEVEL_TOWNSHIP)
    if tw is None or len(lon) == 0:
        return [""] * len(lon)
    pts = to_analysis(gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=get_settings().storage_crs), tw.crs)
    joined = gpd.sjoin(pts, tw[["name_zh", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return [str(v) if isinstance(v, str) else "" for v in joined["name_zh"].reindex(pts.index)]


def _group_rows(rows: _Rows, ctx: _Cov, d: IndicatorDef) -> None:
    """15分钟健身圈 and 一老一小: per category and all together."""
    nodes = ctx.coverage.nodes
    by_id = {c.id: c for c in ctx.coverage.categories}
    ids = [c for c in d.parameters.get("categories", []) if c in by_id]
    missing = [c for c in d.parameters.get("categories", []) if c not in by_id]
    if missing:
        raise InputDataError(f"unknown service categories {missing}", where=f"layers/indicators.yml, indicator {d.id}",
                             fix="use ids of layers/service_categories.csv")
    times = {c: _finite(nodes[f"time_min_{c}"]) for c in ids}
    dists = {c: _finite(nodes[f"dist_m_{c}"]) for c in ids}
    empty = {c for c in ids if not np.isfinite(times[c]).any()}
    names = "、".join(by_id[c].name_zh for c in ids)
    if "minutes" in d.parameters:  # nearest of any category within one time / distance (健身圈)
        minutes = float(d.parameters["minutes"])
        radius = float(d.parameters.get("radius_m", np.inf))
        st = "no_facility" if empty == set(ids) else "computed"
        t_any = np.min(np.vstack([times[c] for c in ids]), axis=0) <= minutes
        d_any = np.min(np.vstack([dists[c] for c in ids]), axis=0) <= radius
        note = f"设施 facilities: {names}"
        _add_shares(rows, ctx, d.id, "any:time", f"{minutes:g}分钟步行内有任一体育或健身设施", t_any, st, note)
        _add_shares(rows, ctx, d.id, "any:dist", f"路网{radius:g}米内有任一体育或健身设施", d_any, st, note)
    else:  # every category at its own level (一老一小)
        st = "no_facility" if empty else "computed"
        t_all = np.logical_and.reduce([times[c] <= by_id[c].level_min for c in ids])
        d_all = np.logical_and.reduce([dists[c] <= (by_id[c].radius_m or np.inf) for c in ids])
        note = "; ".join(x for x in (f"设施 facilities: {names}", ("路网上无 none on the walk network: " + "、".join(by_id[c].name_zh for c in sorted(empty))) if empty else "") if x)
        _add_shares(rows, ctx, d.id, "all:time", "三类同时覆盖，各按其步行层级", t_all, st, note)
        _add_shares(rows, ctx, d.id, "all:dist", "三类同时覆盖，各按服务半径（路网）", d_all, st, note)
    for c in ids:
        cat = by_id[c]
        st = "no_facility" if c in empty else "computed"
        _add_shares(rows, ctx, d.id, f"{c}:time", f"{cat.name_zh} {cat.level_min}分钟步行", times[c] <= cat.level_min, st)
        if cat.radius_m is not None:
            _add_shares(rows, ctx, d.id, f"{c}:dist", f"{cat.name_zh} 路网{cat.radius_m:g}米", dists[c] <= cat.radius_m, st)


# --------------------------------------------------------------------------- rail


@dataclass
class RailLength:
    """Urban rail length inside a boundary, from OSM.

    Attributes
    ----------
    track_km
        Every running track (service tracks excluded), clipped; double track mapped as
        two ways counts twice.
    route_km
        Sum over lines of the longer direction's member-track length (None without
        route relations).
    lines
        One row per line: ``line``, ``name``, ``route``, ``n_relations``, ``km``,
        ``km_directions``, ``ways_missing``.
    n_track_ways
        Rail ways counted for *track_km*.
    crs
        CRS the lengths were measured in.
    notes
        What was excluded and why.
    """

    track_km: float
    route_km: float | None
    lines: pd.DataFrame
    n_track_ways: int
    crs: str
    notes: list[str] = field(default_factory=list)


def _way_parts(refs: Sequence[int], ids: np.ndarray, xy: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive nodes present in the data (a missing node breaks the way)."""
    r = np.asarray(refs, dtype=np.int64)
    if r.size == 0 or ids.size == 0:
        return []
    pos = np.clip(np.searchsorted(ids, r), 0, ids.size - 1)
    found = ids[pos] == r
    parts, start = [], None
    for i, f in enumerate(found):
        if f and start is None:
            start = i
        if (not f or i == len(found) - 1) and start is not None:
            end = i + 1 if f else i
            if end - start >= 2:
                parts.append(xy[pos[start:end]])
            start = None
    return parts


def rail_route_length(
    osm: Any,
    boundary: shapely.Geometry | gpd.GeoDataFrame | None = None,
    crs: str | None = None,
    *,
    railway: Sequence[str] = ("subway", "light_rail", "monorail"),
    route: Sequence[str] = ("subway", "light_rail", "monorail"),
    excluded_status_keys: Sequence[str] = ("construction", "proposed", "disused", "abandoned", "razed"),
    excluded_service: Sequence[str] = ("yard", "siding", "spur", "crossover"),
) -> RailLength:
    """Operating urban-rail length inside *boundary*, per line and as track length.

    Parameters
    ----------
    osm
        :class:`~jlp_geo.sources.osm.OsmData`.
    boundary
        Polygon in *crs* (shapely) or a GeoDataFrame (any CRS); None = no clipping.
    crs
        Metric CRS to measure in; default the settings' analysis CRS, or the local UTM
        zone when the data lies outside it.
    railway
        ``railway=*`` values of urban rail tracks.
    route
        ``route=*`` values of line relations (``type=route``).
    excluded_status_keys
        A way or relation carrying any of these keys (``construction=*``, ``proposed=*`` …)
        or ``state``/``status``/``railway:status`` with one of them as value is not in
        operation and is skipped.
    excluded_service
        ``service=*`` values of tracks that are not running line (yards, sidings,
        crossovers): left out of the track length.

    Returns
    -------
    RailLength
    """
    if crs is None:
        lon = float(osm.nodes["lon"].median()) if len(osm.nodes) else 106.5
        lat = float(osm.nodes["lat"].median()) if len(osm.nodes) else 29.5
        crs, _ = metric_crs_for(lon, lat, get_settings().analysis_crs)
    poly = None
    if isinstance(boundary, gpd.GeoDataFrame):
        poly = to_analysis(boundary, crs).geometry.union_all()
    elif boundary is not None:
        poly = boundary
    status_keys = set(excluded_status_keys)

    def operating(tags: Mapping[str, str]) -> bool:
        if any(k in tags and tags[k] != "no" for k in status_keys):
            return False
        return not any(tags.get(k) in status_keys for k in ("state", "status", "railway:status", "operational_status"))

    ids = osm.nodes["id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    xy = osm.nodes[["lon", "lat"]].to_numpy(dtype=float)[order]
    rail_ids, geoms, service = [], [], []
    n_status = 0
    for wid, refs, tags in osm.ways[["id", "refs", "tags"]].itertuples(index=False):
        if tags.get("railway") not in railway:
            continue
        if not operating(tags):
            n_status += 1
            continue
        parts = _way_parts(refs, ids, xy)
        if not parts:
            continue
        rail_ids.append(int(wid))
        geoms.append(shapely.MultiLineString([p.tolist() for p in parts]))
        service.append(tags.get("service", ""))
    notes: list[str] = []
    if n_status:
        notes.append(f"{n_status} rail way(s) with construction/proposed/disused status not counted")
    if rail_ids:
        gdf = gpd.GeoDataFrame({"way": rail_ids, "service": service}, geometry=geoms, crs="EPSG:4326")
        gdf = to_analysis(gdf, crs)
        inside = gdf.geometry.intersection(poly) if poly is not None else gdf.geometry
        length = dict(zip(gdf["way"], inside.length.to_numpy()))
        svc = dict(zip(gdf["way"], gdf["service"]))
    else:
        length, svc = {}, {}
    running = [w for w in length if svc[w] not in excluded_service]
    n_service = len(length) - len(running)
    if n_service:
        notes.append(f"{n_service} service track(s) ({'/'.join(excluded_service)}) left out of the track length")
    track_km = sum(length[w] for w in running) / 1000.0

    # lines from route relations
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for rid, members, tags in osm.relations[["id", "members", "tags"]].itertuples(index=False):
        if tags.get("type") != "route" or tags.get("route") not in route or not operating(tags):
            continue
        key = (tags.get("route", ""), tags.get("ref") or tags.get("name") or f"relation {rid}")
        ways = {ref for kind, ref, role in members if kind == "way" and not role.startswith(("platform", "stop"))}
        rail_members = [w for w in ways if w in length]
        missing = [w for w in ways if w not in length and w not in svc]
        km = sum(length[w] for w in rail_members) / 1000.0
        line = lines.setdefault(key, {"line": key[1], "name": tags.get("name", ""), "route": key[0], "dirs": [], "missing": 0})
        line["dirs"].append(km)
        line["missing"] += len(missing)
    rows = [
        {
            "line": v["line"],
            "name": v["name"],
            "route": v["route"],
            "n_relations": len(v["dirs"]),
            "km": max(v["dirs"]),
            "km_directions": " / ".join(f"{x:.3f}" for x in v["dirs"]),
            "ways_missing": v["missing"],
        }
        for v in lines.values()
    ]
    table = pd.DataFrame(rows, columns=["line", "name", "route", "n_relations", "km", "km_directions", "ways_missing"])
    table = table[table["km"] > 0].sort_values("line").reset_index(drop=True) if len(table) else table
    route_km = float(table["km"].sum()) if len(table) else None
    if not len(table):
        notes.append("no urban-rail route relation with track inside the area: the per-line length is not available")
    return RailLength(track_km=track_km, route_km=route_km, lines=table, n_track_ways=len(running), crs=str(crs), notes=notes)


def _chord_table() -> pd.DataFrame:
    path = get_settings().layers_dir / "metro_km_in_jiulongpo.csv"
    if not path.is_file():
        return pd.DataFrame()
    df = pd.read_csv(path, encoding="utf-8-sig")
    return df


def _rail_rows(rows: _Rows, d: IndicatorDef, osm: Any, boundary: Any, crs: str, profile: Profile,
               extra: dict[str, pd.DataFrame], gaps: list[str], notes: list[str]) -> None:
    target = d.target
    chords = _chord_table() if osm is None else pd.DataFrame()  # the gazetteer's chords: the fallback without OSM
    gaz = next((s for s in profile.data_sources if s.get("id") == "gazetteer"), {})
    if len(chords):
        km = float(chords["chord_km_in_jiulongpo"].sum())
        extra["rail_chords"] = chords
        note = ("站间弦长下限（各线直线段之和，按线路计） lower bound from station chords, per line: "
                + "、".join(f"{n} {k:g}" for n, k in zip(chords["name"], chords["chord_km_in_jiulongpo"])))
        rows.add(d.id, "station_chord_lower_bound", "站间弦长下限（按线路）", LEVEL_WHOLE, WHOLE_AREA, km, status="lower_bound",
                 note=note, source="layers/metro_km_in_jiulongpo.csv (jlp_geo gazetteer)", date=str(gaz.get("date", "")))
        if target is not None and km >= target.value:
            notes.append(
                f"轨道里程：站间弦长下限按线路合计已达 {km:.2f} km，超过规划2030年目标 {target.value:g} km，"
                "说明规划“通车里程”的统计口径与按线路相加不同（如共线段只计一次、或只计部分线路）。"
                f" The per-line station-chord lower bound ({km:.2f} km) already exceeds the plan's {target.value:g} km target for 2030, "
                "so the plan must count 通车里程 differently (e.g. shared sections once)."
            )
    if osm is None:
        for m, mz in (("route_length", "按线路通车里程（OSM）"), ("track_length", "轨道长度（OSM）")):
            rows.add(d.id, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：无OSM数据 not computed: no OSM data (jlp-geo report --osm FILE)")
        gaps.append("轨道里程未按OSM计算：无OSM数据，仅有站间弦长下限 (rail length from OSM not computed: no OSM data; only the station-chord lower bound)")
        return
    p = d.parameters
    rl = rail_route_length(
        osm, boundary, crs,
        railway=p.get("railway", ("subway", "light_rail", "monorail")),
        route=p.get("route", ("subway", "light_rail", "monorail")),
        excluded_status_keys=p.get("excluded_status_keys", ("construction", "proposed", "disused", "abandoned", "razed")),
        excluded_service=p.get("excluded_service", ("yard", "siding", "spur", "crossover")),
    )
    src, date = osm.provenance, osm.date or "unknown"
    clip = "clipped to the district polygon" if boundary is not None else "not clipped (no boundary)"
    extra["rail_lines"] = rl.lines
    if rl.route_km is not None:
        rows.add(d.id, "route_length", "按线路通车里程（OSM线路关系，较长方向，各线相加）", LEVEL_WHOLE, WHOLE_AREA, rl.route_km,
                 note=f"{len(rl.lines)} 条线路 lines; {clip}; measured in {rl.crs}", source=src, date=date)
    else:
        rows.add(d.id, "route_length", "按线路通车里程（OSM线路关系）", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：OSM数据中无城市轨道线路关系 not computed: no urban-rail route relation in the OSM data", source=src, date=date)
        gaps.append("OSM中无轨道线路关系，按线路里程未计算，仅给出轨道长度 (no route relations: per-line length not computed)")
    rows.add(d.id, "track_length", "轨道长度（所有正线轨道，双线分别绘制时计两次）", LEVEL_WHOLE, WHOLE_AREA, rl.track_km,
             note=f"{rl.n_track_ways} 条轨道 ways; {clip}; measured in {rl.crs}; " + "; ".join(rl.notes), source=src, date=date)
    if rl.track_km == 0:
        gaps.append("区界内OSM无城市轨道（地铁/轻轨/单轨） (no urban rail track inside the boundary in the OSM data)")


def _station_rows(rows: _Rows, ctx: _Cov | None, d: IndicatorDef, rail_stations: gpd.GeoDataFrame | None, gaps: list[str],
                  reason: str = "") -> None:
    radius = float(d.parameters.get("radius_m", 800))
    if ctx is None:
        rows.add(d.id, "straight_line", f"直线{radius:g}米", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note=reason or "未计算：无OSM数据（无路网与人口分布） not computed: no OSM data (no walk network, no population on it)")
        return
    from scipy.spatial import cKDTree

    net = ctx.coverage.network
    if rail_stations is not None:
        st = to_analysis(rail_stations, net.crs)
        st = st[st.geometry.notna() & ~st.geometry.is_empty]
        pts = st.geometry.representative_point()
        sx, sy = pts.x.to_numpy(), pts.y.to_numpy()
        label = "用户提供的站点 stations given by the user"
    else:
        s = ctx.coverage.services
        s = s[s["category"] == "rail_station"]
        if "included" in s.columns:
            s = s[s["included"].astype(bool)]
        if s.crs is not None and s.crs != net.crs:
            s = to_analysis(s, net.crs)
        sx, sy = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
        label = "OSM站点 OSM stations"
    note = f"{len(sx)} 个站点 stations ({label})"
    if len(sx) == 0:
        gaps.append("无轨道站点数据，站点800米覆盖为0 (no station found: the 800 m catchment is empty)")
    line = np.zeros(net.n_nodes, dtype=bool)
    if len(sx):
        dd, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([net.x, net.y]))
        line = dd <= radius
    status = "computed" if len(sx) else "no_facility"
    _add_shares(rows, ctx, d.id, "straight_line", f"直线{radius:g}米", line, status, note)
    if rail_stations is None:
        dist = _finite(ctx.coverage.nodes["dist_m_rail_station"])
    else:
        from .coverage import CoverageWarning, nearest_by_category, snap_points
        from .accessibility import DEFAULT_MIN_COMPONENT, DEFAULT_SNAP_M

        snapped = snap_points(net, sx, sy, DEFAULT_SNAP_M, min_component_size=DEFAULT_MIN_COMPONENT)
        src = np.unique(snapped.loc[~snapped["off_network"], "node"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            dist = nearest_by_category(net, {"s": src}, metric="length")["s"].to_numpy()
    _add_shares(rows, ctx, d.id, "network", f"路网{radius:g}米", dist <= radius, status, note)


# --------------------------------------------------------------------------- waste


def _as_percent(v: float) -> float:
    v = float(v)
    return v * 100.0 if 0 <= v <= 1.0 else v


def _waste_rate(waste: Any, keys: Sequence[str]) -> float | None:
    rates = getattr(waste, "rates", None)
    if isinstance(rates, Mapping):
        for k, v in rates.items():
            if any(key in str(k) for key in keys) and v is not None:
                try:
                    return _as_percent(v)
                except (TypeError, ValueError):
                    continue
    targets = getattr(waste, "targets", None)
    if isinstance(targets, pd.DataFrame) and len(targets):
        text_cols = [c for c in targets.columns if targets[c].dtype == object]
        num_cols = [c for c in ("achieved", "value_pct", "computed", "forecast", "value", "rate") if c in targets.columns]
        for _, row in targets.iterrows():
            if any(any(key in str(row[c]) for key in keys) for c in text_cols):
                for c in num_cols:
                    try:
                        v = float(row[c])
                    except (TypeError, ValueError):
                        continue
                    if math.isfinite(v):
                        return _as_percent(v)
    return None


def _landfill_life(waste: Any) -> pd.DataFrame | float | None:
    life = getattr(waste, "landfill_life", None)
    if isinstance(life, (int, float)) and not isinstance(life, bool):
        return float(life)
    if isinstance(life, Mapping):
        return pd.DataFrame({"name_zh": [str(k) for k in life], "life_years": [float(v) for v in life.values()]})
    if isinstance(life, pd.Series):
        return pd.DataFrame({"name_zh": [str(k) for k in life.index], "life_years": life.astype(float).to_numpy()})
    frame = life if isinstance(life, pd.DataFrame) else getattr(waste, "balance", None)
    if not isinstance(frame, pd.DataFrame) or not len(frame):
        return None
    if "scenario" in frame.columns and (frame["scenario"] == "plan").any():
        frame = frame[frame["scenario"] == "plan"]  # jlp_geo.waste: the plan's own assumption (第八条（四）)
    value_col = next((c for c in frame.columns if re.search(r"life|years|年限|寿命", str(c), re.IGNORECASE) and pd.api.types.is_numeric_dtype(frame[c])), None)
    if value_col is None:
        return None
    label_col = next((c for c in frame.columns if frame[c].dtype == object), None)
    labels = frame[label_col].astype(str) if label_col is not None else frame.index.astype(str)
    out = pd.DataFrame({"name_zh": list(labels), "life_years": frame[value_col].astype(float).to_numpy()})
    return out[out["life_years"].notna()].reset_index(drop=True)


def _waste_rows(rows: _Rows, defs: Mapping[str, IndicatorDef], waste: Any, extra: dict[str, pd.DataFrame],
                gaps: list[str], notes: list[str]) -> None:
    ids = [i for i in ("waste_resource_recovery", "waste_comprehensive_use", "waste_landfill_life") if i in defs]
    balance = getattr(waste, "balance", None) if waste is not None else None
    if waste is None or not isinstance(balance, pd.DataFrame):
        reason = ("未计算：未提供建筑垃圾分析结果（jlp_geo.waste） not computed: no construction-waste analysis result given"
                  if waste is None else "未计算：建筑垃圾分析结果没有 balance 表 not computed: the waste result has no .balance table")
        for i in ids:
            m, mz = ("life", "填埋场使用年限") if i == "waste_landfill_life" else ("plan_scope", "九龙坡区直管范围 directly administered area")
            rows.add(i, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=reason)
        gaps.append("建筑垃圾收支平衡、填埋场年限与70%/73%目标未计算：无建筑垃圾分析结果 (construction-waste balance, landfill life and rates: no waste analysis given)")
        return
    source = str(getattr(waste, "source", "") or "jlp_geo.waste — 建筑垃圾规划 forecasts and facilities (layers/waste_plan_*.csv)")
    date = _date_of(source) if _date_of(source) != "unknown" else ""
    extra["waste_balance"] = balance.copy()
    notes.extend(str(n) for n in getattr(waste, "notes", []) or [])
    for ind, keys in (("waste_resource_recovery", ("resource", "资源化")), ("waste_comprehensive_use", ("comprehensive", "综合"))):
        if ind not in defs:
            continue
        v = _waste_rate(waste, keys)
        if v is None:
            rows.add(ind, "plan_scope", "九龙坡区直管范围 directly administered area", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：建筑垃圾分析未给出该比率 not computed: the waste analysis gives no value for this rate", source=source, date=date)
            gaps.append(f"{defs[ind].name_zh}：建筑垃圾分析未给出现状/预测值 (no value in the waste analysis)")
        else:
            rows.add(ind, "plan_scope", "九龙坡区直管范围 directly administered area", LEVEL_WHOLE, WHOLE_AREA, v, source=source, date=date)
    if "waste_landfill_life" in defs:
        life = _landfill_life(waste)
        if life is None:
            rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：建筑垃圾分析未给出填埋场年限 not computed: no landfill life in the waste analysis", source=source, date=date)
            gaps.append("填埋场使用年限：建筑垃圾分析未给出 (landfill life not in the waste analysis)")
        elif isinstance(life, float):
            rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_WHOLE, WHOLE_AREA, life, source=source, date=date)
        else:
            extra["waste_landfill_life"] = life
            for name, years in zip(life["name_zh"], life["life_years"]):
                rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_FACILITY, str(name), float(years), source=source, date=date)


# --------------------------------------------------------------------------- entry point


def _not_computed_coverage(rows: _Rows, defs: Mapping[str, IndicatorDef], reason: str) -> None:
    heads = {
        "park_service_radius": [("network", "路网距离"), ("straight_line", "直线距离"), ("straight_line_residential_area", "直线距离，居住用地面积口径")],
        "life_circle_15min": [("basic_all:time", "全部基本服务，各按5/10/15分钟步行"), ("basic_all:dist", "全部基本服务，各按服务半径（路网）")],
        "fitness_15min": [("any:time", "15分钟步行内有任一体育或健身设施")],
        "elderly_young": [("elderly_care:time", "养老 5分钟步行"), ("childcare:time", "托育 5分钟步行"), ("kindergarten:time", "幼儿园 5分钟步行")],
    }
    for ind, measures in heads.items():
        if ind in defs:
            for m, mz in measures:
                rows.add(ind, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=reason)


def analyse_indicators(
    *,
    profile: Profile | None = None,
    coverage: Any = None,
    osm: Any = None,
    waste: Any = None,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    rail_stations: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    definitions: Mapping[str, IndicatorDef] | str | Path | None = None,
) -> IndicatorResult:
    """Compute every plan indicator the data allows, and state the gap where it does not.

    Parameters
    ----------
    profile
        Study-area profile (document citations, analysis CRS, district polygon); default
        ``layers/jiulongpo.yml``.
    coverage
        :class:`~jlp_geo.life_circle.CoverageResult`, or None (the coverage indicators are
        then rows with status "not computed: no OSM data" -- not zeros).
    osm
        :class:`~jlp_geo.sources.osm.OsmData` or a path to an OSM file (read clipped to
        *boundary*): rail length and the residential-area basis of the park indicator.
    waste
        The construction-waste analysis: any object with a ``.balance`` DataFrame; optional
        ``.rates`` (mapping with keys naming 资源化/resource and 综合/comprehensive, in %
        or as fractions), ``.targets`` (DataFrame), ``.landfill_life`` (years: a number, a
        mapping/Series per landfill, or a DataFrame), ``.notes``, ``.source``.  None = the
        waste rows say "not computed".
    townships, clusters
        镇街 / 组团 polygons (``name_zh``; 镇街 with ``cluster``); default the coverage
        result's own.
    rail_stations
        Station points replacing the OSM stations for the 800 m catchment.
    boundary
        District polygon for clipping rail and residential land; default the profile's
        district (cnmaps) when OSM data is given.
    definitions
        Indicator definitions (mapping or YAML path); default ``layers/indicators.yml``.

    Returns
    -------
    IndicatorResult
    """
    profile = profile or load_profile()
    defs = dict(definitions) if isinstance(definitions, Mapping) else load_indicator_definitions(definitions)
    rows = _Rows(defs, profile)
    extra: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    gaps: list[str] = []
    provenance: dict[str, str] = {
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "profile": f"{profile.name_zh} {profile.name_en}",
    }

    if coverage is not None:
        crs = str(coverage.network.crs)
    else:
        crs = profile.analysis_crs
    if osm is not None and not hasattr(osm, "ways"):
        from ..sources.osm import read_osm

        if boundary is None:
            from ..layers.admin import build_district

            boundary = build_district(profile)
        osm = read_osm(osm, polygon=to_storage(boundary).geometry.union_all())
    if osm is not None and coverage is None:
        lon, lat = float(osm.nodes["lon"].median()), float(osm.nodes["lat"].median())
        crs, crs_note = metric_crs_for(lon, lat, profile.analysis_crs)
        if crs_note:
            notes.append(crs_note)
    if osm is not None and boundary is None:
        from ..layers.admin import build_district

        boundary = build_district(profile)
    boundary_poly = to_analysis(boundary, crs).geometry.union_all() if boundary is not None else None
    if osm is not None:
        provenance["osm"] = f"{osm.provenance} ({osm.licence})"
    elif coverage is None:
        provenance["osm"] = "无 none — 覆盖类指标未计算 (coverage indicators not computed)"
    provenance["waste"] = (str(getattr(waste, "source", "") or "jlp_geo.waste") if waste is not None
                           else "无 none — 建筑垃圾指标未计算 (waste indicators not computed)")
    provenance["crs"] = f"lengths and areas measured in {crs}"

    ctx = None
    reason = ""
    if coverage is not None:
        towns = townships if townships is not None else coverage.by_township
        clus = clusters if clusters is not None else coverage.by_cluster
        net = coverage.network
        units = _node_units(net.x, net.y, str(net.crs), towns, clus)
        ctx = _Cov(
            coverage=coverage,
            weights=np.asarray(coverage.population.weights, dtype=float),
            basis=coverage.population.label,
            source=coverage.provenance.get("osm", net.source),
            date=_date_of(coverage.provenance.get("osm", "")),
            units=units,
            crs=str(net.crs),
        )
        provenance["coverage_osm"] = ctx.source
        provenance["population"] = ctx.basis
        provenance["walk"] = f"{net.speed_m_per_min:g} m/min on level ground; DEM: {coverage.provenance.get('dem', 'none')}"
        if units.schematic:
            provenance["townships"] = "镇街边界为示意（按面积的近似边界，非法定边界） schematic 镇街 boundaries, not legal ones"
        if coverage.population.method == "unweighted":
            gaps.append("无人口数据：覆盖率为路网节点占比，不代表人口比例 (no population data: shares are of walk-network nodes, not people)")
        if "park_service_radius" in defs:
            _park_rows(rows, ctx, defs["park_service_radius"], osm, boundary_poly, extra, gaps)
        if "life_circle_15min" in defs:
            _life_circle_rows(rows, ctx, defs["life_circle_15min"], extra, gaps)
        for ind in ("fitness_15min", "elderly_young"):
            if ind in defs:
                _group_rows(rows, ctx, defs[ind])
        notes.extend(coverage.notes)
    else:
        if osm is None:
            reason = ("未计算：无OSM数据 not computed: no OSM data — give --osm FILE.osm.pbf "
                      "(e.g. Geofabrik chongqing-latest.osm.pbf) or run jlp-geo fetch when online")
        else:
            reason = ("未计算：未提供覆盖分析结果 not computed: no coverage analysis was given "
                      "(jlp_geo.report.run_report computes it from the OSM data)")
        _not_computed_coverage(rows, defs, reason)
        gaps.append("15分钟生活圈、公园覆盖、健身圈、一老一小与站点覆盖未计算：" + reason.split("：", 1)[1])
    if "rail_length" in defs:
        _rail_rows(rows, defs["rail_length"], osm, boundary_poly, crs, profile, extra, gaps, notes)
    if "rail_station_catchment" in defs:
        _station_rows(rows, ctx, defs["rail_station_catchment"], rail_stations, gaps, reason)
    _waste_rows(rows, defs, waste, extra, gaps, notes)

    table = rows.frame()
    basic = [c.id for c in coverage.categories if c.basic] if coverage is not None else []
    extra["ranking"] = _ranking(table, basic)
    return IndicatorResult(table=table, definitions=defs, extra=extra, notes=notes, gaps=list(dict.fromkeys(gaps)),
                           provenance=provenance, profile=profile)


def _ranking(table: pd.DataFrame, basic: Sequence[str]) -> pd.DataFrame:
    """组团 and 镇街 ranked by the share covered by all basic services (time rule), then by the mean basic share."""
    cols = ["unit_level", "unit", "rank", "share_basic_all", "mean_basic_share", "population"]
    lc = table[(table["indicator"] == "life_circle_15min") & table["unit_level"].isin([LEVEL_CLUSTER, LEVEL_TOWNSHIP])]
    if lc.empty:
        return pd.DataFrame(columns=cols)
    head = lc[lc["measure"] == "basic_all:time"].set_index(["unit_level", "unit"])
    out = head[["value", "population"]].rename(columns={"value": "share_basic_all"})
    per = lc[lc["measure"].isin([f"{b}:time" for b in basic])]
    out = out.join(per.groupby(["unit_level", "unit"])["value"].mean().rename("mean_basic_share")).reset_index()
    out = out.sort_values(["unit_level", "share_basic_all", "mean_basic_share"], ascending=[True, False, False], na_position="last")
    out["rank"] = out.groupby("unit_level").cumcount() + 1
    out.loc[out["share_basic_all"].isna(), "rank"] = np.nan
    return out[cols].reset_index(drop=True)
