"""Construction-waste analysis: capacity balance, landfill life, haul catchments and siting screens.

Built on the waste layer and plan tables of :mod:`jlp_geo.layers.waste` (建筑垃圾规划 2025–2027):

1. **Balance** (产消平衡, :func:`balance_table`): the 2027 forecasts of 第三章 against the facilities of
   第十六–十九条, 第二十七条 and 附表1–4, one row per figure or check, with the arithmetic written out.
   Units stay as the plan gives them (万立方米 for 工程渣土/工程泥浆, 万吨 for the rest); the only
   conversion -- needed where the plan itself mixes the units (综合利用率 over *all* five types, ton-km of
   spoil) -- uses the stated density of ``layers/waste_parameters.yml`` and says so.
2. **Landfill life** (:func:`landfill_life_table`): years until full = fill volume / annual landfilled
   volume, for 锣鼓洞 (400 万方), 岩洞湾 under *both* of the plan's values (312 万方 in 第十九条 and
   附表4, 326 万立方米 in 第二十七条（二）; the conflict is flagged), and both together.
3. **Generation by 镇街** (:func:`allocate_generation`): the user's figures when given, otherwise the plan
   totals allocated by a stated proxy (area, population or construction activity), over the 13 directly
   administered 镇街 the plan covers (第二条).
4. **Haul** (:func:`straight_line_costs`, :func:`network_costs`, :func:`solve_transport`): distances from each
   镇街 (or user-given construction site) to each *located* facility -- on the OSM drive network when OSM
   data is given, otherwise straight line × a stated detour factor, labelled; catchments (nearest facility
   by haul distance) and a capacity-respecting allocation that minimises ton-km (a transportation problem
   solved with ``scipy.optimize.linprog``/HiGHS).  Facilities the plan does not place (综合利用厂 “西部片区”,
   the 新启 base) are excluded with a note -- no site is invented; the facility points are town-level
   estimates (±3–4 km) and every haul figure carries that uncertainty.
5. **Siting screens** (邻避, 第四条（五）; routes avoiding 人口密集区, 第十四条（二）,
   :func:`siting_screens`): population and sensitive receptors (schools, hospitals, care homes,
   residential land) within configurable buffers of each located facility, from OSM and population
   data when given; the share of each haul route through residential land.

:func:`analyse_waste` computes everything without writing; :func:`run_waste` writes ``waste.gpkg``,
``tables/waste_*.csv``, ``maps/waste.html`` and ``waste_report.html`` through a staging folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from shapely.geometry import LineString

from ..config import Profile, load_profile
from ..crs import require_crs, to_analysis, to_storage
from ..errors import InputDataError, MissingInputError, ProfileError
from ..layers.common import user_layer, finish_layer
from ..layers.services import Category, parse_tag_rules
from ..layers.waste import waste_figures_table, waste_forecast_table, waste_targets_table
from ..settings import get_settings

__all__ = [
    "COLUMNS_ZH",
    "STREAMS",
    "TYPES",
    "HaulCosts",
    "PlanFigures",
    "PopulationData",
    "Stream",
    "TransportSolution",
    "WasteParameters",
    "WasteResult",
    "allocate_generation",
    "analyse_waste",
    "balance_table",
    "landfill_life_table",
    "load_parameters",
    "network_costs",
    "plan_figures",
    "read_generation_file",
    "read_population",
    "siting_screens",
    "solve_transport",
    "straight_line_costs",
    "straight_line_label",
]

PARAMETERS_FILE = "waste_parameters.yml"
GPKG_NAME = "waste.gpkg"
MAP_NAME = "waste.html"
REPORT_NAME = "waste_report.html"

#: Waste types (keys of user files) -> forecast item of 第七条 and the unit the plan gives.
TYPES: dict[str, dict[str, str]] = {
    "spoil": {"item": "gen_spoil", "zh": "工程渣土", "en": "Excavated spoil", "unit": "万立方米/年"},
    "slurry": {"item": "gen_slurry", "zh": "工程泥浆", "en": "Engineering slurry", "unit": "万立方米/年"},
    "construction": {"item": "gen_construction", "zh": "工程垃圾", "en": "Construction waste", "unit": "万吨/年"},
    "demolition": {"item": "gen_demolition", "zh": "拆除垃圾", "en": "Demolition waste", "unit": "万吨/年"},
    "decoration": {"item": "gen_decoration", "zh": "装修垃圾", "en": "Decoration waste", "unit": "万吨/年"},
}


@dataclass(frozen=True)
class Stream:
    """A group of waste types that goes to the same kind of facility (第十四、十七条).

    Attributes
    ----------
    id, name_zh, name_en
        Identifier and labels.
    types
        Keys of :data:`TYPES` in the stream.
    unit
        The plan's unit per year (``万立方米/年`` or ``万吨/年``); haul cost is in ``unit × km``.
    facilities
        ``facility_id`` of the facilities receiving the stream (``layers/waste_plan_facilities.csv``).
    clause
        Where the plan sends the stream.
    """

    id: str
    name_zh: str
    name_en: str
    types: tuple[str, ...]
    unit: str
    facilities: tuple[str, ...]
    clause: str

    @property
    def volume(self) -> bool:
        """True for the stream measured in 万立方米."""
        return self.unit.startswith("万立方米")

    @property
    def cost_unit(self) -> str:
        """Unit of quantity × haul distance."""
        return ("万立方米" if self.volume else "万吨") + "·公里/年"


STREAMS: tuple[Stream, ...] = (
    Stream(
        "spoil_slurry", "工程渣土及工程泥浆", "Spoil and slurry", ("spoil", "slurry"), "万立方米/年",
        ("landfill_luogudong", "landfill_yandongwan"), "第十四条（一）、第十七条（二）（三）、第十九条",
    ),
    Stream(
        "decoration", "装修垃圾", "Decoration waste", ("decoration",), "万吨/年",
        ("sorting_huayan",), "第十五条（五）、第十七条（四）、第十八条",
    ),
    Stream(
        "construction_demolition", "工程垃圾及拆除垃圾", "Construction and demolition waste", ("construction", "demolition"),
        "万吨/年", ("recycling_plant", "xinqi_base"), "第十四条（一）、第十六条（一）、第十七条（一）",
    ),
)
_STREAM_BY_ID = {s.id: s for s in STREAMS}

#: Chinese column headers of the waste tables (CSV/Excel).
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "check_id": "编号",
    "stream": "类别编号",
    "stream_zh": "类别",
    "item_zh": "项目",
    "item_en": "项目（英文）",
    "value": "数值",
    "unit": "单位",
    "formula": "算式",
    "plan_value": "规划原值",
    "clauses": "条款",
    "status": "结论",
    "flag": "需关注",
    "note": "说明",
    "landfill": "填埋场",
    "fill_wm3": "填方量（万立方米）",
    "fill_clauses": "填方量条款",
    "scenario": "情景",
    "scenario_zh": "情景说明",
    "annual_wm3": "年填埋量（万立方米/年）",
    "years_until_full": "填满年限（年）",
    "full_in_year": "预计填满年份",
    "conflict": "规划数据不一致",
    "proxy": "分摊依据",
    "proxy_weight": "分摊权重",
    "share": "分摊比例",
    "spoil": "工程渣土（万立方米/年）",
    "slurry": "工程泥浆（万立方米/年）",
    "construction": "工程垃圾（万吨/年）",
    "demolition": "拆除垃圾（万吨/年）",
    "decoration": "装修垃圾（万吨/年）",
    "spoil_slurry": "渣土+泥浆（万立方米/年）",
    "construction_demolition": "工程+拆除垃圾（万吨/年）",
    "generation_basis": "产生量来源",
    "origin": "起点",
    "origin_kind": "起点类型",
    "facility_id": "设施编号",
    "facility_zh": "设施",
    "haul_km": "运距（公里）",
    "haul_pm_km": "运距不确定（±公里）",
    "method": "运距算法",
    "nearest": "最近设施（服务范围）",
    "robust": "服务范围判断稳健",
    "quantity": "运量（每年）",
    "quantity_unit": "运量单位",
    "cost": "运量×运距（每年）",
    "cost_unit": "运量×运距单位",
    "tonne_km": "吨公里（万吨·公里/年）",
    "tonne_km_basis": "吨公里换算",
    "route_km_residential": "途经居住用地（公里）",
    "route_share_residential": "途经居住用地比例",
    "route_share_dense": "途经高密度人口栅格比例",
    "capacity": "处理能力",
    "capacity_unit": "处理能力单位",
    "capacity_basis": "处理能力说明",
    "intake": "分配运量（每年）",
    "utilisation": "负荷率",
    "unserved": "未能分配",
    "allocated": "分配运量（每年）",
    "ambiguous": "服务范围不稳健的起点",
    "members": "服务镇街",
    "origin_uncertainty_m": "起点不确定度（米）",
    "mean_haul_km": "平均运距（公里）",
    "max_haul_km": "最大运距（公里）",
    "located": "已定位",
    "buffer_m": "缓冲距离（米）",
    "population": "人口",
    "population_method": "人口来源",
    "possible_radius_m": "含位置不确定的距离（米）",
    "n_origins": "服务起点数",
}


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class WasteParameters:
    """The stated assumptions of the analysis (``layers/waste_parameters.yml``).

    Attributes
    ----------
    administered_by
        Which 镇街 are in scope (``district``: the 13 directly administered, 第二条).
    proxy, proxy_fallback
        Allocation proxy (``auto``/``area``/``population``/``activity``) and the one ``auto`` ends with.
    density_t_per_m3, density_range, density_note
        t/m³ of spoil/slurry, a sensitivity range, and where the value comes from.
    detour_factor, detour_note
        Straight-line → road distance factor of the fallback.
    snap_max_m
        Largest snap distance to the drive network before a pair falls back to straight line.
    landfilled_share
        Share of the spoil/slurry absorption that goes to the landfills (plan: 1.0).
    yandongwan_fill_for_allocation
        岩洞湾 fill volume (万立方米) used in the haul allocation (312 or 326).
    horizon_years
        Allocation horizon (landfill capacity per year = fill / horizon); None = combined life.
    start_year
        First year with both landfills (for calendar dates).
    buffers_m
        Screening distances around located facilities.
    dense_residential_per_km2
        Raster density counted as dense along haul routes.
    receptors
        Sensitive-receptor categories (OSM tag rules).
    notes
        ``{topic: note}`` from the file.
    path
        File the parameters were read from.
    """

    administered_by: str
    proxy: str
    proxy_fallback: str
    density_t_per_m3: float
    density_range: tuple[float, float]
    density_note: str
    detour_factor: float
    detour_note: str
    snap_max_m: float
    landfilled_share: float
    yandongwan_fill_for_allocation: float
    horizon_years: float | None
    start_year: int
    buffers_m: tuple[float, ...]
    dense_residential_per_km2: float
    receptors: tuple[Category, ...]
    notes: dict[str, str] = field(default_factory=dict)
    path: str = ""


_PROXIES = ("auto", "area", "population", "activity")


def _need(raw: Mapping[str, Any], dotted: str, where: str) -> Any:
    node: Any = raw
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            raise ProfileError(f"missing parameter '{dotted}'", where=where, fix=f"restore '{dotted}' (see the repository's layers/{PARAMETERS_FILE})")
        node = node[key]
    return node


def _positive(value: Any, name: str, where: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ProfileError(f"parameter '{name}' must be a number, got {value!r}", where=where) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ProfileError(f"parameter '{name}' must be {'non-negative' if allow_zero else 'positive'}, got {value!r}", where=where)
    return v


def load_parameters(path: str | Path | None = None, **overrides: Any) -> WasteParameters:
    """Read the stated parameters of the waste analysis.

    Parameters
    ----------
    path
        YAML file (default ``layers/waste_parameters.yml``).
    **overrides
        Field values of :class:`WasteParameters` replacing the file's (e.g. ``detour_factor=1.3``).

    Returns
    -------
    WasteParameters

    Raises
    ------
    MissingInputError
        If the file does not exist.
    ProfileError
        If a parameter is missing or out of range (the message names it).
    """
    p = Path(path) if path else get_settings().layers_dir / PARAMETERS_FILE
    where = str(p)
    if not p.is_file():
        raise MissingInputError("waste parameter file not found", where=where, fix=f"restore layers/{PARAMETERS_FILE} from the repository")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"not valid YAML: {exc}", where=where, fix="fix the indentation or quoting") from exc
    receptors = []
    for i, r in enumerate(_need(raw, "receptors", where) or []):
        rwhere = f"{where}, receptors[{i}]"
        rule = str(_need(r, "osm_rule", rwhere))
        try:
            rules = parse_tag_rules(rule)
        except InputDataError as exc:
            raise ProfileError(f"bad osm_rule {rule!r}: {exc.what}", where=rwhere, fix="use the rule syntax of layers/service_categories.csv") from exc
        geometry = str(r.get("geometry", "point"))
        if geometry not in ("point", "polygon"):
            raise ProfileError(f"geometry must be point or polygon, got {geometry!r}", where=rwhere)
        receptors.append(
            Category(
                id=str(_need(r, "id", rwhere)), name_zh=str(_need(r, "name_zh", rwhere)), name_en=str(r.get("name_en", "")),
                level_min=15, radius_m=None, rule_source=f"{PARAMETERS_FILE} receptors", verified="none",
                osm_rule=rule, rules=rules, geometry=geometry, min_area_m2=None, basic=False,
            )
        )
    proxy = str(_need(raw, "proxy", where))
    fallback = str(_need(raw, "proxy_fallback", where))
    for name, val in (("proxy", proxy), ("proxy_fallback", fallback)):
        if val not in _PROXIES or (name == "proxy_fallback" and val == "auto"):
            raise ProfileError(f"parameter '{name}' must be one of {list(_PROXIES)}, got {val!r}", where=where)
    rng = _need(raw, "density.range_t_per_m3", where)
    horizon = _need(raw, "landfill.horizon_years", where)
    share = _positive(_need(raw, "landfill.landfilled_share", where), "landfill.landfilled_share", where, allow_zero=True)
    if share > 1:
        raise ProfileError(f"landfill.landfilled_share must be in [0, 1], got {share}", where=where)
    params = WasteParameters(
        administered_by=str(_need(raw, "scope.administered_by", where)),
        proxy=proxy,
        proxy_fallback=fallback,
        density_t_per_m3=_positive(_need(raw, "density.spoil_slurry_t_per_m3", where), "density.spoil_slurry_t_per_m3", where),
        density_range=(float(rng[0]), float(rng[1])),
        density_note=str(raw.get("density", {}).get("note", "")).strip(),
        detour_factor=_positive(_need(raw, "detour.factor", where), "detour.factor", where),
        detour_note=str(raw.get("detour", {}).get("note", "")).strip(),
        snap_max_m=_positive(_need(raw, "network.snap_max_m", where), "network.snap_max_m", where),
        landfilled_share=share,
        yandongwan_fill_for_allocation=_positive(
            _need(raw, "landfill.yandongwan_fill_for_allocation_wm3", where), "landfill.yandongwan_fill_for_allocation_wm3", where
        ),
        horizon_years=None if horizon is None else _positive(horizon, "landfill.horizon_years", where),
        start_year=int(_need(raw, "landfill.start_year", where)),
        buffers_m=tuple(sorted(_positive(b, "siting.buffers_m", where) for b in _need(raw, "siting.buffers_m", where))),
        dense_residential_per_km2=_positive(_need(raw, "siting.dense_residential_per_km2", where), "siting.dense_residential_per_km2", where),
        receptors=tuple(receptors),
        notes={k: str(v.get("note", "")).strip() for k, v in raw.items() if isinstance(v, Mapping) and v.get("note")},
        path=where,
    )
    if params.detour_factor < 1:
        raise ProfileError(f"detour.factor must be ≥ 1 (a road is never shorter than the straight line), got {params.detour_factor}", where=where)
    return replace(params, **overrides) if overrides else params


# --------------------------------------------------------------------------- the plan's figures


@dataclass(frozen=True)
class PlanFigures:
    """The figures of the 建筑垃圾规划 the analysis uses, each with its clause.

    Attributes
    ----------
    generation
        ``{type: value}`` (第七条), in :data:`TYPES` units.
    generation_clause
        ``{type: clause}``.
    processing
        ``{item_id: value}`` of 第八条 (``proc_sorting_gap`` 31.2, ``proc_recycling_gap`` 17.3,
        ``proc_landfill_solid`` 20.27, ``proc_spoil_slurry`` 173.54).
    processing_clause
        ``{item_id: clause}``.
    capacity
        ``{facility_id: 万吨/年}`` where the plan gives one value.
    capacity_clauses
        ``{facility_id: clauses}``.
    fill
        ``{facility_id: [(万立方米, clauses), ...]}``, one entry per distinct value.
    targets
        ``{indicator_en: percent}`` (附表1).
    target_clause
        Clause of the targets.
    names
        ``{facility_id: name_zh}``.
    document
        Short citation of the plan.
    """

    generation: dict[str, float]
    generation_clause: dict[str, str]
    processing: dict[str, float]
    processing_clause: dict[str, str]
    capacity: dict[str, float]
    capacity_clauses: dict[str, str]
    fill: dict[str, list[tuple[float, str]]]
    targets: dict[str, float]
    target_clause: str
    names: dict[str, str]
    document: str

    def fill_values(self, facility_id: str) -> list[float]:
        """Distinct fill volumes (万立方米) the plan gives for a landfill, in clause order."""
        return [v for v, _ in self.fill.get(facility_id, [])]


def plan_figures(profile: Profile | None = None) -> PlanFigures:
    """Collect the plan figures from ``layers/waste_plan_*.csv`` (through :mod:`jlp_geo.layers.waste`).

    Raises
    ------
    InputDataError
        If a forecast is missing or not in the unit the plan gives (万立方米 must never become 万吨 silently).
    """
    profile = profile or load_profile()
    fc = waste_forecast_table(profile).set_index("item_id")
    where = "layers/waste_plan_forecast.csv"
    generation, gclause = {}, {}
    for key, t in TYPES.items():
        if t["item"] not in fc.index:
            raise InputDataError(f"forecast item {t['item']} is missing", where=where, fix="restore the file from the repository")
        row = fc.loc[t["item"]]
        if str(row["unit"]) != t["unit"]:
            raise InputDataError(
                f"{t['item']} is in {row['unit']!r}, but the plan gives {t['zh']} in {t['unit']}",
                where=where, fix="keep the plan's unit; conversions are made only with the stated density parameter",
            )
        generation[key] = float(row["value"])
        gclause[key] = str(row["clause"])
    processing = {i: float(fc.loc[i, "value"]) for i in fc.index if str(i).startswith("proc_")}
    pclause = {i: str(fc.loc[i, "clause"]) for i in processing}
    figs = waste_figures_table(profile)
    names = dict(zip(figs["facility_id"], figs["name_zh"]))
    capacity, cap_clauses, fill = {}, {}, {}
    from ..layers.waste import clause_order_key  # the plan-clause order used by the layer

    for fid, f in figs.groupby("facility_id", sort=False):
        cap = f[f["quantity"] == "capacity"]
        if len(cap):
            units = set(cap["unit_std"])
            vals = {float(v) for v in cap["value"]}
            if units != {"万吨/年"} or len(vals) != 1:
                raise InputDataError(f"{fid}: capacity must be one value in 万吨/年, got {sorted(vals)} {sorted(units)}", where="layers/waste_plan_figures.csv")
            capacity[fid] = vals.pop()
            cap_clauses[fid] = "、".join(sorted(set(cap["clause"]), key=clause_order_key))
        fl = f[f["quantity"] == "fill_volume"]
        if len(fl):
            if set(fl["unit_std"]) != {"万立方米"}:
                raise InputDataError(f"{fid}: fill volume must be in 万立方米", where="layers/waste_plan_figures.csv")
            groups: dict[float, list[str]] = {}
            for v, c in sorted(zip(fl["value"], fl["clause"]), key=lambda t: clause_order_key(t[1])):
                groups.setdefault(float(v), []).append(c)
            fill[fid] = [(v, "、".join(cs)) for v, cs in groups.items()]
    tg = waste_targets_table(profile).set_index("indicator_en")
    targets = {k: float(tg.loc[k, "target_value"]) for k in tg.index if str(tg.loc[k, "target_unit"]) == "%"}
    return PlanFigures(
        generation=generation, generation_clause=gclause, processing=processing, processing_clause=pclause,
        capacity=capacity, capacity_clauses=cap_clauses, fill=fill, targets=targets,
        target_clause=str(tg["clause"].iloc[0]), names=names, document=profile.document("waste_plan"),
    )


def format_plan_number(v: float, digits: int = 4) -> str:
    """Number as the plan writes it: no trailing zeros (``173.54``, ``400``, ``2.3049``)."""
    if v is None or not math.isfinite(v):
        return "—"
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _comprehensive_needs(fig: PlanFigures, density: float) -> dict[str, float]:
    """What the 70 % and 73 % targets imply, for a spoil/slurry density (t/m³)."""
    solid = fig.generation["construction"] + fig.generation["demolition"] + fig.generation["decoration"]
    ss = fig.generation["spoil"] + fig.generation["slurry"]
    r70 = fig.targets["Resource-recovery rate"] / 100.0
    r73 = fig.targets["Comprehensive utilisation rate"] / 100.0
    recovered = r70 * solid
    total_t = solid + ss * density
    need_ss_wm3 = (r73 * total_t - recovered) / density  # spoil/slurry backfilled or used, 万立方米/年
    return {
        "solid": solid, "ss": ss, "r70": r70, "r73": r73, "recovered": recovered, "total_t": total_t,
        "rate_if_all_landfilled": recovered / total_t,
        "need_ss_wm3": need_ss_wm3, "need_ss_share": need_ss_wm3 / ss, "landfilled_ss_wm3": ss - need_ss_wm3,
    }


def balance_table(profile: Profile | None = None, params: WasteParameters | None = None) -> pd.DataFrame:
    """The capacity balance (产消平衡) of the 建筑垃圾规划, with the arithmetic written out.

    Every value is computed from the plan's figures (``layers/waste_plan_*.csv``); where the plan states
    the same quantity itself (``plan_value``), ``status`` says whether the arithmetic reproduces it.

    Parameters
    ----------
    profile
        Study-area profile (document citation).
    params
        Stated parameters (landfilled share, density for the rows that need one).

    Returns
    -------
    DataFrame
        Columns ``check_id, stream, stream_zh, item_zh, item_en, value, unit, formula, plan_value,
        clauses, status, flag, note, source``.  ``flag`` marks what needs the office's attention (the
        岩洞湾 conflict, capacity shortfalls, targets the plan's own figures cannot meet).
    """
    profile = profile or load_profile()
    params = params or load_parameters()
    fig = plan_figures(profile)
    g, pr = fig.generation, fig.processing
    doc = fig.document
    rows: list[dict[str, Any]] = []

    def add(check_id, stream, item_zh, item_en, value, unit, formula, clauses, status="", flag=False, note="", plan_value=np.nan):
        rows.append(
            {
                "check_id": check_id, "stream": stream, "stream_zh": _STREAM_ZH.get(stream, stream), "item_zh": item_zh,
                "item_en": item_en, "value": float(value), "unit": unit, "formula": formula, "plan_value": plan_value,
                "clauses": clauses, "status": status, "flag": bool(flag), "note": note, "source": f"{doc} {clauses}",
            }
        )

    def same(a: float, b: float, tol: float = 0.005) -> bool:
        return abs(a - b) <= tol

    # ---- 工程渣土 + 工程泥浆 (万立方米)
    ss = g["spoil"] + g["slurry"]
    add("ss_generation", "spoil_slurry", "工程渣土+工程泥浆产生量", "Spoil + slurry generated", ss, "万立方米/年",
        f"{format_plan_number(g['spoil'])} + {format_plan_number(g['slurry'])}", f"{fig.generation_clause['spoil']}、{fig.generation_clause['slurry']}",
        status="与规划一致 equals plan" if same(ss, pr["proc_spoil_slurry"]) else "与规划不一致 differs from plan",
        flag=not same(ss, pr["proc_spoil_slurry"]), plan_value=pr["proc_spoil_slurry"],
        note=f"第八条（四）需消纳量 {format_plan_number(pr['proc_spoil_slurry'])} 万立方米/年 = 全部产生量：规划未扣除就地回填（第十七条（二）（三）优先就地回填）"
        " — the absorption equals the whole generation: no on-site backfill is deducted")
    landfilled = pr["proc_spoil_slurry"] * params.landfilled_share
    add("ss_landfilled", "spoil_slurry", "进入填埋场的渣土泥浆量", "Spoil/slurry to landfills", landfilled, "万立方米/年",
        f"{format_plan_number(pr['proc_spoil_slurry'])} × {format_plan_number(params.landfilled_share)}（填埋比例 landfilled share）", fig.processing_clause["proc_spoil_slurry"],
        status="参数 parameter", note="landfilled_share = 1 reproduces 第八条（四）(填埋场处理量); lower it for on-site backfill (layers/waste_parameters.yml)")
    landfills = [fid for fid in _STREAM_BY_ID["spoil_slurry"].facilities if fid in fig.fill]
    scenarios = fill_scenarios(fig)
    for fid in landfills:
        values = fig.fill[fid]
        conflict = len(values) > 1
        for v, clauses in values:
            add(f"ss_fill_{fid}_{format_plan_number(v)}", "spoil_slurry", f"{fig.names[fid]} 填方量", f"Fill volume, {fid}", v, "万立方米", format_plan_number(v), clauses,
                status="规划内部矛盾 plan conflict" if conflict else "规划值 plan figure", flag=conflict,
                note=("；".join(f"{format_plan_number(x)} 万立方米（{c}）" for x, c in values) + " — 两值并存，分别计算 both values kept and computed") if conflict else "")
    for name, total, parts in scenarios:
        add(f"ss_fill_total_{format_plan_number(total)}", "spoil_slurry", f"两座填埋场总填方量（{name}）", f"Total fill volume ({name})", total, "万立方米",
            " + ".join(format_plan_number(p) for p in parts), "第十九条、第二十七条（二）、附表4", status="计算 computed", flag=len(scenarios) > 1,
            note="岩洞湾填方量规划内部不一致 (312 vs 326)" if len(scenarios) > 1 else "")
    if landfilled > 0:
        for fid in landfills:
            for v, clauses in fig.fill[fid]:
                add(f"ss_years_{fid}_{format_plan_number(v)}", "spoil_slurry", f"{fig.names[fid]} 单独消纳的填满年限（填方量 {format_plan_number(v)}）",
                    f"Years until full, {fid} alone ({format_plan_number(v)})", v / landfilled, "年", f"{format_plan_number(v)} ÷ {format_plan_number(landfilled)}", clauses,
                    status="计算 computed", flag=len(fig.fill[fid]) > 1)
        lives = []
        for name, total, _ in scenarios:
            years = total / landfilled
            lives.append(years)
            add(f"ss_years_total_{format_plan_number(total)}", "spoil_slurry", f"两座填埋场合计填满年限（{name}）", f"Years until both are full ({name})",
                years, "年", f"{format_plan_number(total)} ÷ {format_plan_number(landfilled)}", "第八条（四）、第十九条、第二十七条（二）、附表4",
                status="计算 computed", flag=len(scenarios) > 1,
                note=f"按 {params.start_year} 年起算约 {params.start_year + years:.1f} 年填满 (from {params.start_year})")
        if len(lives) > 1:
            diff = scenarios[1][1] - scenarios[0][1]
            add("ss_conflict_effect", "spoil_slurry", "岩洞湾两个填方量的差别对应的年限", "Life difference of the 312/326 conflict",
                diff / landfilled, "年", f"({format_plan_number(scenarios[1][1])} − {format_plan_number(scenarios[0][1])}) ÷ {format_plan_number(landfilled)}",
                "第十九条、第二十七条（二）、附表4", status="规划内部矛盾 plan conflict", flag=True,
                note=f"{format_plan_number(diff)} 万立方米 ≈ {diff / landfilled * 365:.0f} 天 days of absorption")

    # ---- 装修垃圾 (万吨)
    dec, cap_dec = g["decoration"], fig.capacity["sorting_huayan"]
    add("dec_generation", "decoration", "装修垃圾产生量", "Decoration waste generated", dec, "万吨/年", format_plan_number(dec), fig.generation_clause["decoration"],
        status="规划值 plan figure")
    add("dec_gap", "decoration", "装修垃圾分选能力缺口", "Sorting capacity gap (stated)", pr["proc_sorting_gap"], "万吨/年", format_plan_number(pr["proc_sorting_gap"]),
        fig.processing_clause["proc_sorting_gap"], plan_value=pr["proc_sorting_gap"],
        status="等于全部产生量 equals generation" if same(pr["proc_sorting_gap"], dec) else "小于产生量 below generation",
        note="缺口 = 产生量：现状无分选能力 (the stated gap equals the whole generation: no sorting capacity today)" if same(pr["proc_sorting_gap"], dec) else "")
    add("dec_capacity", "decoration", "华岩装修垃圾分选场处理规模", "Huayan sorting plant capacity", cap_dec, "万吨/年", format_plan_number(cap_dec),
        fig.capacity_clauses["sorting_huayan"], status="规划值 plan figure")
    surplus = cap_dec - dec
    add("dec_balance", "decoration", "分选能力余量（处理规模 − 产生量）", "Sorting surplus (capacity − generation)", surplus, "万吨/年",
        f"{format_plan_number(cap_dec)} − {format_plan_number(dec)}", f"{fig.capacity_clauses['sorting_huayan']}、{fig.generation_clause['decoration']}",
        status="能力有余 surplus" if surplus >= 0 else "能力不足 shortfall", flag=surplus < 0)
    add("dec_utilisation", "decoration", "分选场负荷率", "Sorting plant utilisation", 100 * dec / cap_dec, "%", f"{format_plan_number(dec)} ÷ {format_plan_number(cap_dec)} × 100",
        f"{fig.capacity_clauses['sorting_huayan']}、{fig.generation_clause['decoration']}", status="计算 computed")

    # ---- 工程垃圾 + 拆除垃圾 (万吨)
    cd = g["construction"] + g["demolition"]
    cap_rec = fig.capacity["recycling_plant"]
    add("cd_generation", "construction_demolition", "工程垃圾+拆除垃圾产生量", "Construction + demolition waste generated", cd, "万吨/年",
        f"{format_plan_number(g['construction'])} + {format_plan_number(g['demolition'])}", f"{fig.generation_clause['construction']}、{fig.generation_clause['demolition']}",
        status="计算 computed")
    add("cd_gap", "construction_demolition", "建筑垃圾资源化利用量缺口", "Recycling gap (stated)", pr["proc_recycling_gap"], "万吨/年",
        format_plan_number(pr["proc_recycling_gap"]), fig.processing_clause["proc_recycling_gap"], plan_value=pr["proc_recycling_gap"], status="规划值 plan figure")
    add("cd_capacity", "construction_demolition", "建筑垃圾综合利用厂处理规模", "Recycling plant capacity", cap_rec, "万吨/年", format_plan_number(cap_rec),
        fig.capacity_clauses["recycling_plant"], status="规划值 plan figure",
        note="重庆新启基地（第十六条（一））未给出规模 (the 新启 base has no stated capacity)")
    add("cd_gap_cover", "construction_demolition", "综合利用厂覆盖缺口后的余量", "Plant capacity − stated gap", cap_rec - pr["proc_recycling_gap"],
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(pr['proc_recycling_gap'])}",
        f"{fig.capacity_clauses['recycling_plant']}、{fig.processing_clause['proc_recycling_gap']}",
        status="可覆盖缺口 covers the gap" if cap_rec >= pr["proc_recycling_gap"] else "不能覆盖缺口 does not cover the gap",
        flag=cap_rec < pr["proc_recycling_gap"])
    add("cd_vs_generation", "construction_demolition", "综合利用厂处理规模 − 工程+拆除垃圾产生量", "Plant capacity − C&D generation", cap_rec - cd,
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(cd)}", f"{fig.capacity_clauses['recycling_plant']}、第七条（三）（四）",
        status="能力有余 surplus" if cap_rec >= cd else "单厂不足 plant alone short", flag=cap_rec < cd,
        note="其余须由新启基地、现场资源化或填埋消纳 (the rest must go to the 新启 base, on-site recycling or landfill)" if cap_rec < cd else "")

    # ---- 附表1 targets
    cn = _comprehensive_needs(fig, params.density_t_per_m3)
    solid = cn["solid"]
    tclause = fig.target_clause
    add("tgt_solid_total", "targets", "工程+拆除+装修垃圾总量", "Construction + demolition + decoration", solid, "万吨/年",
        f"{format_plan_number(g['construction'])} + {format_plan_number(g['demolition'])} + {format_plan_number(g['decoration'])}", "第七条（三）（四）（五）", status="计算 computed")
    add("tgt_recovery_needed", "targets", "资源化利用率70%所需资源化量", "Recovery needed for the 70 % target", cn["recovered"], "万吨/年",
        f"{format_plan_number(cn['r70'] * 100)}% × {format_plan_number(solid)}", tclause, status="计算 computed")
    add("tgt_landfill_solid", "targets", "资源化后剩余（填埋）量", "Remainder to landfill (30 %)", (1 - cn["r70"]) * solid, "万吨/年",
        f"(1 − {format_plan_number(cn['r70'])}) × {format_plan_number(solid)}", f"{tclause}; {fig.processing_clause['proc_landfill_solid']}",
        plan_value=pr["proc_landfill_solid"],
        status="与规划一致 equals plan" if same((1 - cn["r70"]) * solid, pr["proc_landfill_solid"]) else "与规划不一致 differs from plan",
        flag=not same((1 - cn["r70"]) * solid, pr["proc_landfill_solid"]),
        note="第八条（三）填埋场处理量 20.27 = 30% × 67.57：规划的填埋量正好是70%目标的余量")
    implied = cn["recovered"] - pr["proc_recycling_gap"]
    add("tgt_implied_existing", "targets", "缺口隐含的现有（或其他）资源化能力", "Recovery capacity implied by the stated gap", implied, "万吨/年",
        f"{format_plan_number(cn['recovered'])} − {format_plan_number(pr['proc_recycling_gap'])}", f"{tclause}; {fig.processing_clause['proc_recycling_gap']}",
        status="推算 inferred (not stated)", flag=True,
        note="规划未说明这约30万吨/年资源化能力从何而来（可能含新启基地）— the plan does not say where ≈30 万吨/年 of recovery comes from")
    add("tgt_planned_recovery", "targets", "规划新增资源化能力 − 70%目标所需资源化量", "Planned recovery capacity − recovery needed", cap_rec - cn["recovered"],
        "万吨/年", f"{format_plan_number(cap_rec)} − {format_plan_number(cn['recovered'])}", f"{fig.capacity_clauses['recycling_plant']}; {tclause}",
        status="仅靠新厂不足 short without the implied capacity" if cap_rec < cn["recovered"] else "能力有余 surplus",
        flag=cap_rec < cn["recovered"], note="分选场(35万吨/年)为分选，不计为资源化 (sorting is not counted as recovery)")
    rho = params.density_t_per_m3
    add("tgt_comprehensive_if_landfilled", "targets", "渣土泥浆全部填埋时的综合利用率", "Comprehensive rate if all spoil/slurry is landfilled",
        100 * cn["rate_if_all_landfilled"], "%", f"{format_plan_number(cn['recovered'])} ÷ ({format_plan_number(solid)} + {format_plan_number(cn['ss'])} × {format_plan_number(rho)}) × 100",
        f"{tclause}; 第八条（四）", status="达不到73% target not met", flag=True,
        note=f"密度 {format_plan_number(rho)} 吨/立方米（参数，非规划值）；与密度无关：只要渣土泥浆全部填埋，综合利用率 < 70% < 73% "
        "(whatever the density, it stays below 70 %)")
    add("tgt_ss_use_needed", "targets", "达到73%需回填/利用的渣土泥浆量", "Spoil/slurry to backfill or use for 73 %", cn["need_ss_wm3"], "万立方米/年",
        f"({format_plan_number(cn['r73'])} × ({format_plan_number(solid)} + {format_plan_number(cn['ss'])} × {format_plan_number(rho)}) − {format_plan_number(cn['recovered'])}) ÷ {format_plan_number(rho)}",
        f"{tclause}; 第七条", status="推算 inferred (density parameter)", flag=True,
        note=f"= {100 * cn['need_ss_share']:.1f}% 的渣土泥浆；密度 {params.density_range[0]}–{params.density_range[1]} 吨/立方米时为 "
        + "–".join(format_plan_number(_comprehensive_needs(fig, d)["need_ss_wm3"], 2) for d in params.density_range) + " 万立方米/年")
    add("tgt_ss_landfilled_at_73", "targets", "达到73%时进入填埋场的渣土泥浆量", "Spoil/slurry landfilled at 73 %", cn["landfilled_ss_wm3"], "万立方米/年",
        f"{format_plan_number(cn['ss'])} − {format_plan_number(cn['need_ss_wm3'])}", f"{tclause}; 第七条", status="推算 inferred (density parameter)",
        note="与第八条（四）的173.54万立方米/年填埋量矛盾 (inconsistent with 第八条（四）)")
    if cn["landfilled_ss_wm3"] > 0:
        for name, total, _ in scenarios:
            add(f"tgt_years_at_73_{format_plan_number(total)}", "targets", f"达到73%时两座填埋场填满年限（{name}）", f"Years until full at 73 % ({name})",
                total / cn["landfilled_ss_wm3"], "年", f"{format_plan_number(total)} ÷ {format_plan_number(cn['landfilled_ss_wm3'])}", f"{tclause}; 第十九条、第二十七条（二）",
                status="推算 inferred (density parameter)")
    return pd.DataFrame(rows)


_STREAM_ZH = {s.id: s.name_zh for s in STREAMS} | {"targets": "规划指标 附表1"}


def fill_scenarios(fig: PlanFigures) -> list[tuple[str, float, list[float]]]:
    """Total fill of the two landfills under each combination of the plan's values."""
    landfills = [fid for fid in _STREAM_BY_ID["spoil_slurry"].facilities if fid in fig.fill]
    combos: list[list[float]] = [[]]
    for fid in landfills:
        combos = [c + [v] for c in combos for v in fig.fill_values(fid)]
    out = []
    for parts in combos:
        label = "岩洞湾 " + format_plan_number(parts[landfills.index("landfill_yandongwan")]) if "landfill_yandongwan" in landfills else "plan"
        out.append((label, float(sum(parts)), parts))
    return sorted(out, key=lambda t: t[1])


def landfill_life_table(profile: Profile | None = None, params: WasteParameters | None = None) -> pd.DataFrame:
    """Years until full = fill volume ÷ annual landfilled volume, per landfill and fill value.

    Two absorption scenarios:

    * ``plan`` -- 第八条（四）: 173.54 万立方米/年 × ``landfilled_share`` (1.0 = the plan's arithmetic);
    * ``target73`` -- what reaches the landfills if the 73 % 综合利用率 of 附表1 is met with the 70 %
      资源化利用率 on the other types (uses the stated density; see :func:`balance_table`).

    Returns
    -------
    DataFrame
        Columns ``landfill, fill_wm3, fill_clauses, conflict, scenario, scenario_zh, annual_wm3,
        years_until_full, full_in_year, note``.
    """
    profile = profile or load_profile()
    params = params or load_parameters()
    fig = plan_figures(profile)
    cn = _comprehensive_needs(fig, params.density_t_per_m3)
    absorption = {
        "plan": (fig.processing["proc_spoil_slurry"] * params.landfilled_share,
                 f"第八条（四）需消纳量 × 填埋比例 {format_plan_number(params.landfilled_share)}"),
        "target73": (cn["landfilled_ss_wm3"], f"达到附表1综合利用率73%时的填埋量（密度 {format_plan_number(params.density_t_per_m3)} 吨/立方米，参数）"),
    }
    rows = []
    units: list[tuple[str, float, str, bool]] = []
    for fid in _STREAM_BY_ID["spoil_slurry"].facilities:
        vals = fig.fill.get(fid, [])
        for v, c in vals:
            units.append((fig.names[fid], v, c, len(vals) > 1))
    for name, total, parts in fill_scenarios(fig):
        units.append((f"两座合计（{name}）", total, " + ".join(format_plan_number(p) for p in parts), len(fill_scenarios(fig)) > 1))
    for scen, (annual, label) in absorption.items():
        for landfill, fill, clauses, conflict in units:
            years = fill / annual if annual > 0 else np.inf
            rows.append(
                {
                    "landfill": landfill, "fill_wm3": fill, "fill_clauses": clauses, "conflict": conflict, "scenario": scen,
                    "scenario_zh": label, "annual_wm3": annual, "years_until_full": years,
                    "full_in_year": params.start_year + years if math.isfinite(years) else np.nan,
                    "note": "单座填埋场独自消纳全部渣土泥浆 (one landfill alone takes all)" if "合计" not in landfill else "",
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- generation by 镇街


def _scope_townships(townships: gpd.GeoDataFrame, profile: Profile, params: WasteParameters) -> gpd.GeoDataFrame:
    """The 镇街 the plan covers (第二条: the 13 directly administered)."""
    require_crs(townships, "镇街 layer")
    names = [t.name_zh for t in profile.townships if t.administered_by == params.administered_by]
    if "name_zh" not in townships.columns:
        raise InputDataError("the 镇街 layer has no name_zh column", where="镇街 layer", fix="build it with jlp_geo.layers.admin.build_townships")
    missing = [n for n in names if n not in set(townships["name_zh"])]
    if missing:
        raise InputDataError(f"the 镇街 layer lacks {'、'.join(missing)}", where="镇街 layer", fix="give all 13 directly administered 镇街 (第二条)")
    out = townships[townships["name_zh"].isin(names)].copy()
    out["_order"] = out["name_zh"].map({n: i for i, n in enumerate(names)})
    return out.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def read_generation_file(path: str | Path, scope: Sequence[str]) -> pd.DataFrame:
    """Read per-镇街 generation figures or construction activity from a CSV.

    The file has ``name_zh`` and any of ``spoil``, ``slurry`` (万立方米/年), ``construction``,
    ``demolition``, ``decoration`` (万吨/年) -- the plan's units -- and/or ``activity`` (a construction
    activity measure used as allocation proxy, e.g. 施工面积); optionally ``source``.

    Returns
    -------
    DataFrame
        Indexed by ``name_zh`` with the numeric columns found; ``attrs['source']``.

    Raises
    ------
    InputDataError
        Unknown 镇街, no usable column, or a value that is not a non-negative number (with line numbers).
    """
    path = Path(path)
    where = f"--generation {path}"
    if not path.is_file():
        raise MissingInputError("generation file not found", where=where, fix="check the path")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError(f"cannot read the CSV: {exc}", where=where, fix="save it as UTF-8 CSV") from exc
    df.columns = [c.strip() for c in df.columns]
    if "name_zh" not in df.columns:
        raise InputDataError(f"no name_zh column; the file has {list(df.columns)}", where=where,
                             fix="header: name_zh,spoil,slurry,construction,demolition,decoration[,activity][,source]")
    cols = [c for c in (*TYPES, "activity") if c in df.columns]
    if not cols:
        raise InputDataError(f"none of the columns {[*TYPES, 'activity']} is present", where=where,
                             fix="give figures per type in the plan's units (spoil/slurry 万立方米/年, others 万吨/年) or an activity column")
    df["name_zh"] = df["name_zh"].str.strip()
    unknown = sorted(set(df["name_zh"]) - set(scope))
    if unknown:
        raise InputDataError(f"unknown or out-of-scope 镇街 {unknown}", where=where,
                             fix=f"the plan covers (第二条): {'、'.join(scope)}")
    if df["name_zh"].duplicated().any():
        raise InputDataError(f"镇街 listed twice: {sorted(set(df.loc[df['name_zh'].duplicated(), 'name_zh']))}", where=where)
    out = pd.DataFrame(index=pd.Index(df["name_zh"], name="name_zh"))
    for c in cols:
        num = pd.to_numeric(df[c].str.strip().replace("", np.nan), errors="coerce")
        bad = (num.isna() & (df[c].str.strip() != "")) | (num < 0)
        if bad.any():
            lines = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())][:10]
            raise InputDataError(f"column {c}: not a non-negative number on line(s) {lines}", where=where)
        out[c] = num.to_numpy()
    out = out.dropna(axis=1, how="all")
    out.attrs["source"] = "; ".join(sorted({s for s in df.get("source", pd.Series(dtype=str)) if s})) or f"user file {path.name}"
    return out


@dataclass
class PopulationData:
    """Population input: a raster (cell centres in the analysis CRS, people per cell) or census totals per 镇街.

    Attributes
    ----------
    kind
        ``"raster"`` or ``"census"``.
    source
        File name or census citation.
    xs, ys, values, cell_km2
        Raster cell centres, people per cell and the cell area (raster only).
    totals
        ``{name_zh: residents}`` (census only).
    """

    kind: str  # 'raster' | 'census'
    source: str
    xs: np.ndarray | None = None
    ys: np.ndarray | None = None
    values: np.ndarray | None = None
    cell_km2: float = float("nan")
    totals: dict[str, float] | None = None

    @property
    def label(self) -> str:
        """What the population is, for tables and maps."""
        return {"raster": "人口栅格 population raster", "census": "镇街人口（按镇街平均密度估算）census per 镇街, spread at 镇街 average density"}[self.kind] + f" ({self.source})"


def read_population(path: str | Path, crs: str) -> PopulationData:
    """Read a population GeoTIFF (people per cell, any CRS) or a census CSV (``name_zh,population[,source]``).

    Parameters
    ----------
    path
        ``.tif`` / ``.tiff`` raster or ``.csv``.
    crs
        Metric analysis CRS the raster cell centres are projected to.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        If the raster has no CRS or cannot be read, or the CSV lacks its columns.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from ..sources.census import read_census

        totals, source = read_census(path)
        return PopulationData("census", source, totals=totals)
    if not path.is_file():
        raise MissingInputError("population file not found", where=f"--population {path}", fix="give a GeoTIFF or a CSV (name_zh,population)")
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover
        raise MissingInputError("rasterio is needed to read population rasters", fix="pip install rasterio") from exc
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputDataError("the population raster has no CRS", where=f"--population {path}", fix="use the GeoTIFF as published")
            data = src.read(1, masked=True).astype("float64")
            rows, cols = np.nonzero(~np.ma.getmaskarray(data) & (data.filled(0) > 0))
            values = np.asarray(data[rows, cols].filled(0), dtype=float)
            xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
            corners = list(zip(*rasterio.transform.xy(src.transform, [0, 0, 1], [0, 1, 0], offset="ul")))
            raster_crs = src.crs.to_string()
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(f"cannot read the population raster: {exc}", where=f"--population {path}") from exc
    from ..crs import transform_xy

    x, y = transform_xy(np.asarray(xs, float), np.asarray(ys, float), raster_crs, crs)
    cx, cy = transform_xy(np.array([c[0] for c in corners]), np.array([c[1] for c in corners]), raster_crs, crs)
    cell_km2 = abs((cx[1] - cx[0]) * (cy[2] - cy[0]) - (cy[1] - cy[0]) * (cx[2] - cx[0])) / 1e6
    return PopulationData("raster", path.name, xs=x, ys=y, values=values, cell_km2=cell_km2)


def _people_in(pop: PopulationData, geom_a: shapely.Geometry, towns_a: gpd.GeoDataFrame | None = None) -> float:
    """People inside a polygon (analysis CRS): raster cell centres, or census totals × area share."""
    if pop.kind == "raster":
        inside = shapely.contains_xy(geom_a, pop.xs, pop.ys)
        return float(pop.values[inside].sum())
    if towns_a is None:
        return float("nan")
    total = 0.0
    for name, g in zip(towns_a["name_zh"], towns_a.geometry):
        if name in (pop.totals or {}) and g is not None and g.area > 0:
            total += pop.totals[name] * g.intersection(geom_a).area / g.area
    return total


def allocate_generation(
    townships: gpd.GeoDataFrame,
    figures: PlanFigures,
    weights: Mapping[str, float],
    proxy_label: str,
    *,
    user: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Generation per 镇街: the user's figures per type when given, else the plan total × weight share.

    Parameters
    ----------
    townships
        The 镇街 in scope (``name_zh`` + polygons).
    figures
        The plan's totals (第七条).
    weights
        ``{name_zh: proxy weight}`` (area, population or activity); shares are weight / Σ weights.
    proxy_label
        What the weights are (written into every row).
    user
        Output of :func:`read_generation_file`; its type columns replace the allocation for those types
        (镇街 it does not list get 0).

    Returns
    -------
    GeoDataFrame
        One row per 镇街 with ``proxy``, ``proxy_weight``, ``share``, one column per type of :data:`TYPES`
        (plan units), ``spoil_slurry``, ``construction_demolition``, ``generation_basis`` and the
        provenance columns.  Allocated columns sum exactly to the plan totals.
    """
    names = list(townships["name_zh"])
    w = np.array([float(weights.get(n, 0.0)) for n in names])
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise InputDataError(f"allocation weights must be non-negative with a positive sum ({proxy_label})", where="generation proxy")
    share = w / w.sum()
    out = townships.copy()
    out["proxy"] = proxy_label
    out["proxy_weight"] = w
    out["share"] = share
    user_types = [t for t in TYPES if user is not None and t in user.columns]
    for t in TYPES:
        if t in user_types:
            out[t] = [float(user[t].get(n, 0.0)) if pd.notna(user[t].get(n, np.nan)) else 0.0 for n in names]
        else:
            out[t] = figures.generation[t] * share
    out["spoil_slurry"] = out["spoil"] + out["slurry"]
    out["construction_demolition"] = out["construction"] + out["demolition"]
    allocated = [t for t in TYPES if t not in user_types]
    parts = []
    if user_types:
        parts.append(f"用户数据 user figures ({user.attrs.get('source', 'user file')}): {', '.join(TYPES[t]['zh'] for t in user_types)}")
    if allocated:
        parts.append(f"规划总量按{proxy_label}分摊 plan totals (第七条) allocated by {proxy_label}: {', '.join(TYPES[t]['zh'] for t in allocated)}")
    out["generation_basis"] = "; ".join(parts)
    out.attrs["user_types"] = user_types
    return out


# --------------------------------------------------------------------------- haul costs


@dataclass
class HaulCosts:
    """Haul distances from origins to facilities.

    Attributes
    ----------
    km
        ``(n_origins, n_facilities)`` haul distance in km (``inf`` where no route).
    method
        Same shape, object: ``"network"`` or ``"straight line × f"`` (with the reason for a fallback).
    routes
        ``routes[i][j]``: the route (analysis CRS) as a LineString.
    origin_snap_m, facility_snap_m
        Snap distances to the drive network (NaN without network).
    """

    km: np.ndarray
    method: np.ndarray
    routes: list[list[LineString | None]]
    origin_snap_m: np.ndarray
    facility_snap_m: np.ndarray


def straight_line_label(detour: float) -> str:
    """Label of the straight-line fallback, for tables, map and report."""
    return f"直线距离×{format_plan_number(detour)}（估算，无路网）straight line × {format_plan_number(detour)} (estimate, no road network)"


def straight_line_costs(ox: np.ndarray, oy: np.ndarray, fx: np.ndarray, fy: np.ndarray, detour: float) -> HaulCosts:
    """Straight-line distance × *detour* between origins and facilities (metric coordinates).

    Returns
    -------
    HaulCosts
        ``km = hypot(dx, dy) / 1000 × detour``; routes are the straight segments.
    """
    ox, oy, fx, fy = (np.asarray(a, dtype=float) for a in (ox, oy, fx, fy))
    d = np.hypot(ox[:, None] - fx[None, :], oy[:, None] - fy[None, :]) / 1000.0 * detour
    label = straight_line_label(detour)
    method = np.full(d.shape, label, dtype=object)
    routes = [[LineString([(ox[i], oy[i]), (fx[j], fy[j])]) for j in range(fx.size)] for i in range(ox.size)]
    return HaulCosts(d, method, routes, np.full(ox.size, np.nan), np.full(fx.size, np.nan))


def network_costs(
    network: Any,
    ox: np.ndarray,
    oy: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    *,
    detour: float,
    snap_max_m: float,
) -> HaulCosts:
    """Shortest drive-network distances from every origin to every facility.

    Origins and facilities are snapped to the nearest node of the network's largest connected part;
    the snap legs are added as straight lines.  One Dijkstra per facility on the reversed graph
    (origin → facility along one-way streets).  A pair whose end lies more than *snap_max_m* from the
    network, or that has no route, falls back to straight line × *detour* and says so in ``method``.

    Parameters
    ----------
    network
        A :class:`jlp_geo.network.WalkNetwork`-shaped drive network (:func:`jlp_geo.network.drive_network_from_osm`).
    ox, oy, fx, fy
        Origin and facility coordinates in ``network.crs``.
    detour, snap_max_m
        Fallback factor and largest snap distance.
    """
    from scipy.sparse.csgraph import dijkstra

    from .coverage import build_csr, snap_points

    ox, oy, fx, fy = (np.asarray(a, dtype=float) for a in (ox, oy, fx, fy))
    fallback = straight_line_costs(ox, oy, fx, fy, detour)
    biggest = int(network.component_size.max()) if network.n_nodes else 1
    so = snap_points(network, ox, oy, snap_max_m, min_component_size=biggest)
    sf = snap_points(network, fx, fy, snap_max_m, min_component_size=biggest)
    km = fallback.km.copy()
    method = fallback.method.copy()
    routes = [row[:] for row in fallback.routes]
    g = build_csr(network.u, network.v, network.length_m, network.n_nodes, reverse=True)
    label_off = straight_line_label(detour) + "；离路网过远 off the network"
    label_none = straight_line_label(detour) + "；路网不连通 no route"
    for j in range(fx.size):
        fnode = int(sf["node"].iloc[j])
        if fnode < 0:
            method[:, j] = label_off
            continue
        dist, pred = dijkstra(g, directed=True, indices=fnode, return_predecessors=True)
        for i in range(ox.size):
            onode = int(so["node"].iloc[i])
            if onode < 0:
                method[i, j] = label_off
                continue
            if not np.isfinite(dist[onode]):
                method[i, j] = label_none
                continue
            km[i, j] = (dist[onode] + so["dist_m"].iloc[i] + sf["dist_m"].iloc[j]) / 1000.0
            method[i, j] = "network"
            path = [onode]
            while path[-1] != fnode:
                path.append(int(pred[path[-1]]))
            coords = [(ox[i], oy[i])] + [(network.x[n], network.y[n]) for n in path] + [(fx[j], fy[j])]
            routes[i][j] = LineString(coords)
    return HaulCosts(km, method, routes, so["dist_m"].to_numpy(float), sf["dist_m"].to_numpy(float))


# --------------------------------------------------------------------------- transportation problem


@dataclass
class TransportSolution:
    """Optimal allocation of supplies to capacities.

    Attributes
    ----------
    flow
        ``(n, m)`` quantity from origin *i* to facility *j*.
    unserved
        ``(n,)`` supply no facility could take (capacity exhausted or no route).
    cost
        Σ flow × cost (the penalty of unserved supply is not included).
    status
        Solver message.
    """

    flow: np.ndarray
    unserved: np.ndarray
    cost: float
    status: str


def solve_transport(supply: np.ndarray, capacity: np.ndarray, cost: np.ndarray) -> TransportSolution:
    """Minimum-cost allocation of *supply* to facilities with *capacity* (a transportation problem).

    minimise Σ c_ij x_ij + M Σ u_i  subject to  Σ_j x_ij + u_i = s_i,  Σ_i x_ij ≤ K_j,  x, u ≥ 0,

    solved with ``scipy.optimize.linprog`` (HiGHS).  ``u_i`` is supply left unserved; its penalty
    ``M`` exceeds the cost of any exchange of allocations, so as much as possible is served first and
    the cost is minimised among those allocations.  Pairs with infinite cost are not allowed.

    Parameters
    ----------
    supply
        ``(n,)`` non-negative quantities per origin.
    capacity
        ``(m,)`` non-negative capacities (same unit as *supply*).
    cost
        ``(n, m)`` cost per unit (e.g. km); ``inf`` = no route.

    Returns
    -------
    TransportSolution

    Raises
    ------
    ValueError
        On shape mismatches or negative / NaN inputs.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    s = np.asarray(supply, dtype=float)
    k = np.asarray(capacity, dtype=float)
    c = np.asarray(cost, dtype=float)
    n, m = s.size, k.size
    if c.shape != (n, m):
        raise ValueError(f"cost must have shape ({n}, {m}), got {c.shape}")
    if np.isnan(s).any() or np.isnan(k).any() or np.isnan(c).any() or (s < 0).any() or (k < 0).any() or (c < 0).any():
        raise ValueError("supply, capacity and cost must be non-negative numbers (inf allowed in cost)")
    ii, jj = np.nonzero(np.isfinite(c))
    nv = ii.size
    finite = c[ii, jj]
    penalty = (n + m + 1) * (float(finite.max()) if nv else 1.0) + 1.0
    obj = np.concatenate([finite, np.full(n, penalty)])
    # equality: each origin's flows + unserved = supply
    rows = np.concatenate([ii, np.arange(n)])
    cols = np.concatenate([np.arange(nv), nv + np.arange(n)])
    a_eq = coo_array((np.ones(rows.size), (rows, cols)), shape=(n, nv + n)).tocsr()
    a_ub = coo_array((np.ones(nv), (jj, np.arange(nv))), shape=(m, nv + n)).tocsr()
    res = linprog(obj, A_ub=a_ub, b_ub=k, A_eq=a_eq, b_eq=s, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - the problem is always feasible (u absorbs everything)
        raise RuntimeError(f"transportation problem not solved: {res.message}")
    x = np.clip(res.x, 0.0, None)
    flow = np.zeros((n, m))
    flow[ii, jj] = x[:nv]
    unserved = x[nv:]
    return TransportSolution(flow, unserved, float((flow[ii, jj] * finite).sum()), str(res.message))


# --------------------------------------------------------------------------- receptors and screens


def _receptors_from_osm(osm: Any, params: WasteParameters, crs: str) -> gpd.GeoDataFrame:
    """Sensitive receptors (schools, hospitals, care homes, residential land) from OSM, in *crs*."""
    from ..layers.services import services_from_osm

    rec = services_from_osm(osm, categories=list(params.receptors), crs=crs)
    rec = rec.rename(columns={"category": "receptor", "category_zh": "receptor_zh"})
    return rec


def siting_screens(
    facilities: gpd.GeoDataFrame,
    buffers_m: Sequence[float],
    *,
    receptors: gpd.GeoDataFrame | None = None,
    receptor_names: Mapping[str, str] | None = None,
    population: PopulationData | None = None,
    townships: gpd.GeoDataFrame | None = None,
    crs: str | None = None,
) -> pd.DataFrame:
    """邻避 screens (第四条（五）): people and sensitive receptors near each located facility.

    Parameters
    ----------
    facilities
        Located facilities (any CRS) with ``facility_id``, ``name_zh``, ``uncertainty_m``.
    buffers_m
        Screening distances.
    receptors
        Receptor features (``receptor`` category column) from :func:`_receptors_from_osm`, or None.
    receptor_names
        ``{receptor id: Chinese label}`` (also the categories reported when *receptors* is None).
    population
        Raster or census population; None = not assessed.
    townships
        镇街 polygons (for census totals).
    crs
        Metric CRS (default: settings' analysis CRS).

    Returns
    -------
    DataFrame
        One row per facility × buffer: ``facility_id, name_zh, buffer_m, possible_radius_m`` (buffer +
        position uncertainty), ``population`` / ``population_possible`` and ``population_method``; per
        receptor category ``n_<id>``, ``n_<id>_possible``, ``nearest_m_<id>`` and ``names_<id>`` (up to
        10, untrusted OSM text), ``area_ha_residential`` for residential land; ``note``.
    """
    crs = crs or get_settings().analysis_crs
    fac = to_analysis(facilities, crs)
    towns = to_analysis(townships, crs) if townships is not None else None
    rec = to_analysis(receptors, crs) if receptors is not None and len(receptors) else receptors
    rnames = dict(receptor_names or {})
    rows = []
    for _, f in fac.iterrows():
        unc = float(f.get("uncertainty_m")) if pd.notna(f.get("uncertainty_m")) else 0.0
        for b in buffers_m:
            circle = f.geometry.buffer(b, 64)
            wide = f.geometry.buffer(b + unc, 64)
            row: dict[str, Any] = {
                "facility_id": f["facility_id"], "name_zh": f["name_zh"], "buffer_m": float(b), "possible_radius_m": float(b + unc),
            }
            if population is None:
                row.update(population=np.nan, population_possible=np.nan, population_method="未评估：没有人口数据 not assessed (no population data)")
            else:
                if population.kind == "raster":  # exact circles: cell centres closer than the radius
                    d = np.hypot(population.xs - f.geometry.x, population.ys - f.geometry.y)
                    people, possible = float(population.values[d < b].sum()), float(population.values[d < b + unc].sum())
                else:
                    people, possible = _people_in(population, circle, towns), _people_in(population, wide, towns)
                row.update(population=people, population_possible=possible, population_method=population.label)
            notes = []
            for rid in rnames:
                if rec is None:
                    row.update({f"n_{rid}": np.nan, f"n_{rid}_possible": np.nan, f"nearest_m_{rid}": np.nan, f"names_{rid}": ""})
                    continue
                sub = rec[rec["receptor"] == rid]
                geoms = sub.geometry.values
                d = shapely.distance(f.geometry, geoms) if len(sub) else np.array([])
                within = d <= b
                row[f"n_{rid}"] = int(within.sum())
                row[f"n_{rid}_possible"] = int((d <= b + unc).sum())
                row[f"nearest_m_{rid}"] = float(d.min()) if d.size else np.nan
                names = [str(x) for x in sub.loc[within, "name_zh"] if str(x)]
                row[f"names_{rid}"] = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
                if rid == "residential":
                    row["area_ha_residential"] = float(shapely.area(shapely.intersection(geoms[within], circle)).sum() / 1e4) if within.any() else 0.0
            if rec is None:
                notes.append("敏感目标未评估：没有OSM数据 receptors not assessed (no OSM data)")
            if unc > 0:
                notes.append(f"设施位置为估计点（±{unc:.0f} 米）：'possible' 列按 {b:.0f}+{unc:.0f} 米计 — indicative screen, not a site survey")
            row["note"] = "；".join(notes)
            rows.append(row)
    return pd.DataFrame(rows)


def _route_residential(route: LineString | None, residential: shapely.Geometry | None) -> float:
    if route is None or residential is None or residential.is_empty:
        return float("nan")
    return float(route.intersection(residential).length)


def _route_dense_share(route: LineString | None, pop: PopulationData | None, threshold: float, step_m: float = 50.0) -> float:
    """Share of *route* length through raster cells with density ≥ *threshold* (people/km²)."""
    if route is None or pop is None or pop.kind != "raster" or route.length == 0 or not pop.values.size:
        return float("nan")
    from scipy.spatial import cKDTree

    n = max(int(route.length // step_m), 1)
    pts = shapely.line_interpolate_point(route, (np.arange(n) + 0.5) / n, normalized=True)
    xy = shapely.get_coordinates(pts)
    tree = cKDTree(np.column_stack([pop.xs, pop.ys]))
    dist, idx = tree.query(xy)
    half_diag = math.sqrt(pop.cell_km2 * 1e6 / 2)
    dense = (pop.values[idx] / pop.cell_km2 >= threshold) & (dist <= half_diag)
    return float(dense.mean())


# --------------------------------------------------------------------------- the result


@dataclass
class WasteResult:
    """Everything the waste analysis computed (nothing written yet).

    Attributes
    ----------
    balance, landfill_life
        :func:`balance_table`, :func:`landfill_life_table`.
    generation
        镇街 in scope with generation per type (:func:`allocate_generation`), EPSG:4490.
    facilities
        All plan facilities with ``located``, ``stream`` and the capacity used; EPSG:4490.
    haul
        Every origin × located facility per stream: ``haul_km``, ``haul_pm_km``, ``method``, ``nearest``, ``robust``.
    flows
        The optimal allocation as lines (EPSG:4490): quantity, cost, ton-km, route through residential land.
    catchments
        Nearest-facility service areas per stream (unions of 镇街), EPSG:4490.
    facility_load
        Per facility and stream: capacity, allocated intake, utilisation, cost, ton-km, haul distances.
    siting
        :func:`siting_screens`.
    buffers
        Screening circles (EPSG:4490).
    receptors
        Sensitive receptors from OSM within the widest screen (EPSG:4490) or None.
    sites
        User construction sites with their catchment facility, or None.
    method
        ``haul`` (``network``/``straight_line``), ``haul_label``, ``proxy_label``, ``population``, ``osm``.
    notes
        Provenance and caveats, Chinese first.
    params, figures
        The parameters and plan figures used.
    """

    balance: pd.DataFrame
    landfill_life: pd.DataFrame
    generation: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    haul: pd.DataFrame
    flows: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    facility_load: pd.DataFrame
    siting: pd.DataFrame
    buffers: gpd.GeoDataFrame
    receptors: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    method: dict[str, str]
    notes: list[str]
    params: WasteParameters
    figures: PlanFigures

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers of ``waste.gpkg``."""
        out = {
            "waste_facilities": self.facilities,
            "waste_generation": self.generation,
            "waste_catchments": self.catchments,
            "waste_flows": self.flows,
            "waste_buffers": self.buffers,
        }
        if self.receptors is not None:
            out["waste_receptors"] = self.receptors
        if self.sites is not None:
            out["waste_sites"] = self.sites
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables written as ``tables/<name>.csv``."""
        from ..io import table_from_layer

        gen = table_from_layer(self.generation).drop(columns=["has_geometry"], errors="ignore")
        keep = ["name_zh", "name_en", "proxy", "proxy_weight", "share", *TYPES, "spoil_slurry", "construction_demolition", "generation_basis", "source", "precision", "uncertainty_m"]
        return {
            "waste_balance": self.balance,
            "waste_landfill_life": self.landfill_life,
            "waste_generation": gen[[c for c in keep if c in gen.columns]],
            "waste_haul": self.haul,
            "waste_flows": pd.DataFrame(self.flows.drop(columns=self.flows.geometry.name)),
            "waste_facility_load": self.facility_load,
            "waste_siting": self.siting,
        }

    @property
    def rates(self) -> dict[str, float]:
        """Rates the plan's own figures imply, for the indicator report (percent).

        Only the 综合利用率 has a value the plan's figures determine: with all
        spoil and slurry landfilled (第八条（四）) it is the recovered solid waste over
        all waste (density parameter for the m³ part).  The 资源化利用率 cannot be
        computed: the plan states no current recovery, only a gap.
        """
        b = self.balance.set_index("check_id")
        if "tgt_comprehensive_if_landfilled" in b.index:
            return {"综合利用率 comprehensive (第八条（四）: all spoil/slurry landfilled)": float(b.loc["tgt_comprehensive_if_landfilled", "value"])}
        return {}

    def key_findings(self) -> list[str]:
        """The key findings in a few sentences (for the report, the CLI and the build notes)."""
        return _key_findings(self)


def balance_value(balance: pd.DataFrame, check_id: str) -> float:
    hit = balance.loc[balance["check_id"] == check_id, "value"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def _key_findings(r: WasteResult) -> list[str]:
    b = r.balance
    fig = r.figures
    out = []
    scen = fill_scenarios(fig)
    lives = [(name, total, balance_value(b, f"ss_years_total_{format_plan_number(total)}")) for name, total, _ in scen]
    landfilled = balance_value(b, "ss_landfilled")
    life_txt = "，".join(f"{format_plan_number(total)} 万立方米 → {years:.2f} 年" for _, total, years in lives)
    out.append(
        f"填埋场寿命：按第八条（四）每年 {format_plan_number(landfilled)} 万立方米全部进入填埋场，两座填埋场合计只够 {life_txt}"
        f"（{r.params.start_year} 年起算约 {r.params.start_year + lives[0][2]:.1f}–{r.params.start_year + lives[-1][2]:.1f} 年填满）；"
        f"锣鼓洞单独 {balance_value(b, 'ss_years_landfill_luogudong_400'):.2f} 年。"
        f" Landfill life: at the plan's 173.54 万m³/yr both landfills are full after {lives[0][2]:.2f}–{lives[-1][2]:.2f} years."
    )
    if len(lives) > 1:
        out.append(
            f"规划内部矛盾：岩洞湾填方量 312 万方（第十九条、附表4）与 326 万立方米（第二十七条（二））不一致，"
            f"差 14 万立方米，仅相当于 {balance_value(b, 'ss_conflict_effect'):.2f} 年（约 {balance_value(b, 'ss_conflict_effect') * 365:.0f} 天）的消纳量。"
            " Plan conflict 312 vs 326 flagged; it shifts the landfill life by about a month."
        )
    out.append(
        f"装修垃圾：产生 {format_plan_number(fig.generation['decoration'])} 万吨/年，华岩分选场 {format_plan_number(fig.capacity['sorting_huayan'])} 万吨/年，"
        f"余量 {balance_value(b, 'dec_balance'):.1f} 万吨/年（负荷率 {balance_value(b, 'dec_utilisation'):.1f}%）。"
    )
    out.append(
        f"工程垃圾+拆除垃圾 {format_plan_number(balance_value(b, 'cd_generation'))} 万吨/年；综合利用厂 {format_plan_number(fig.capacity['recycling_plant'])} 万吨/年 可覆盖规划所述缺口 "
        f"{format_plan_number(fig.processing['proc_recycling_gap'])} 万吨/年（余 {balance_value(b, 'cd_gap_cover'):.1f}），但不足以处理全部产生量（差 {-balance_value(b, 'cd_vs_generation'):.2f}）。"
        f"70%资源化利用率需 {balance_value(b, 'tgt_recovery_needed'):.2f} 万吨/年资源化，缺口 17.3 隐含约 {balance_value(b, 'tgt_implied_existing'):.1f} 万吨/年现有能力，规划未说明来源。"
    )
    out.append(
        f"目标矛盾：第八条（四）的渣土泥浆全部填埋时综合利用率仅约 {balance_value(b, 'tgt_comprehensive_if_landfilled'):.1f}%（无论密度取值都低于70%），"
        f"达不到附表1的73%；要达到73%，每年约 {balance_value(b, 'tgt_ss_use_needed'):.1f} 万立方米渣土泥浆须回填或利用，"
        f"填埋量降至 {balance_value(b, 'tgt_ss_landfilled_at_73'):.1f} 万立方米/年，填埋场寿命延长到约 "
        + "–".join(f"{balance_value(b, f'tgt_years_at_73_{format_plan_number(total)}'):.1f}" for _, total, _ in scen) + " 年。"
    )
    load = r.facility_load
    placed = load[load["located"].astype(bool)]
    unplaced = load[~load["located"].astype(bool)]
    if len(placed):
        parts = []
        for _, row in placed.iterrows():
            parts.append(f"{row['facility_zh']} {row['mean_haul_km']:.1f} 公里（±{row['haul_pm_km']:.1f}）")
        out.append(
            f"运距（{r.method['haul_label']}）：平均运距 " + "；".join(parts)
            + "。总运量×运距：" + "；".join(
                f"{s.name_zh} {r.flows.loc[r.flows['stream'] == s.id, 'cost'].sum():.0f} {s.cost_unit}"
                for s in STREAMS if (r.flows["stream"] == s.id).any()
            ) + "。"
        )
    if len(unplaced):
        out.append(
            "未定位设施不参加运距分析：" + "、".join(sorted(set(unplaced["facility_zh"])))
            + "（规划仅写“西部片区”或无地址，不编造场址）；工程垃圾、拆除垃圾的运距和服务范围因此无法计算。"
        )
    s = r.siting
    if len(s):
        big = s[s["buffer_m"] == s["buffer_m"].max()]
        if "n_school" in big.columns and big["n_school"].notna().any():
            txt = "；".join(
                f"{row['name_zh']} {int(row['buffer_m'])} 米内 学校 {int(row['n_school'])}、医院 {int(row.get('n_hospital', 0) or 0)}、居住用地 {int(row.get('n_residential', 0) or 0)} 处"
                for _, row in big.iterrows()
            )
            out.append(f"邻避筛查（第四条（五），设施为估计点，仅供筛查）：{txt}。")
        else:
            out.append("邻避筛查：没有OSM数据，敏感目标未评估（第四条（五））；给出 --osm 可计算。")
    return out


# --------------------------------------------------------------------------- end to end


def _origins(generation: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """One origin per 镇街: its centroid if inside, else a point on its surface (analysis CRS)."""
    g = to_analysis(generation, crs).geometry
    cent = g.centroid
    inside = g.contains(cent)
    pts = cent.where(inside, g.representative_point())
    return pts.x.to_numpy(), pts.y.to_numpy()


def _load_osm(osm: Any, polygon: shapely.Geometry | None) -> Any:
    from ..sources.osm import OsmData, clip_osm

    if osm is None:
        return None
    if isinstance(osm, OsmData):
        return clip_osm(osm, polygon) if polygon is not None else osm
    from ..sources.osm import read_osm

    return read_osm(osm, polygon=polygon)


def _read_sites(sites: str | Path | gpd.GeoDataFrame, input_crs: str | None) -> gpd.GeoDataFrame:
    from ..sources.userfile import read_user_layer

    if isinstance(sites, gpd.GeoDataFrame):
        gdf = to_storage(sites)
        where = "sites layer"
    else:
        gdf = read_user_layer(sites, what="--sites", required=("name_zh",), input_crs=input_crs)
        where = f"--sites {sites}"
    cols = [t for t in TYPES if t in gdf.columns]
    if not cols:
        raise InputDataError(f"no quantity column; give any of {list(TYPES)} (plan units: spoil/slurry 万立方米/年, others 万吨/年)", where=where)
    for c in cols:
        num = pd.to_numeric(gdf[c], errors="coerce")
        bad = num.isna() & gdf[c].notna() | (num < 0)
        if bad.any():
            raise InputDataError(f"column {c}: not a non-negative number in feature(s) {[int(i) + 1 for i in np.flatnonzero(bad.to_numpy())][:10]}", where=where)
        gdf[c] = num.fillna(0.0)
    geoms = gdf.geometry
    gdf = gdf.set_geometry(geoms.where(geoms.geom_type == "Point", geoms.representative_point()))
    out = user_layer(gdf, "waste_sites", "indicative")
    out.attrs["types"] = cols
    return out


def analyse_waste(
    profile: Profile | str | Path | None = None,
    *,
    osm: Any = None,
    townships: str | Path | gpd.GeoDataFrame | None = None,
    generation_file: str | Path | None = None,
    sites_file: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    params: WasteParameters | None = None,
    proxy: str | None = None,
    input_crs: str | None = None,
) -> WasteResult:
    """Run the whole construction-waste analysis in memory.

    Parameters
    ----------
    profile
        Study-area profile or its YAML path (default ``layers/jiulongpo.yml``).
    osm
        ``.osm.pbf``/``.osm``/Overpass JSON path or :class:`~jlp_geo.sources.osm.OsmData`; enables the
        drive network and the receptor screens.  Without it: straight line × detour factor, labelled.
    townships
        Official 镇街 file or layer (default: the labelled approximation of :mod:`jlp_geo.layers.admin`).
    generation_file
        CSV of generation per 镇街 (see :func:`read_generation_file`).
    sites_file
        Construction sites (GeoPackage/GeoJSON/Shapefile points, ``name_zh`` + quantity columns per type);
        the types they give are hauled from the sites instead of the 镇街.
    population
        Population GeoTIFF or census CSV (``name_zh,population``).
    facilities
        Facilities layer (default :func:`jlp_geo.layers.waste.build_waste_facilities`); needs ``facility_id``.
    params
        Stated parameters (default :func:`load_parameters`).
    proxy
        Override of ``params.proxy``.
    input_crs
        ``gcj02``/``bd09`` for user files in Chinese web-map coordinates.

    Returns
    -------
    WasteResult
    """
    from ..layers import admin
    from ..layers.waste import build_waste_facilities
    from ..sources.userfile import read_user_layer

    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    params = params or load_parameters()
    crs = profile.analysis_crs
    fig = plan_figures(profile)
    notes: list[str] = []

    # ---- read every input first
    district = None
    if isinstance(townships, gpd.GeoDataFrame):
        towns_all = townships
    else:
        official = read_user_layer(townships, what="--townships", required=(), input_crs=input_crs) if townships is not None else None
        district = admin.build_district(profile)
        towns_all = admin.build_townships(profile, district, official=official)
    scope = _scope_townships(towns_all, profile, params)
    scope_names = list(scope["name_zh"])
    user_gen = read_generation_file(generation_file, scope_names) if generation_file is not None else None
    sites = _read_sites(sites_file, input_crs) if sites_file is not None else None
    pop = read_population(population, crs) if population is not None else None
    polygon = to_storage(scope).geometry.union_all().buffer(0.05) if osm is not None else None  # ~5 km margin for routes
    data = _load_osm(osm, polygon)
    fac = facilities if facilities is not None else build_waste_facilities(profile)
    if "facility_id" not in fac.columns:
        raise InputDataError("the facilities layer has no facility_id column", where="waste facilities",
                             fix="use the ids of layers/waste_plan_facilities.csv (sorting_huayan, landfill_yandongwan, ...)")
    fac = to_storage(fac).reset_index(drop=True)

    # ---- generation by 镇街
    chosen, weights, proxy_label = _proxy_weights(proxy or params.proxy, params, profile, scope, crs, user_gen, pop, notes)
    generation = allocate_generation(scope, fig, weights, proxy_label, user=user_gen)
    if user_gen is not None:
        for t in generation.attrs["user_types"]:
            diff = float(generation[t].sum()) - fig.generation[t]
            notes.append(f"用户{TYPES[t]['zh']}合计 {generation[t].sum():.2f} vs 规划 {fig.generation[t]} {TYPES[t]['unit']}（差 {diff:+.2f}）")
    if any(t not in generation.attrs["user_types"] for t in TYPES):
        notes.append(
            f"镇街产生量为估算：第三章只给全区总量，按{proxy_label}分摊到第二条的13个直管镇街 — generation per 镇街 is the plan total "
            f"allocated by {proxy_label}, an estimate, not data."
        )
    if bool(scope.get("is_schematic", pd.Series(False)).any()):
        notes.append("镇街边界为示意（非官方）；运距起点为镇街形心 — 镇街 boundaries are schematic; haul origins are 镇街 centroids.")

    # ---- network
    network = None
    if data is not None:
        from ..network import drive_network_from_osm

        try:
            network = drive_network_from_osm(data.nodes, data.ways, crs, source=data.provenance)
        except InputDataError as exc:
            notes.append(f"OSM 数据中没有可用的车行道路：运距改用直线估算 — no drivable road in the OSM data ({exc.what}); straight-line fallback used.")
    haul_label = (
        f"OSM车行路网最短距离 shortest distance on the OSM drive network ({data.provenance})" if network is not None
        else straight_line_label(params.detour_factor)
    )
    if network is None:
        notes.insert(0, f"运距为估算：没有OSM路网数据，采用{straight_line_label(params.detour_factor)}（参数 detour.factor，{params.detour_note}）")

    # ---- facilities: which are located
    fac_a = to_analysis(fac, crs)
    fac = fac.assign(located=np.asarray(~(fac_a.geometry.isna() | fac_a.geometry.is_empty), dtype=bool))
    stream_of = {fid: s.id for s in STREAMS for fid in s.facilities}
    fac["stream"] = fac["facility_id"].map(stream_of).fillna("")
    for _, f in fac[~fac["located"]].iterrows():
        notes.append(f"未定位 not located: {f['name_zh']} — 规划未给出可定位的场址，不参加运距分析 (excluded from haul; no site invented)")
    receptors = residential = None
    if data is not None:
        receptors = _receptors_from_osm(data, params, crs)
        res = receptors[receptors["receptor"] == "residential"]
        residential = shapely.union_all(res.geometry.values) if len(res) else None
        if len(receptors) == 0:
            notes.append("OSM 数据中没有学校、医院、养老机构或居住用地 — no receptor found in the OSM data")

    # ---- haul, catchments and allocation per stream
    ctx = _HaulContext(fig=fig, params=params, crs=crs, fac=fac, fac_a=fac_a, generation=generation, sites=sites,
                       network=network, haul_label=haul_label, residential=residential, pop=pop)
    for stream in STREAMS:
        _haul_stream(stream, ctx)
    notes.extend(ctx.notes)

    # ---- assemble
    placed_fac = fac[fac["located"]]
    siting = siting_screens(placed_fac, params.buffers_m, receptors=receptors, receptor_names={c.id: c.name_zh for c in params.receptors},
                            population=pop, townships=scope if pop is not None and pop.kind == "census" else None, crs=crs)
    site_layer = None
    if sites is not None:
        site_layer = sites.copy()
        for st in STREAMS:
            site_layer[f"catchment_{st.id}"] = [ctx.site_assign.get(i, {}).get(st.id, "") for i in range(len(site_layer))]
        site_layer = finish_layer(site_layer, layer="waste_sites")
    method = {
        "haul": "network" if network is not None else "straight_line", "haul_label": haul_label, "proxy": chosen, "proxy_label": proxy_label,
        "population": pop.label if pop is not None else "未提供人口数据 no population data",
        "osm": data.provenance if data is not None else "未提供OSM数据 no OSM data",
    }
    if len(fig.fill_values("landfill_yandongwan")) > 1:
        notes.append("规划内部矛盾 Plan conflict — 岩洞湾填方量 312 万方（第十九条、附表4）vs 326 万立方米（第二十七条（二））：两值分别计算 both kept and computed.")
        if "landfill_yandongwan" in set(placed_fac["facility_id"]):
            notes.append(f"运量分配采用岩洞湾填方量 {format_plan_number(params.yandongwan_fill_for_allocation)} 万立方米（参数；寿命表两值并列）")
    notes.append(
        "设施位置为镇级估计点（±3–4 公里），运距、服务范围和邻避筛查均为示意；规划第二十七条的场址为“暂定”。"
        " Facility points are town-level estimates (±3–4 km): haul figures, catchments and screens are indicative."
    )
    return WasteResult(
        balance=balance_table(profile, params), landfill_life=landfill_life_table(profile, params),
        generation=finish_layer(generation, layer="waste_generation"), facilities=finish_layer(fac, layer="waste_facilities"),
        haul=pd.DataFrame(ctx.haul_rows), flows=_layer(ctx.flow_rows, ctx.flow_geoms, crs, "waste_flows"),
        catchments=_layer(ctx.catch_rows, ctx.catch_geoms, generation.crs, "waste_catchments"),
        facility_load=pd.DataFrame(ctx.load_rows), siting=siting, buffers=_buffer_layer(placed_fac, params, crs),
        receptors=_receptor_layer(receptors, placed_fac, params, crs), sites=site_layer, method=method, notes=notes,
        params=params, figures=fig,
    )


def _layer(rows: list[dict[str, Any]], geoms: list[Any], crs: Any, name: str) -> gpd.GeoDataFrame:
    """A provenance layer from rows, also when there are none."""
    if rows:
        return finish_layer(rows, geometry=geoms, crs=crs, layer=name)
    return finish_layer(pd.DataFrame(columns=["name_zh", "name_en", "source", "precision", "uncertainty_m", "stream", "facility_id"]),
                        geometry=[], crs=crs, layer=name)


def _proxy_weights(
    chosen: str, params: WasteParameters, profile: Profile, scope: gpd.GeoDataFrame, crs: str,
    user_gen: pd.DataFrame | None, pop: PopulationData | None, notes: list[str],
) -> tuple[str, dict[str, float], str]:
    """Resolve the allocation proxy: ``(proxy, {name_zh: weight}, label)``."""
    names = list(scope["name_zh"])
    if chosen not in _PROXIES:
        raise InputDataError(f"unknown proxy {chosen!r}", where="proxy", fix=f"use one of {list(_PROXIES)}")
    if chosen == "auto":
        if user_gen is not None and "activity" in user_gen.columns:
            chosen = "activity"
        elif pop is not None:
            chosen = "population"
        else:
            chosen = params.proxy_fallback
    if chosen == "activity":
        if user_gen is None or "activity" not in user_gen.columns:
            raise InputDataError("proxy 'activity' needs a generation file with an activity column", where="--generation")
        return chosen, {n: float(user_gen["activity"].get(n, 0.0)) for n in names}, f"施工活动 construction activity ({user_gen.attrs.get('source')})"
    if chosen == "population":
        if pop is None:
            raise InputDataError("proxy 'population' needs population data", where="--population", fix="give a GeoTIFF or a census CSV")
        if pop.kind == "census":
            missing = [n for n in names if n not in pop.totals]
            if missing:
                notes.append(f"人口数据缺少 {'、'.join(missing)}：按0分摊 (no population given: allocated nothing)")
            weights = {n: float(pop.totals.get(n, 0.0)) for n in names}
        else:
            weights = {n: _people_in(pop, g) for n, g in zip(names, to_analysis(scope, crs).geometry)}
        return chosen, weights, f"人口 population ({pop.label})"
    area = {t.name_zh: t.area_km2 for t in profile.townships}
    return chosen, {n: area[n] for n in names}, "镇街官方面积 official 镇街 area"


@dataclass
class _HaulContext:
    """Inputs shared by the streams and the rows they produce."""

    fig: PlanFigures
    params: WasteParameters
    crs: str
    fac: gpd.GeoDataFrame
    fac_a: gpd.GeoDataFrame
    generation: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None
    network: Any
    haul_label: str
    residential: shapely.Geometry | None
    pop: PopulationData | None
    haul_rows: list[dict[str, Any]] = field(default_factory=list)
    flow_rows: list[dict[str, Any]] = field(default_factory=list)
    flow_geoms: list[Any] = field(default_factory=list)
    catch_rows: list[dict[str, Any]] = field(default_factory=list)
    catch_geoms: list[Any] = field(default_factory=list)
    load_rows: list[dict[str, Any]] = field(default_factory=list)
    site_assign: dict[int, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _stream_origins(stream: Stream, ctx: _HaulContext) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, bool]:
    """Origins of a stream: the user's sites when they give one of its types, else the 镇街 centroids."""
    sites = ctx.sites
    if sites is not None and any(t in sites.attrs["types"] for t in stream.types):
        xy = to_analysis(sites, ctx.crs).geometry
        supply = sites[[t for t in stream.types if t in sites.columns]].sum(axis=1).to_numpy(float)
        return (list(sites["name_zh"].astype(str)), xy.x.to_numpy(), xy.y.to_numpy(), supply,
                sites["uncertainty_m"].to_numpy(float), "construction site 工地", True)
    gen = ctx.generation
    ox, oy = _origins(gen, ctx.crs)
    return (list(gen["name_zh"]), ox, oy, gen[list(stream.types)].sum(axis=1).to_numpy(float),
            gen["uncertainty_m"].to_numpy(float), "镇街 centroid 镇街形心", False)


def _stream_capacities(stream: Stream, ids: list[str], placed: list[str], supply: np.ndarray, ctx: _HaulContext) -> tuple[list[float], list[str]]:
    """Capacity per located facility, per year in the stream's unit, and how it was obtained."""
    fig, params = ctx.fig, ctx.params
    if stream.id != "spoil_slurry":
        caps = [fig.capacity.get(fid, np.inf) for fid in placed]
        basis = [f"处理规模 {format_plan_number(fig.capacity[fid])} 万吨/年（{fig.capacity_clauses[fid]}）" if fid in fig.capacity else "规划未给出规模 no capacity stated"
                 for fid in placed]
        return caps, basis

    def fill(fid: str) -> float:
        vals = fig.fill_values(fid)
        return params.yandongwan_fill_for_allocation if (fid == "landfill_yandongwan" and len(vals) > 1) else vals[0]

    total = sum(fill(f) for f in ids if f in fig.fill)
    horizon = params.horizon_years or (total / supply.sum() if supply.sum() > 0 else np.inf)
    how = "参数 horizon" if params.horizon_years else "两座合计寿命 combined life"
    return [fill(f) / horizon for f in placed], [f"填方量 {format_plan_number(fill(f))} 万立方米 ÷ {horizon:.3f} 年（{how}）" for f in placed]


def _haul_stream(stream: Stream, ctx: _HaulContext) -> None:
    """Haul distances, catchments and the optimal allocation of one stream; rows go into *ctx*."""
    fig, params, fac = ctx.fig, ctx.params, ctx.fac
    ids = [fid for fid in stream.facilities if fid in set(fac["facility_id"])]
    placed = [fid for fid in ids if bool(fac.loc[fac["facility_id"] == fid, "located"].iloc[0])]
    for fid in ids:
        if fid in placed:
            continue
        f = fac[fac["facility_id"] == fid].iloc[0]
        ctx.load_rows.append({
            "facility_id": fid, "facility_zh": f["name_zh"], "stream": stream.id, "stream_zh": stream.name_zh, "located": False,
            "capacity": fig.capacity.get(fid, np.nan), "capacity_unit": "万吨/年" if fid in fig.capacity else "",
            "capacity_basis": "未定位，不参加运距分析 not located: excluded from the haul analysis", "intake": np.nan, "utilisation": np.nan,
            "cost": np.nan, "cost_unit": stream.cost_unit, "tonne_km": np.nan, "mean_haul_km": np.nan, "max_haul_km": np.nan,
            "haul_pm_km": np.nan, "n_origins": 0, "method": "", "note": f"{f.get('site_text', '') or '无场址'}",
        })
    if not placed:
        ctx.notes.append(f"{stream.name_zh}：接收设施均未定位，运距、服务范围和分配无法计算 — no located facility for {stream.name_en}")
        return
    names, ox, oy, supply, o_unc, kind, use_sites = _stream_origins(stream, ctx)
    if stream.id == "spoil_slurry":
        supply = supply * params.landfilled_share
    caps, cap_basis = _stream_capacities(stream, ids, placed, supply, ctx)
    mask = fac["facility_id"].isin(placed).to_numpy()
    pf = ctx.fac_a[mask].set_index(fac["facility_id"][mask].to_numpy()).loc[placed]
    fx, fy = pf.geometry.x.to_numpy(), pf.geometry.y.to_numpy()
    f_unc = np.nan_to_num(pf["uncertainty_m"].to_numpy(float), nan=0.0)
    if ctx.network is not None:
        hc = network_costs(ctx.network, ox, oy, fx, fy, detour=params.detour_factor, snap_max_m=params.snap_max_m)
    else:
        hc = straight_line_costs(ox, oy, fx, fy, params.detour_factor)
    pm = f_unc[None, :] / 1000.0 * np.where(hc.method == "network", 1.0, params.detour_factor)
    sol = solve_transport(supply, np.asarray(caps, float) * (1 + 1e-9), hc.km)
    nearest = np.argmin(np.where(np.isfinite(hc.km), hc.km, np.inf), axis=1)
    to_t = params.density_t_per_m3 if stream.volume else 1.0
    t_basis = f"×{format_plan_number(params.density_t_per_m3)} 吨/立方米（密度参数 density parameter）" if stream.volume else "规划单位为万吨 (plan unit 万吨)"
    basis = "user sites" if use_sites else ctx.generation["generation_basis"].iloc[0]
    ambiguous: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        order = np.argsort(hc.km[i])
        robust = True
        if len(order) > 1:
            robust = bool(hc.km[i, order[1]] - hc.km[i, order[0]] > pm[i, order[0]] + pm[i, order[1]])
        if not robust:
            ambiguous.setdefault(placed[int(nearest[i])], []).append(name)
        for j, fid in enumerate(placed):
            ctx.haul_rows.append({
                "stream": stream.id, "stream_zh": stream.name_zh, "origin": name, "origin_kind": kind, "facility_id": fid,
                "facility_zh": pf["name_zh"].iloc[j], "haul_km": hc.km[i, j], "haul_pm_km": pm[i, j], "method": hc.method[i, j],
                "nearest": bool(j == nearest[i]), "robust": robust, "quantity": supply[i], "quantity_unit": stream.unit,
                "allocated": float(sol.flow[i, j]), "unserved": float(sol.unserved[i]),
            })
            q = sol.flow[i, j]
            if q <= 1e-9:
                continue
            cost = q * hc.km[i, j]
            route = hc.routes[i][j]
            res_km = _route_residential(route, ctx.residential) / 1000.0
            ctx.flow_rows.append({
                "name_zh": f"{name} → {pf['name_zh'].iloc[j]}", "name_en": f"{stream.name_en} haul",
                "source": f"{fig.document} {stream.clause}; {basis}; {ctx.haul_label if hc.method[i, j] == 'network' else hc.method[i, j]}",
                "precision": "schematic", "uncertainty_m": f_unc[j],
                "stream": stream.id, "stream_zh": stream.name_zh, "origin": name, "origin_kind": kind, "facility_id": fid,
                "facility_zh": pf["name_zh"].iloc[j], "quantity": q, "quantity_unit": stream.unit, "haul_km": hc.km[i, j],
                "haul_pm_km": pm[i, j], "method": hc.method[i, j], "cost": cost, "cost_unit": stream.cost_unit,
                "tonne_km": cost * to_t, "tonne_km_basis": t_basis, "route_km_residential": res_km,
                "route_share_residential": res_km / (route.length / 1000.0) if route.length > 0 and math.isfinite(res_km) else np.nan,
                "route_share_dense": _route_dense_share(route, ctx.pop, params.dense_residential_per_km2),
                "origin_uncertainty_m": o_unc[i],
            })
            ctx.flow_geoms.append(route)
        if use_sites:
            ctx.site_assign.setdefault(i, {})[stream.id] = placed[int(nearest[i])]
    if sol.unserved.sum() > 1e-6:
        ctx.notes.append(f"{stream.name_zh}：能力不足，{sol.unserved.sum():.2f} {stream.unit} 未能分配 (unserved: capacity exhausted or no route)")
    for j, fid in enumerate(placed):
        q = sol.flow[:, j]
        cost = float((q * hc.km[:, j]).sum())
        all_network = bool((hc.method[:, j] == "network").all())
        ctx.load_rows.append({
            "facility_id": fid, "facility_zh": pf["name_zh"].iloc[j], "stream": stream.id, "stream_zh": stream.name_zh, "located": True,
            "capacity": caps[j], "capacity_unit": stream.unit, "capacity_basis": cap_basis[j], "intake": float(q.sum()),
            "utilisation": float(q.sum() / caps[j]) if caps[j] > 0 and math.isfinite(caps[j]) else np.nan,
            "cost": cost, "cost_unit": stream.cost_unit, "tonne_km": cost * to_t,
            "mean_haul_km": cost / q.sum() if q.sum() > 0 else np.nan,
            "max_haul_km": float(hc.km[q > 1e-9, j].max()) if (q > 1e-9).any() else np.nan,
            "haul_pm_km": float(f_unc[j] / 1000.0 * (1.0 if all_network else params.detour_factor)),
            "n_origins": int((q > 1e-9).sum()), "method": ctx.haul_label if all_network else straight_line_label(params.detour_factor),
            "note": f"位置不确定 ±{f_unc[j]:.0f} 米 (indicative point)" if f_unc[j] > 0 else "",
        })
    if use_sites:
        return
    gen = ctx.generation
    for j, fid in enumerate(placed):
        members = [n for i, n in enumerate(names) if nearest[i] == j]
        if not members:
            continue
        amb = ambiguous.get(fid, [])
        ctx.catch_rows.append({
            "name_zh": f"{pf['name_zh'].iloc[j]} 服务范围（{stream.name_zh}）", "name_en": f"Catchment of {fid} ({stream.name_en})",
            "source": f"nearest located facility by haul distance ({ctx.haul_label}); 镇街: {gen['source'].iloc[0]}",
            "precision": "schematic", "uncertainty_m": f_unc[j],
            "stream": stream.id, "stream_zh": stream.name_zh, "facility_id": fid, "facility_zh": pf["name_zh"].iloc[j],
            "members": "、".join(members), "n_origins": len(members),
            "quantity": float(supply[nearest == j].sum()), "quantity_unit": stream.unit,
            "ambiguous": "、".join(amb), "method": ctx.haul_label,
            "note": ("服务范围不稳健（运距差小于设施位置不确定）: " + "、".join(amb)) if amb else "",
        })
        parts = shapely.get_parts(shapely.union_all(gen.loc[gen["name_zh"].isin(members)].geometry.values))
        ctx.catch_geoms.append(shapely.multipolygons([g for g in parts if g.geom_type == "Polygon"]))  # one geometry type per layer


def _buffer_layer(placed: gpd.GeoDataFrame, params: WasteParameters, crs: str) -> gpd.GeoDataFrame:
    """Screening circles around the located facilities."""
    rows, geoms = [], []
    for _, f in to_analysis(placed, crs).iterrows():
        unc = float(f["uncertainty_m"]) if pd.notna(f["uncertainty_m"]) else 0.0
        for b in params.buffers_m:
            rows.append({"name_zh": f"{f['name_zh']} {b:.0f} 米", "name_en": f"{b:.0f} m screen", "source": f"{f['source']}; buffer {b:.0f} m (parameter)",
                         "precision": "indicative", "uncertainty_m": unc, "facility_id": f["facility_id"], "buffer_m": b})
            geoms.append(f.geometry.buffer(b, 64))
    return _layer(rows, geoms, crs, "waste_buffers")


def _receptor_layer(receptors: gpd.GeoDataFrame | None, placed: gpd.GeoDataFrame, params: WasteParameters, crs: str) -> gpd.GeoDataFrame | None:
    """Receptors within the widest screen plus the facilities' position uncertainty (None without OSM)."""
    if receptors is None:
        return None
    pa = to_analysis(placed, crs)
    near = receptors
    if len(pa) and len(receptors):
        unc = float(pa["uncertainty_m"].max()) if pa["uncertainty_m"].notna().any() else 0.0
        zone = shapely.union_all(pa.geometry.buffer(max(params.buffers_m) + unc).values)
        near = receptors[shapely.intersects(receptors.geometry.values, zone)]
    return finish_layer(near.assign(name_en=near["name_en"].fillna("")), layer="waste_receptors")
