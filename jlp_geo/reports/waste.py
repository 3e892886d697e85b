"""A short, self-contained HTML report of the construction-waste analysis (建筑垃圾分析简报).

One page with no script and no outside resource, rendered from
``templates/waste_report.html.j2``: inline CSS, two inline SVG figures from
:mod:`jlp_geo.reports.charts` (generation vs capacity per waste type; landfill fill-up over
time under both of the plan's 岩洞湾 fill volumes), the key findings, the balance table with
its arithmetic, landfill life, haul per facility and flow, the 邻避 screens and the method
notes.  Every text from data is escaped on output (:mod:`jlp_geo.reports.templating`); the
page is written atomically through :func:`jlp_geo.viz.offline.save_map`, which refuses
anything that would be fetched from outside.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import __version__
from ..analysis.waste import TYPES, WasteResult, balance_value, fill_scenarios, format_plan_number
from .charts import BarPanel, bar_panels, fill_up_chart, fill_up_series
from .format import format_number
from .templating import Figure, Table, render_template

__all__ = ["CLAUSE_QUOTES", "DEFAULT_TITLE", "fill_up_series", "waste_report_html", "write_waste_report"]

DEFAULT_TITLE = "九龙坡区建筑垃圾产消平衡与设施分析简报"

#: Clauses the report quotes (建筑垃圾规划, seed text).
CLAUSE_QUOTES: tuple[tuple[str, str], ...] = (
    ("第四条（五）", "强化环境、社会影响分析，系统谋划、科学论证建筑垃圾消纳设施和场所的空间布局，充分征求社会公众意见，防范“邻避”问题发生。"),
    ("第十四条（二）", "收运线路应按照“建筑垃圾收集点——次要道路、主要道路——交通性主干道——建筑垃圾转运分选场、建筑垃圾填埋场、建筑垃圾资源利用厂”进行设置，避免人口密集区及车流高峰期。"),
    ("第十七条（二）", "工程渣土优先现场就地回填，其次可根据市场信息进行调配用于异地回填"),
    ("第八条（四）", "规划到2027年，工程渣土及工程泥浆需消纳量为173.54万立方米/年。"),
)

#: Colours of the two total-capacity lines and of the fill-rate scenarios in the fill-up chart.
CAPACITY_COLOURS = ("#a6611a", "#542788")
SCENARIO_COLOURS = {"plan": "#b2182b", "target73": "#2166ac"}

#: ``(column, header, digits / format spec, or None for text)`` of one table column.
Column = tuple[str, str, int | str | None]


def _frame_table(df: pd.DataFrame, columns: Sequence[Column], flag: str | None = None) -> Table:
    """Table of *df*: ``(column, header, digits / format spec, or None for text)``; rows with *flag* True highlighted."""
    rows, classes, numeric = [], [], [j for j, (_, _, digits) in enumerate(columns) if digits is not None]
    for _, row in df.iterrows():
        classes.append("flag" if flag and bool(row.get(flag)) else "")
        rows.append([row.get(col) if digits is None else format_number(row.get(col), digits) for col, _, digits in columns])
    return Table([(header, "") for _, header, _ in columns], rows, numeric=numeric, row_classes=classes)


def _generation_figure(result: WasteResult) -> Figure:
    """图1: annual generation vs capacity per waste type; one bar panel per type, one scale per unit."""
    b, fig = result.balance, result.figures
    groups = [
        ("装修垃圾 decoration", "万吨/年", [("产生量 generated（第七条（五））", fig.generation["decoration"], "#c51b7d"),
                                         ("华岩分选场 sorting capacity", fig.capacity["sorting_huayan"], "#e9a3c9")]),
        ("工程垃圾+拆除垃圾 construction & demolition", "万吨/年", [
            ("产生量 generated（第七条（三）（四））", balance_value(b, "cd_generation"), "#35978f"),
            ("综合利用厂 recycling capacity", fig.capacity["recycling_plant"], "#80cdc1"),
            ("资源化缺口 stated gap（第八条（二））", fig.processing["proc_recycling_gap"], "#bdbdbd")]),
        ("资源化利用率70% recovery target", "万吨/年", [
            ("所需资源化量 recovery needed", balance_value(b, "tgt_recovery_needed"), "#01665e"),
            ("规划新增资源化能力 planned", fig.capacity["recycling_plant"], "#80cdc1")]),
        ("工程渣土+工程泥浆 spoil & slurry", "万立方米/年", [
            ("需消纳（全部填埋）第八条（四）", balance_value(b, "ss_landfilled"), "#8c510a"),
            ("达到综合利用率73%时的填埋量", balance_value(b, "tgt_ss_landfilled_at_73"), "#d8b365")]),
    ]
    maxima: dict[str, float] = {}  # 万吨 and 万立方米 never share an axis
    for _, unit, bars in groups:
        maxima[unit] = max([maxima.get(unit, 0.0)] + [float(v) for _, v, _ in bars if v == v])
    panels = [BarPanel([(label, [float(v)]) for label, v, _ in bars], unit="", digits=2, max_value=maxima[unit] or 1.0,
                       title=f"{title}（{unit}）", colours=[c for _, _, c in bars], axis=False) for title, unit, bars in groups]
    svg = bar_panels(panels, title="generation vs capacity", width=760, label_width=230, value_width=80, bar_height=16)
    return Figure(svg, "图1 各类建筑垃圾年产生量与处理能力（万吨与万立方米分开作图，不换算）。填埋场库容为总量而非年能力，见图2。"
                  " Fig. 1: annual generation vs capacity per type; tonnes and cubic metres on separate scales.")


def _fill_figure(result: WasteResult) -> Figure:
    """图2: cumulative landfilled volume under each fill rate against the capacity of each fill-volume combination."""
    start = result.params.start_year
    annuals = result.landfill_life.drop_duplicates("scenario")
    rates = [(float(a.annual_wm3), f"{format_plan_number(a.annual_wm3, 2)} 万立方米/年 — {a.scenario_zh}",
              SCENARIO_COLOURS.get(a.scenario, "#333")) for a in annuals.itertuples()]
    capacities = [(total, f"库容 {format_plan_number(total)} 万立方米（{name}）", CAPACITY_COLOURS[k % len(CAPACITY_COLOURS)])
                  for k, (name, total, _) in enumerate(fill_scenarios(result.figures))]
    svg = fill_up_chart(rates, capacities, start, x_label=f"年份 year（{start} 年起两座填埋场同时使用 both landfills from {start}）",
                        y_label="累计填埋量 万立方米")
    return Figure(svg, "图2 两座渣土填埋场累计填埋量：红线按第八条（四）全部填埋，蓝线按达到附表1综合利用率73%"
                  f"（密度 {result.params.density_t_per_m3} 吨/立方米，参数）；虚线为两种岩洞湾填方量下的总库容。"
                  " Fig. 2: cumulative landfilled volume under both fill volumes.")


def _tables(result: WasteResult) -> dict[str, Table | None]:
    """The landfill-life, balance, facility-load, flow and siting tables."""
    out: dict[str, Table | None] = {}
    out["life"] = _frame_table(result.landfill_life, [
        ("landfill", "填埋场", None), ("fill_wm3", "填方量（万立方米）", 0), ("fill_clauses", "条款", None),
        ("scenario_zh", "情景", None), ("annual_wm3", "年填埋量（万立方米/年）", 2), ("years_until_full", "填满年限（年）", 2),
        ("full_in_year", "约在（年）", ".1f")], flag="conflict")
    out["balance"] = _frame_table(result.balance, [
        ("stream_zh", "类别", None), ("item_zh", "项目", None), ("value", "数值", 3), ("unit", "单位", None), ("formula", "算式", None),
        ("plan_value", "规划原值", 2), ("clauses", "条款", None), ("status", "结论", None), ("note", "说明", None)], flag="flag")
    out["load"] = _frame_table(result.facility_load, [
        ("facility_zh", "设施", None), ("stream_zh", "类别", None), ("capacity", "能力（每年）", 2), ("capacity_unit", "单位", None),
        ("capacity_basis", "能力说明", None), ("intake", "分配运量", 2), ("utilisation", "负荷率", 3), ("mean_haul_km", "平均运距 km", 1),
        ("haul_pm_km", "± km", 1), ("cost", "运量×运距", 0), ("cost_unit", "单位", None), ("tonne_km", "万吨·公里/年", 0)])
    out["flows"] = None
    if len(result.flows):
        fl = pd.DataFrame(result.flows.drop(columns=result.flows.geometry.name))
        out["flows"] = _frame_table(fl, [
            ("stream_zh", "类别", None), ("origin", "起点", None), ("facility_zh", "设施", None), ("quantity", "运量", 2),
            ("quantity_unit", "单位", None), ("haul_km", "运距 km", 1), ("haul_pm_km", "± km", 1), ("cost", "运量×运距", 1),
            ("route_share_residential", "途经居住用地比例", 2), ("method", "算法", None)])
    cols: list[Column] = [("name_zh", "设施", None), ("buffer_m", "缓冲（米）", 0), ("possible_radius_m", "含位置不确定（米）", 0),
                          ("population", "人口", 0), ("population_possible", "人口（含不确定）", 0)]
    for c in result.params.receptors:
        if f"n_{c.id}" in result.siting.columns:
            cols += [(f"n_{c.id}", c.name_zh, 0), (f"n_{c.id}_possible", f"{c.name_zh}（含不确定）", 0)]
    cols += [("population_method", "人口来源", None), ("note", "说明", None)]
    out["siting"] = _frame_table(result.siting, cols)
    return out


def waste_report_html(result: WasteResult, *, title: str = DEFAULT_TITLE) -> str:
    """The report page as a string (see :func:`write_waste_report`).

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.analysis.waste.analyse_waste`.
    title
        Page title.

    Returns
    -------
    str
        The HTML document.
    """
    p = result.params
    ambiguous = ""
    if len(result.haul):
        amb = result.haul[(result.haul["nearest"]) & (~result.haul["robust"])]
        ambiguous = "、".join(dict.fromkeys(amb["origin"]))
    parameters = (f"参数 parameters（{Path(p.path).name}）：密度 {p.density_t_per_m3} 吨/立方米（{p.density_note}）；"
                  f"绕行系数 {p.detour_factor}（{p.detour_note}）；填埋比例 {p.landfilled_share}；"
                  f"缓冲 {'、'.join(f'{x:.0f}' for x in p.buffers_m)} 米。")
    osm = result.method["haul"] == "network" or result.receptors is not None
    return render_template(
        "waste_report.html.j2",
        version=__version__,
        title=title,
        document=result.figures.document,
        today=_dt.date.today().isoformat(),
        network=result.method["haul"] == "network",
        method=result.method,
        generation_basis=result.generation["generation_basis"].iloc[0] if len(result.generation) else result.method["proxy_label"],
        findings=list(result.key_findings()),
        generation_figure=_generation_figure(result),
        fill_figure=_fill_figure(result),
        tables=_tables(result),
        ambiguous=ambiguous,
        unplaced="、".join(map(str, result.facilities.loc[~result.facilities["located"].astype(bool), "name_zh"].tolist())),
        notes=list(result.notes) + [parameters, f"人口 population: {result.method['population']}；OSM: {result.method['osm']}"],
        clauses=CLAUSE_QUOTES,
        units="、".join(f"{t['zh']} {t['unit']}" for t in TYPES.values()),
        osm_credit="地图数据 © OpenStreetMap contributors (ODbL 1.0)。" if osm else "",
    )


def write_waste_report(result: WasteResult, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the report page (no script, no outside resource), atomically.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.analysis.waste.analyse_waste`.
    path
        Target ``.html``.
    title
        Page title (default :data:`DEFAULT_TITLE`).

    Returns
    -------
    Path
        The written file.
    """
    from ..viz.offline import save_map

    html = waste_report_html(result, **({"title": title} if title else {}))
    return save_map(html, path)
