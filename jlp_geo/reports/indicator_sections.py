"""What each indicator section of the plan-indicator report shows, as data for its template.

One builder per section of ``report.html`` -- 公园绿化 park service radius, 15分钟生活圈,
the grouped-coverage indicators (健身圈, 一老一小), 轨道 rail length with station catchment,
and 建筑垃圾 construction waste.  Each returns a plain ``dict`` read by the macro of the
same name in ``templates/indicator_sections.html.j2``: texts are plain (the template
escapes them), tables are :class:`~jlp_geo.reports.templating.Table`, charts are
:class:`~jlp_geo.reports.templating.Figure` from :mod:`jlp_geo.reports.charts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.indicators import HEADERS_ZH, LEVEL_CLUSTER, LEVEL_TOWNSHIP, LEVEL_WHOLE, IndicatorResult
from .charts import bar_chart, stacked_bar_chart
from .format import NO_VALUE, format_gap, format_number, format_value, is_number, source_text
from .templating import Cell, Figure, Table

__all__ = [
    "group_section",
    "indicator_rows",
    "intro",
    "life_circle_section",
    "meets_cell",
    "park_section",
    "rail_section",
    "waste_section",
]

Section = dict[str, Any]

#: 健身圈 and 一老一小: (matrix measures, chart measures, chart title) per indicator.
GROUP_MEASURES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]], str]] = {
    "fitness_15min": ([("any:time", "15分钟任一"), ("any:dist", "1000米任一"), ("sports:time", "体育场馆"), ("fitness:time", "健身场地")],
                      [("any:time", "15分钟健身圈 15-min fitness circle")], "15分钟健身圈覆盖率 coverage by unit"),
    "elderly_young": ([("elderly_care:time", "养老 elderly"), ("childcare:time", "托育 childcare"),
                       ("kindergarten:time", "幼儿园 kindergarten"), ("all:time", "三类同时 all three")],
                      [("elderly_care:time", "养老 elderly"), ("childcare:time", "托育 childcare"), ("kindergarten:time", "幼儿园 kindergarten")],
                      "“一老一小”设施5分钟覆盖率 5-minute coverage by unit"),
}


def meets_cell(text: str) -> Cell | str:
    """The "meets the target" cell: 是 in green, 否 in red, ``"—"`` when not judged.

    Parameters
    ----------
    text
        ``meets`` column text (``"是 …"`` / ``"否 …"`` / ``""``).

    Returns
    -------
    Cell or str
        A coloured cell, or ``"—"``.
    """
    if not text:
        return NO_VALUE
    return Cell(text, css="yes" if text.startswith("是") else "no")


def indicator_rows(result: IndicatorResult, ind: str) -> pd.DataFrame:
    """The rows of the indicator table that belong to indicator *ind*.

    Parameters
    ----------
    result
        The indicator result.
    ind
        Indicator id.

    Returns
    -------
    pandas.DataFrame
        A slice of ``result.table``.
    """
    return result.table[result.table["indicator"] == ind]


def _document(result: IndicatorResult, key: str) -> str:
    p = result.profile
    return p.document(key) if key in p.documents else key


def intro(result: IndicatorResult, ind: str) -> Section:
    """Target box (quote, source clause) and method of indicator *ind* (``intro`` macro).

    Parameters
    ----------
    result
        The indicator result.
    ind
        Indicator id.

    Returns
    -------
    dict
        ``target`` (or None), ``no_target_zh/en``, ``method_zh/en``, ``parameters_source``, ``verified``.
    """
    d = result.definitions[ind]
    target = None
    if d.target is not None:
        t = d.target
        target = {"text_zh": t.text_zh, "text_en": t.text_en, "quote": t.quote.strip("“”"), "document": _document(result, t.document),
                  "clause": t.clause, "applies_to": "、".join(t.applies_to) if t.applies_to else ""}
    params = d.parameters
    return {"target": target, "no_target_zh": d.no_target_zh, "no_target_en": d.no_target_en, "method_zh": d.method_zh,
            "method_en": d.method_en, "parameters_source": params.get("source"), "verified": params.get("verified", NO_VALUE)}


def _not_computed(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """``(measures, reason)`` for whole-area measures without a value."""
    nc = rows[rows["value"].isna() & (rows["unit_level"] == LEVEL_WHOLE)]
    reasons: dict[str, list[str]] = {}
    for r in nc.itertuples():
        reasons.setdefault(str(r.note or r.status), []).append(str(r.measure_zh))
    return [("、".join(m), reason) for reason, m in reasons.items()]


def _base(result: IndicatorResult, ind: str, number: int, *, not_computed: bool = True) -> Section:
    d = result.definitions[ind]
    return {"id": ind, "number": number, "name_zh": d.name_zh, "name_en": d.name_en, "intro": intro(result, ind),
            "not_computed": _not_computed(indicator_rows(result, ind)) if not_computed else [], "caveats": list(d.caveats)}


def _unit_matrix(rows: pd.DataFrame, measures: Sequence[tuple[str, str]], unit: str, *, with_population: bool = True) -> Table | None:
    """Units (全域, 组团, 镇街) × measures table of values."""
    present = [(m, label) for m, label in measures if m in set(rows["measure"])]
    if not present:
        return None
    units: list[tuple[str, str]] = []
    for level in (LEVEL_WHOLE, LEVEL_CLUSTER, LEVEL_TOWNSHIP):
        for u in rows.loc[rows["unit_level"] == level, "unit"].drop_duplicates():
            units.append((level, u))
    if len(units) <= 1 and all(rows.loc[rows["measure"] == m, "value"].isna().all() for m, _ in present):
        return None
    head_measure = present[0][0]
    body, classes = [], []
    for level, u in units:
        sel = rows[(rows["unit_level"] == level) & (rows["unit"] == u)].set_index("measure")
        cells: list[object] = [u, level.split(" ")[0]]
        for m, _ in present:
            v = sel["value"].get(m, np.nan) if m in sel.index else np.nan
            cells.append(format_value(v, unit))
        if with_population:
            pop = sel["population"].get(head_measure, np.nan) if head_measure in sel.index else np.nan
            cells.append(format_value(pop, "", 0))
            rank = sel["rank"].get(head_measure, np.nan) if head_measure in sel.index else np.nan
            cells.append(format_value(rank, "", 0))
        body.append(cells)
        classes.append("whole" if level == LEVEL_WHOLE else "")
    headers = [("单元", "unit"), ("层级", "level")] + [(label, "") for _, label in present]
    if with_population:
        headers += [("人口(或节点)", "population"), ("排名", f"rank ({present[0][1]})")]
    n = len(present)
    rest = 100.0 - 17.0 - 8.0 - (20.0 if with_population else 0.0)
    widths = [17.0, 8.0] + [rest / n] * n + ([12.0, 8.0] if with_population else [])
    numeric = list(range(2, 2 + n + (2 if with_population else 0)))
    return Table(headers, body, widths, numeric, classes)


def _unit_chart(rows: pd.DataFrame, measures: Sequence[tuple[str, str]], *, target: float | None, title: str,
                unit: str = "%") -> Figure | None:
    """Bars per 镇街 (or per 组团 when there are no 镇街)."""
    level = LEVEL_TOWNSHIP if (rows["unit_level"] == LEVEL_TOWNSHIP).any() else LEVEL_CLUSTER
    sub = rows[rows["unit_level"] == level]
    present = [(m, label) for m, label in measures if m in set(sub["measure"])]
    if sub.empty or not present or sub["value"].notna().sum() == 0:
        return None
    items = []
    for u in sub["unit"].drop_duplicates():
        s = sub[sub["unit"] == u].set_index("measure")["value"]
        items.append((str(u), [float(s.get(m, np.nan)) for m, _ in present]))
    svg = bar_chart(items, [label for _, label in present], unit=unit, target=target,
                    target_label=f"规划目标 target {format_value(target, unit)}" if target is not None else "", title=title)
    return Figure(svg, f"{title}（{level.split(' ')[0]}）")


def park_section(result: IndicatorResult, number: int) -> Section:
    """公园绿化活动场地服务半径覆盖率: chart and table per unit, tiers (``park`` macro).

    Parameters
    ----------
    result
        The indicator result.
    number
        Section number.

    Returns
    -------
    dict
        Section data.
    """
    ind = "park_service_radius"
    rows = indicator_rows(result, ind)
    d = result.definitions[ind]
    measures = [("network", "路网距离 network"), ("straight_line", "直线距离 straight line"),
                ("straight_line_residential_area", "居住用地面积口径 residential area")]
    s = _base(result, ind, number)
    s["chart"] = _unit_chart(rows, measures[:2], target=d.target.value if d.target else None,
                             title="公园绿化活动场地服务半径覆盖率 coverage by unit")
    s["matrix"] = _unit_matrix(rows, measures, "%")
    tiers = result.extra.get("park_tiers")
    s["tiers"] = None
    if tiers is not None and len(tiers):
        body = [[r.name_zh, r.categories, format_value(r.min_area_m2, "m²"), format_value(r.radius_m, "m"), format_value(r.parks, "", 0),
                 format_value(r.parks_on_network, "", 0), format_value(r.share_network_pct, "%"), format_value(r.share_straight_pct, "%")]
                for r in tiers.itertuples()]
        s["tiers"] = Table([("分档", "tier"), ("OSM类别", "categories"), ("面积门槛", "min area"), ("半径", "radius"), ("公园数", "parks"),
                            ("接入路网", "on network"), ("路网覆盖", "network"), ("直线覆盖", "straight")],
                           body, [20, 16, 11, 9, 9, 11, 12, 12], [2, 3, 4, 5, 6, 7])
    return s


def life_circle_section(result: IndicatorResult, number: int) -> Section:
    """15分钟生活圈: coverage by unit and category, ranking, worst-served places, walk time (``life_circle`` macro).

    Parameters
    ----------
    result
        The indicator result.
    number
        Section number.

    Returns
    -------
    dict
        Section data.
    """
    ind = "life_circle_15min"
    rows = indicator_rows(result, ind)
    d = result.definitions[ind]
    s = _base(result, ind, number)
    services = result.extra.get("services")
    ranking = result.extra.get("ranking")
    s.update(services=False, chart=None, by_category=None, by_unit=None, ranking=None, worst=None, walk=None)
    if services is not None and rows["value"].notna().any():
        s["services"] = True
        basic = services[services["basic"].astype(bool)]
        chart_rows = rows.copy()
        if ranking is not None and len(ranking):
            extra = ranking.rename(columns={"mean_basic_share": "value"}).assign(measure="mean_basic")
            chart_rows = pd.concat([chart_rows, extra[["unit_level", "unit", "measure", "value"]]], ignore_index=True)
        s["chart"] = _unit_chart(chart_rows, [("basic_all:time", "全部基本服务 all basic"), ("mean_basic", "基本服务平均 mean of basic")],
                                 target=d.target.value if d.target else None, title="15分钟生活圈覆盖率 coverage by unit (time rule)")
        whole = rows[rows["unit_level"] == LEVEL_WHOLE].set_index("measure")
        body: list[list[object]] = [[Cell("全部基本服务 all basic", bold=True), "", "", "", "",
                                     format_value(whole["value"].get("basic_all:time", np.nan), "%"),
                                     format_value(whole["value"].get("basic_all:dist", np.nan), "%"), ""]]
        for r in services.itertuples():
            t = whole["value"].get(f"{r.category}:time", np.nan)
            dd = whole["value"].get(f"{r.category}:dist", np.nan)
            note = "OSM中未找到 none in the OSM data" if r.n_found == 0 else str(r.note or "")
            body.append([r.name_zh, "是" if r.basic else "", f"{int(r.level_min)} 分钟", format_value(r.radius_m, "m"),
                         format_value(r.n_found, "", 0), format_value(t, "%"), format_value(dd, "%"), note])
        s["by_category"] = Table([("服务类别", "category"), ("基本", "basic"), ("层级", "level"), ("半径", "radius"), ("设施数", "found"),
                                  ("时间标准", "time rule"), ("距离标准", "distance rule"), ("说明", "note")],
                                 body, [20, 6, 9, 8, 8, 10, 10, 29], [3, 4, 5, 6], ["whole"] + [""] * len(services))
        measures = [("basic_all:time", "全部基本 all basic")] + [(f"{r.category}:time", str(r.name_zh)) for r in basic.itertuples()]
        s["by_unit"] = _unit_matrix(rows, measures, "%")
    if ranking is not None and len(ranking):
        body = [[format_value(r.rank, "", 0), r.unit, str(r.unit_level).split(" ")[0], format_value(r.share_basic_all, "%"),
                 format_value(r.mean_basic_share, "%"), format_value(r.population, "", 0)] for r in ranking.itertuples()]
        s["ranking"] = Table([("名次", "rank"), ("单元", "unit"), ("层级", "level"), ("全部基本服务", "all basic"),
                              ("基本服务平均", "mean basic"), ("人口(或节点)", "population")], body, [9, 25, 12, 18, 18, 18], [0, 3, 4, 5])
    worst = result.extra.get("worst_served")
    if worst is not None and len(worst):
        body = [[format_value(r.rank, "", 0), r.h3_cell, r.township, f"{r.lon:.5f}", f"{r.lat:.5f}", format_value(r.population, "", 0),
                 format_value(r.share_basic_all, "%"), r.missing_zh, format_value(r.deficit, "", 0)] for r in worst.itertuples()]
        s["worst"] = Table([("序", "#"), ("网格", "H3 cell"), ("镇街", "township"), ("经度", "lon"), ("纬度", "lat"), ("人口", "pop."),
                            ("全部基本", "all basic"), ("缺少（<50%）", "missing"), ("缺口人次", "gaps")],
                           body, [5, 15, 10, 10, 9, 8, 9, 26, 8], [0, 3, 4, 5, 6, 8])
    walk = result.extra.get("walk_time")
    if walk is not None and len(walk):
        bands = [c for c in walk.columns if c not in ("category", "name_zh", "level_min")]
        items = [(f"{r['name_zh']}", [float(r[b]) for b in bands]) for _, r in walk.iterrows()]
        svg = stacked_bar_chart(items, bands, title="步行时间分布 Walk time to the nearest service",
                                note="人口（或路网节点）占比 share of population (or network nodes)")
        s["walk"] = Figure(svg, "步行至最近设施的时间分布（人口加权） walk-time distribution, population-weighted")
    return s


def group_section(result: IndicatorResult, ind: str, number: int) -> Section:
    """健身圈 / 一老一小: coverage chart and table per unit (``group`` macro).

    Parameters
    ----------
    result
        The indicator result.
    ind
        ``"fitness_15min"`` or ``"elderly_young"`` (see :data:`GROUP_MEASURES`).
    number
        Section number.

    Returns
    -------
    dict
        Section data.
    """
    measures, chart, title = GROUP_MEASURES[ind]
    rows = indicator_rows(result, ind)
    d = result.definitions[ind]
    t = None
    if d.target is not None and any(d.target.applies(m) for m, _ in chart):
        t = d.target.value
    s = _base(result, ind, number)
    s["chart"] = _unit_chart(rows, chart, target=t, title=title)
    s["matrix"] = _unit_matrix(rows, measures, "%")
    return s


def rail_section(result: IndicatorResult, number: int) -> Section:
    """轨道交通: lengths vs target, lines, station chords, and station catchment (``rail`` macro).

    Parameters
    ----------
    result
        The indicator result.
    number
        Section number.

    Returns
    -------
    dict
        Section data.
    """
    ind = "rail_length"
    rows = indicator_rows(result, ind)
    d = result.definitions[ind]
    s = _base(result, ind, number, not_computed=False)
    body = [[r.measure_zh, format_value(r.value, "km"), format_gap(r.gap, "km"), meets_cell(r.meets), r.status, r.note,
             source_text(r.data_source, r.data_date)] for r in rows.itertuples()]
    s["lengths"] = Table([("口径", "measure"), ("里程", "length"), ("差距", "gap"), ("达标", "meets"), ("状态", "status"), ("说明", "note"),
                          ("来源", "source")], body, [20, 9, 10, 7, 12, 27, 15], [1, 2])
    short = {"route_length": "按线路 per line", "track_length": "轨道长度 track", "station_chord_lower_bound": "弦长下限 chords"}
    items = [(short.get(r.measure, str(r.measure)), [float(r.value)]) for r in rows.itertuples() if is_number(r.value)]
    s["chart"] = None
    if items and d.target is not None:
        svg = bar_chart(items, ["km"], unit="km", target=d.target.value, target_label=f"规划目标 {d.target.value:g} km（2030）",
                        title="轨道里程与规划目标 Rail length vs target")
        s["chart"] = Figure(svg, "轨道里程 rail length (km)")
    lines = result.extra.get("rail_lines")
    s["lines"] = None
    if lines is not None and len(lines):
        lb = [[r.line, r.name, r.route, format_value(r.n_relations, "", 0), format_value(r.km, "km", 3), r.km_directions,
               format_value(r.ways_missing, "", 0)] for r in lines.itertuples()]
        s["lines"] = Table([("线路", "line"), ("名称", "name"), ("类型", "route"), ("关系数", "relations"), ("区内长度", "km inside"),
                            ("各方向", "per direction"), ("缺失成员", "members not in data")], lb, [10, 26, 11, 10, 13, 17, 13], [3, 4, 6])
    chords = result.extra.get("rail_chords")
    s["chords"] = None
    if chords is not None and len(chords):
        cb = [[r.name, format_value(r.chord_km_total, "km"), format_value(r.chord_km_in_jiulongpo, "km"),
               str(r.stations_in_jiulongpo).replace(";", "、")] for r in chords.itertuples()]
        s["chords"] = Table([("线路", "line"), ("弦长合计", "chord total"), ("区内弦长", "inside"), ("区内车站", "stations inside")],
                            cb, [24, 12, 12, 52], [1, 2])
    s["catchment"] = None
    ind2 = "rail_station_catchment"
    if ind2 in result.definitions:
        rows2 = indicator_rows(result, ind2)
        r2 = float(result.definitions[ind2].parameters.get("radius_m", 800))
        c = _base(result, ind2, number)
        c["matrix"] = _unit_matrix(rows2, [("straight_line", f"直线{r2:g}米"), ("network", f"路网{r2:g}米")], "%")
        cov = rows2[(rows2["unit_level"] == LEVEL_WHOLE) & rows2["value"].notna()]
        c["covered"] = "；".join(f"{r.measure_zh}：覆盖 {format_value(r.covered, '', 0)} / {format_value(r.population, '', 0)}"
                                f"（{r.population_basis}）" for r in cov.itertuples())
        s["catchment"] = c
    return s


def _balance_table(balance: pd.DataFrame) -> Table:
    """The 产消平衡 checks as a reader's table: item, value with unit, plan value, arithmetic, clauses, check.

    The analysis's own columns (codes, English names, sources) stay in ``indicators.xlsx``; a balance of
    another shape (no ``item_zh`` / ``value``) is shown column by column.
    """
    if not {"item_zh", "value"} <= set(balance.columns):
        cols = list(balance.columns)
        body = [[format_number(v, 2) if is_number(v) else v for v in row] for row in balance.itertuples(index=False)]
        numeric = [j for j, c in enumerate(cols) if pd.api.types.is_numeric_dtype(balance[c])]
        return Table([(HEADERS_ZH.get(str(c), str(c)), "") for c in cols], body, [100.0 / len(cols)] * len(cols), numeric)

    def text(row: Any, col: str) -> str:
        v = getattr(row, col, None)
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    body = []
    for r in balance.itertuples(index=False):
        flag = bool(getattr(r, "flag", False)) and str(getattr(r, "flag", "")).lower() not in ("false", "0", "")
        body.append([
            Cell(text(r, "item_zh"), en=text(r, "item_en") or None),
            f"{format_number(r.value, 2)} {text(r, 'unit')}".strip() if is_number(r.value) else format_value(r.value),
            format_number(r.plan_value, 2) if is_number(getattr(r, "plan_value", None)) else NO_VALUE,
            text(r, "formula"),
            text(r, "clauses"),
            Cell(text(r, "status"), css="no" if flag else None),
            text(r, "note"),
        ])
    return Table([("核算项", "item"), ("计算值", "value"), ("规划值", "plan"), ("算式", "formula"), ("条款", "clauses"),
                  ("核对", "check"), ("说明", "note")], body, [17, 10, 7, 12, 11, 11, 32], [1, 2])


def waste_section(result: IndicatorResult, number: int) -> Section | None:
    """建筑垃圾: the three waste indicators, their targets, the balance and landfill life (``waste`` macro).

    Parameters
    ----------
    result
        The indicator result.
    number
        Section number.

    Returns
    -------
    dict or None
        None when the profile defines no waste indicator.
    """
    ids = [i for i in ("waste_resource_recovery", "waste_comprehensive_use", "waste_landfill_life") if i in result.definitions]
    if not ids:
        return None
    rows = result.table[result.table["indicator"].isin(ids)]
    body = [[Cell(r.indicator_zh, en=r.indicator_en), r.unit, format_value(r.value, r.value_unit), r.target_text,
             format_gap(r.gap, r.value_unit), meets_cell(r.meets), r.status, r.note] for r in rows.itertuples()]
    s: Section = {"number": number}
    s["table"] = Table([("指标", "indicator"), ("单元", "unit"), ("现状", "value"), ("目标", "target"), ("差距", "gap"), ("达标", "meets"),
                        ("状态", "status"), ("说明", "note")], body, [19, 10, 8, 17, 9, 6, 12, 19], [2, 4])
    s["targets"] = [{"name_zh": d.name_zh, "quote": d.target.quote, "document": _document(result, d.target.document),
                     "clause": d.target.clause, "definition": d.parameters.get("definition", "")}
                    for d in (result.definitions[i] for i in ids) if d.target is not None]
    balance = result.extra.get("waste_balance")
    s["balance"] = None
    if balance is not None and len(balance):
        s["balance"] = _balance_table(balance)
    life = result.extra.get("waste_landfill_life")
    s["life"] = None
    if life is not None and len(life):
        svg = bar_chart([(str(n), [float(y)]) for n, y in zip(life["name_zh"], life["life_years"])], ["年"], unit="年",
                        title="填埋场使用年限 Landfill life (years)")
        s["life"] = Figure(svg, "填埋场使用年限 landfill life")
    s["caveats"] = list(dict.fromkeys(c for i in ids for c in result.definitions[i].caveats))
    return s
