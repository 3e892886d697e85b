"""A short, self-contained HTML report of the construction-waste analysis (建筑垃圾分析简报).

One page with no script and no outside resource: inline CSS, two inline SVG charts
(generation vs capacity per waste type; landfill fill-up over time under both of the plan's
岩洞湾 fill volumes), the key findings, the balance table with its arithmetic, landfill life, haul
per facility and flow, the 邻避 screens and the method notes.  Every text from data is escaped with
:func:`jlp_geo.viz.escape.escape_text`; the page is written atomically through
:func:`jlp_geo.viz.offline.save_map`, which refuses anything that would be fetched from outside.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..viz.escape import escape_text

if TYPE_CHECKING:
    from ..analysis.waste import WasteResult

__all__ = ["write_waste_report", "fill_up_series", "waste_report_html"]

#: Clauses the report quotes (建筑垃圾规划, seed text).
CLAUSE_QUOTES: tuple[tuple[str, str], ...] = (
    ("第四条（五）", "强化环境、社会影响分析，系统谋划、科学论证建筑垃圾消纳设施和场所的空间布局，充分征求社会公众意见，防范“邻避”问题发生。"),
    ("第十四条（二）", "收运线路应按照“建筑垃圾收集点——次要道路、主要道路——交通性主干道——建筑垃圾转运分选场、建筑垃圾填埋场、建筑垃圾资源利用厂”进行设置，避免人口密集区及车流高峰期。"),
    ("第十七条（二）", "工程渣土优先现场就地回填，其次可根据市场信息进行调配用于异地回填"),
    ("第八条（四）", "规划到2027年，工程渣土及工程泥浆需消纳量为173.54万立方米/年。"),
)

CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Source Han Sans SC",sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.5;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:2px solid #8c510a;padding-bottom:2px;margin-top:28px}
.sub{color:#555;font-size:13px}.banner{border-left:5px solid #b35806;background:#fff7ec;padding:6px 10px;margin:10px 0;font-size:14px}
.banner.ok{border-left-color:#1b7837;background:#f0f7ee}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0;width:100%}th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
th{background:#f3efe6;text-align:left}td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.flag td{background:#fdecea}ol li{margin:4px 0}figure{margin:10px 0}figcaption{font-size:13px;color:#444}
svg text{font-family:inherit}.small{font-size:12px;color:#555}
"""


def _n(v: Any, digits: int | str = 2) -> str:
    """Number for a table cell: *digits* decimals with thousands separators, or a format spec string."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return escape_text(v)
    if not math.isfinite(f):
        return "—"
    return format(f, digits) if isinstance(digits, str) else f"{f:,.{digits}f}"


def _table(df: pd.DataFrame, columns: Sequence[tuple[str, str, int | str | None]], flag: str | None = None) -> str:
    """HTML table of *df*: ``(column, header, digits / format spec, or None for text)``; rows with *flag* True highlighted."""
    head = "".join(f"<th>{escape_text(h)}</th>" for _, h, _ in columns)
    body = []
    for _, row in df.iterrows():
        cls = ' class="flag"' if flag and bool(row.get(flag)) else ""
        cells = []
        for col, _, digits in columns:
            v = row.get(col)
            if digits is None:
                cells.append(f"<td>{escape_text(v)}</td>")
            else:
                cells.append(f'<td class="n">{_n(v, digits)}</td>')
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- charts


def _bar_chart(groups: list[tuple[str, str, list[tuple[str, float, str]]]], width: int = 760) -> str:
    """Horizontal grouped bars; *groups* = ``[(title, unit, [(label, value, colour), ...]), ...]``.

    Bars are scaled per unit (万吨 and 万立方米 never share an axis).
    """
    label_w, value_w, bar_h, gap = 230, 80, 16, 4
    plot_w = width - label_w - value_w
    maxima: dict[str, float] = {}
    for _, unit, bars in groups:
        maxima[unit] = max([maxima.get(unit, 0.0)] + [b[1] for b in bars])
    y = 10
    parts = []
    for title, unit, bars in groups:
        parts.append(f'<text x="0" y="{y + 12}" font-size="13" font-weight="bold">{escape_text(title)}（{escape_text(unit)}）</text>')
        y += 20
        for label, value, colour in bars:
            w = 0.0 if maxima[unit] <= 0 else plot_w * max(value, 0.0) / maxima[unit]
            parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 4}" font-size="12" text-anchor="end">{escape_text(label)}</text>')
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{escape_text(colour)}"/>')
            parts.append(f'<text x="{label_w + w + 5:.1f}" y="{y + bar_h - 4}" font-size="12">{_n(value)}</text>')
            y += bar_h + gap
        y += 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}" role="img" '
            f'aria-label="generation vs capacity">{"".join(parts)}</svg>')


def fill_up_series(annual: float, capacity: float, start_year: int) -> tuple[list[tuple[float, float]], float]:
    """Cumulative landfilled volume over time until *capacity* is reached.

    Returns
    -------
    tuple
        ``([(year, 万立方米), ...], years until full)`` -- a straight line from ``(start_year, 0)`` to
        ``(start_year + capacity / annual, capacity)``.
    """
    if annual <= 0:
        return [(float(start_year), 0.0)], math.inf
    years = capacity / annual
    return [(float(start_year), 0.0), (start_year + years, float(capacity))], years


def _fill_chart(result: WasteResult, width: int = 760, height: int = 340) -> str:
    from ..analysis.waste import fill_scenarios, format_plan_number

    ll = result.landfill_life
    start = result.params.start_year
    scen = fill_scenarios(result.figures)
    annuals = ll.drop_duplicates("scenario")[["scenario", "scenario_zh", "annual_wm3"]]
    annuals = annuals[annuals["annual_wm3"] > 0]
    caps = [total for _, total, _ in scen]
    horizon = max(total / a for total in caps for a in annuals["annual_wm3"]) if len(annuals) else 5.0
    x_max = math.ceil(horizon) + 1
    y_max = max(caps) * 1.12
    left, right, top, bottom = 60, 20, 20, 50
    pw, ph = width - left - right, height - top - bottom

    def px(year: float) -> float:
        return left + pw * (year - start) / x_max

    def py(v: float) -> float:
        return top + ph * (1 - v / y_max)

    parts = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>']
    step = 1 if x_max <= 10 else 2
    for k in range(0, x_max + 1, step):
        parts.append(f'<line x1="{px(start + k):.1f}" y1="{top + ph}" x2="{px(start + k):.1f}" y2="{top + ph + 4}" stroke="#555"/>')
        parts.append(f'<text x="{px(start + k):.1f}" y="{top + ph + 17}" font-size="11" text-anchor="middle">{start + k}</text>')
    for v in range(0, int(y_max) + 1, 100):
        parts.append(f'<line x1="{left - 4}" y1="{py(v):.1f}" x2="{left + pw}" y2="{py(v):.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" font-size="11" text-anchor="end">{v}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" font-size="12" text-anchor="middle">年份 year（{start} 年起两座填埋场同时使用 both landfills from {start}）</text>')
    parts.append(f'<text x="14" y="{top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {top + ph / 2})">累计填埋量 万立方米</text>')
    cap_colours = ["#a6611a", "#542788"]
    for (name, total, _), colour in zip(scen, cap_colours):
        parts.append(f'<line x1="{left}" y1="{py(total):.1f}" x2="{left + pw}" y2="{py(total):.1f}" stroke="{colour}" stroke-dasharray="6 4" stroke-width="1.5"/>')
        dy = -5 if colour == cap_colours[-1] else 13
        parts.append(f'<text x="{left + pw * 0.5:.1f}" y="{py(total) + dy:.1f}" font-size="11" text-anchor="middle" fill="{colour}">库容 {escape_text(format_plan_number(total))} 万立方米（{escape_text(name)}）</text>')
    line_colours = {"plan": "#b2182b", "target73": "#2166ac"}
    for _, a in annuals.iterrows():
        colour = line_colours.get(a["scenario"], "#333")
        end_year = start + y_max / a["annual_wm3"]
        xe = min(end_year, start + x_max)
        parts.append(f'<line x1="{px(start):.1f}" y1="{py(0):.1f}" x2="{px(xe):.1f}" y2="{py(a["annual_wm3"] * (xe - start)):.1f}" stroke="{colour}" stroke-width="2.2"/>')
        for (_, total, _), k in zip(scen, range(len(scen))):
            pts, years = fill_up_series(float(a["annual_wm3"]), total, start)
            x, yv = pts[-1]
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(yv):.1f}" r="4" fill="{colour}"/>')
            parts.append(f'<text x="{px(x) + 6:.1f}" y="{py(yv) + (14 if k == 0 else -6):.1f}" font-size="11" fill="{colour}">{years:.2f} 年</text>')
        legend_y = top + ph - 14 - 16 * (len(annuals) - 1 - list(annuals["scenario"]).index(a["scenario"]))
        lx = left + pw * 0.32
        parts.append(f'<line x1="{lx:.1f}" y1="{legend_y - 4}" x2="{lx + 24:.1f}" y2="{legend_y - 4}" stroke="{colour}" stroke-width="2.2"/>')
        parts.append(f'<text x="{lx + 30:.1f}" y="{legend_y}" font-size="11" fill="{colour}">{escape_text(format_plan_number(a["annual_wm3"], 2))} 万立方米/年 — '
                     f'{escape_text(a["scenario_zh"])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="landfill fill-up">{"".join(parts)}</svg>')


# --------------------------------------------------------------------------- page


def waste_report_html(result: WasteResult, *, title: str = "九龙坡区建筑垃圾产消平衡与设施分析简报") -> str:
    """The report page as a string (see :func:`write_waste_report`)."""
    from ..analysis.waste import TYPES, balance_value

    b = result.balance
    fig = result.figures
    straight = result.method["haul"] != "network"
    today = _dt.date.today().isoformat()
    out = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape_text(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape_text(title)}</h1>",
        (f'<div class="sub">Construction-waste balance, landfill life, haul and siting screens · 依据 {escape_text(fig.document)}'
         f" 第三章、第十六–十九条、第二十七条、附表1–4 · 生成 {today} · jlp_geo</div>"),
        f'<div class="banner{" ok" if not straight else ""}"><b>运距算法 haul distance：</b>{escape_text(result.method["haul_label"])}</div>',
        (f'<div class="banner"><b>镇街产生量 generation by 镇街：</b>'
         f'{escape_text(result.generation["generation_basis"].iloc[0] if len(result.generation) else result.method["proxy_label"])}</div>'),
        "<h2>主要结论 Key findings</h2><ol>",
    ]
    out += [f"<li>{escape_text(f)}</li>" for f in result.key_findings()]
    out.append("</ol>")

    # ---- charts
    solid_groups = [
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
    out.append("<h2>产生量与处理能力 Generation vs capacity</h2><figure>")
    out.append(_bar_chart(solid_groups))
    out.append("<figcaption>图1 各类建筑垃圾年产生量与处理能力（万吨与万立方米分开作图，不换算）。填埋场库容为总量而非年能力，见图2。"
               " Fig. 1: annual generation vs capacity per type; tonnes and cubic metres on separate scales.</figcaption></figure>")
    out.append("<h2>填埋场寿命 Landfill fill-up</h2><figure>")
    out.append(_fill_chart(result))
    out.append("<figcaption>图2 两座渣土填埋场累计填埋量：红线按第八条（四）全部填埋，蓝线按达到附表1综合利用率73%"
               f"（密度 {escape_text(result.params.density_t_per_m3)} 吨/立方米，参数）；虚线为两种岩洞湾填方量下的总库容。"
               " Fig. 2: cumulative landfilled volume under both fill volumes.</figcaption></figure>")
    out.append(_table(result.landfill_life, [
        ("landfill", "填埋场", None), ("fill_wm3", "填方量（万立方米）", 0), ("fill_clauses", "条款", None),
        ("scenario_zh", "情景", None), ("annual_wm3", "年填埋量（万立方米/年）", 2), ("years_until_full", "填满年限（年）", 2),
        ("full_in_year", "约在（年）", ".1f")], flag="conflict"))

    out.append("<h2>产消平衡表 Balance (the plan's arithmetic)</h2>")
    out.append('<p class="small">红底行需关注（规划矛盾、能力不足、目标无法满足或推算值）。单位按规划原文；换算仅用于综合利用率，密度为参数并注明。</p>')
    out.append(_table(b, [
        ("stream_zh", "类别", None), ("item_zh", "项目", None), ("value", "数值", 3), ("unit", "单位", None), ("formula", "算式", None),
        ("plan_value", "规划原值", 2), ("clauses", "条款", None), ("status", "结论", None), ("note", "说明", None)], flag="flag"))

    out.append("<h2>运距与负荷 Haul and load per facility</h2>")
    out.append(f'<p class="small">{escape_text(result.method["haul_label"])}。运距 ± 为设施位置不确定（±3–4 公里估计点）。'
               "分配为满足能力约束、运量×运距最小的运输问题解（scipy linprog / HiGHS）。</p>")
    out.append(_table(result.facility_load, [
        ("facility_zh", "设施", None), ("stream_zh", "类别", None), ("capacity", "能力（每年）", 2), ("capacity_unit", "单位", None),
        ("capacity_basis", "能力说明", None), ("intake", "分配运量", 2), ("utilisation", "负荷率", 3), ("mean_haul_km", "平均运距 km", 1),
        ("haul_pm_km", "± km", 1), ("cost", "运量×运距", 0), ("cost_unit", "单位", None), ("tonne_km", "万吨·公里/年", 0)]))
    if len(result.flows):
        fl = pd.DataFrame(result.flows.drop(columns=result.flows.geometry.name))
        out.append("<h3>运输流向 Flows</h3>")
        out.append(_table(fl, [
            ("stream_zh", "类别", None), ("origin", "起点", None), ("facility_zh", "设施", None), ("quantity", "运量", 2),
            ("quantity_unit", "单位", None), ("haul_km", "运距 km", 1), ("haul_pm_km", "± km", 1), ("cost", "运量×运距", 1),
            ("route_share_residential", "途经居住用地比例", 2), ("method", "算法", None)]))
    if len(result.haul):
        amb = result.haul[(result.haul["nearest"]) & (~result.haul["robust"])]
        if len(amb):
            out.append(f'<p class="small">服务范围不稳健（两设施运距差小于位置不确定）：{escape_text("、".join(dict.fromkeys(amb["origin"])))}</p>')

    out.append("<h2>邻避筛查 Siting screens（第四条（五）、第十四条（二））</h2>")
    cols = [("name_zh", "设施", None), ("buffer_m", "缓冲（米）", 0), ("possible_radius_m", "含位置不确定（米）", 0),
            ("population", "人口", 0), ("population_possible", "人口（含不确定）", 0)]
    for c in result.params.receptors:
        if f"n_{c.id}" in result.siting.columns:
            cols += [(f"n_{c.id}", c.name_zh, 0), (f"n_{c.id}_possible", f"{c.name_zh}（含不确定）", 0)]
    cols += [("population_method", "人口来源", None), ("note", "说明", None)]
    out.append(_table(result.siting, cols))
    unplaced = result.facilities.loc[~result.facilities["located"].astype(bool), "name_zh"].tolist()
    if unplaced:
        out.append(f'<p class="small">未定位设施（不编造场址，不参加运距和邻避分析）：{escape_text("、".join(map(str, unplaced)))}</p>')

    out.append("<h2>方法与说明 Method and notes</h2><ol>")
    out += [f"<li>{escape_text(n)}</li>" for n in result.notes]
    p = result.params
    out.append(f"<li>参数 parameters（{escape_text(Path(p.path).name)}）：密度 {escape_text(p.density_t_per_m3)} 吨/立方米（{escape_text(p.density_note)}）；"
               f"绕行系数 {escape_text(p.detour_factor)}（{escape_text(p.detour_note)}）；填埋比例 {escape_text(p.landfilled_share)}；"
               f"缓冲 {escape_text('、'.join(f'{x:.0f}' for x in p.buffers_m))} 米。</li>")
    out.append(f"<li>人口 population: {escape_text(result.method['population'])}；OSM: {escape_text(result.method['osm'])}</li>")
    out.append("</ol><h3>引用条款 Clauses</h3><ul>")
    out += [f"<li><b>{escape_text(c)}</b> {escape_text(q)}</li>" for c, q in CLAUSE_QUOTES]
    out.append("</ul>")
    out.append('<p class="small">单位：工程渣土、工程泥浆按规划为万立方米/年，其余为万吨/年；'
               + "、".join(escape_text(f"{t['zh']} {t['unit']}") for t in TYPES.values())
               + "。" + ("地图数据 © OpenStreetMap contributors (ODbL 1.0)。" if result.method["haul"] == "network" or result.receptors is not None else "")
               + "</p></body></html>")
    return "".join(out)


def write_waste_report(result: WasteResult, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Write the report page (no script, no outside resource), atomically.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.waste.analyse_waste`.
    path
        Target ``.html``.
    title
        Page title (default Chinese title).

    Returns
    -------
    Path
        The written file.
    """
    from ..viz.offline import save_map

    html = waste_report_html(result, **({"title": title} if title else {}))
    return save_map(html, path)
