"""The plan-indicator report (规划指标报告): one self-contained HTML page for a meeting, plus tables.

``run_report(out_dir, ...)`` computes the indicators (:mod:`jlp_geo.indicators`)
first and only then writes

* ``out_dir/report.html`` -- Chinese first with English alongside; inline SVG charts
  (coverage bars per 镇街, walk-time distribution, rail length, landfill life); no
  script, font, image or stylesheet from anywhere else, so it opens by double-click on
  an offline intranet; print CSS for A4 (rows never split across pages, table headers
  repeated on every page, tables fitted to the page width);
* ``out_dir/tables/indicators.csv`` -- the indicator table, UTF-8 with BOM and Chinese
  headers (Excel on Chinese Windows);
* ``out_dir/tables/indicators.xlsx`` -- the same table plus the supporting tables
  (ranking, worst-served places, walk-time distribution, rail lines, waste balance …).

All three are written into a staging folder and moved into place together.  Every
piece of text from data (OSM names, user files, the waste analysis) is escaped
(:func:`jlp_geo.viz.escape.escape_text`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..analysis.indicators import (
    HEADERS_ZH,
    LEVEL_CLUSTER,
    LEVEL_TOWNSHIP,
    LEVEL_WHOLE,
    IndicatorResult,
    analyse_indicators,
)
from ..io import atomic_path, staged_outputs, write_csv, write_excel
from ..viz.escape import escape_text

__all__ = ["REPORT_NAME", "render_report", "summary_rows", "write_report"]

REPORT_NAME = "report.html"
TABLE_CSV = "indicators.csv"
TABLE_XLSX = "indicators.xlsx"

#: A4 portrait with these margins leaves 186 mm x 265 mm for content.
PAGE_MARGIN_MM = (14, 12, 16, 12)  # top, right, bottom, left
CONTENT_WIDTH_MM = 210 - PAGE_MARGIN_MM[1] - PAGE_MARGIN_MM[3]

_PALETTE = ("#1b6ca8", "#e07b39", "#3a9a5b", "#8e5ea2", "#c44e52", "#7f7f7f")
_BAND_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#b2182b")

_CSS = f"""
@page {{ size: A4 portrait; margin: {PAGE_MARGIN_MM[0]}mm {PAGE_MARGIN_MM[1]}mm {PAGE_MARGIN_MM[2]}mm {PAGE_MARGIN_MM[3]}mm; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif;
       font-size: 10pt; line-height: 1.45; color: #222; margin: 0 auto; max-width: {CONTENT_WIDTH_MM}mm; padding: 8mm 0; }}
h1 {{ font-size: 17pt; margin: 0 0 4pt; line-height: 1.25; }}
h2 {{ font-size: 13pt; margin: 16pt 0 4pt; padding-bottom: 2pt; border-bottom: 1.5pt solid #1b6ca8; break-after: avoid; page-break-after: avoid; }}
h3 {{ font-size: 11pt; margin: 10pt 0 3pt; break-after: avoid; page-break-after: avoid; }}
.en {{ color: #555; font-weight: normal; font-size: 0.86em; }}
h1 .en, h2 .en {{ display: block; }}
p {{ margin: 3pt 0; }}
.meta {{ color: #444; font-size: 9pt; }}
.box {{ border: 0.75pt solid #bbb; background: #f7f9fb; padding: 4pt 7pt; margin: 5pt 0; break-inside: avoid; page-break-inside: avoid; }}
.target {{ border-left: 3pt solid #e07b39; }}
.gap-box {{ border-left: 3pt solid #c44e52; }}
blockquote {{ margin: 2pt 0; font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", serif; }}
dl.basis {{ display: grid; grid-template-columns: 30% 70%; gap: 1pt 6pt; margin: 4pt 0; font-size: 9pt; }}
dl.basis dt {{ font-weight: bold; }}
dl.basis dd {{ margin: 0; overflow-wrap: anywhere; }}
table {{ width: 100%; max-width: 100%; border-collapse: collapse; table-layout: fixed; margin: 4pt 0 8pt; font-size: 8.5pt; }}
thead {{ display: table-header-group; }}
tfoot {{ display: table-footer-group; }}
tr, th, td {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 0.5pt solid #999; padding: 1.5pt 3pt; vertical-align: top; overflow-wrap: anywhere; word-break: break-word; hyphens: auto; }}
th {{ background: #e8eef4; text-align: left; font-weight: bold; }}
th .en {{ display: block; font-size: 0.9em; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.nc {{ color: #8a1c1c; }}
tr.whole td {{ font-weight: bold; background: #f4f4f4; }}
.yes {{ color: #1a7f37; font-weight: bold; }}
.no {{ color: #b42318; font-weight: bold; }}
.status-nc {{ color: #8a1c1c; }}
figure {{ margin: 5pt 0 8pt; break-inside: avoid; page-break-inside: avoid; }}
figure svg {{ display: block; width: 100%; height: auto; }}
figcaption {{ font-size: 8.5pt; color: #444; }}
ul {{ margin: 2pt 0 4pt 14pt; padding: 0; }}
li {{ margin: 1pt 0; break-inside: avoid; page-break-inside: avoid; }}
.small {{ font-size: 8.5pt; }}
footer {{ margin-top: 14pt; border-top: 0.75pt solid #bbb; padding-top: 4pt; font-size: 8pt; color: #555; }}
@media print {{
  body {{ padding: 0; max-width: none; font-size: 9.5pt; }}
  section.indicator {{ break-before: auto; }}
  a {{ color: inherit; text-decoration: none; }}
}}
"""


# --------------------------------------------------------------------------- small helpers


def _e(value: object) -> str:
    return escape_text(value)


def _bi(zh: str, en: str) -> str:
    """Chinese first, English alongside."""
    return f'{_e(zh)} <span class="en">{_e(en)}</span>' if en else _e(zh)


def _isnum(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def _fmt(value: object, unit: str = "", digits: int | None = None) -> str:
    if not _isnum(value):
        return "—"
    v = float(value)
    if digits is None:
        digits = 1 if unit in ("%", "年") else (2 if unit == "km" else 0)
    text = f"{v:,.{digits}f}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {_e(unit)}" if unit else text


def _fmt_gap(value: object, unit: str) -> str:
    if not _isnum(value):
        return "—"
    v = float(value)
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    digits = 1 if unit in ("%", "年") else 2
    return f"{sign}{abs(v):,.{digits}f}{' 个百分点' if unit == '%' else ' ' + _e(unit)}"


def _meets_html(text: str) -> str:
    if not text:
        return "—"
    return f'<span class="{"yes" if text.startswith("是") else "no"}">{_e(text)}</span>'


def _table(headers: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None,
           numeric: Sequence[int] = (), row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; *rows* hold ready HTML (escape before); *widths* in % of the page width."""
    cols = ""
    if widths:
        cols = "<colgroup>" + "".join(f'<col style="width:{w:.1f}%">' for w in widths) + "</colgroup>"
    head = "".join("<th>" + _e(zh) + (f'<span class="en">{_e(en)}</span>' if en else "") + "</th>" for zh, en in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>" for j, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- inline SVG charts


def _svg_text(x: float, y: float, text: str, *, size: float = 11, anchor: str = "start", fill: str = "#222", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{_e(text)}</text>')


def svg_bar_chart(
    items: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    *,
    unit: str = "%",
    max_value: float | None = None,
    target: float | None = None,
    target_label: str = "",
    title: str = "",
    width: int = 700,
) -> str:
    """Grouped horizontal bars as inline SVG (labels escaped).

    Parameters
    ----------
    items
        ``(label, values)``; one value per series (NaN = not computed, drawn as "—").
    series
        Series names (legend).
    unit
        Unit shown after values.
    max_value
        Axis maximum (default 100 for %, else 1.1 × the largest value or target).
    target
        Optional target drawn as a dashed vertical line.
    target_label, title
        Texts (escaped).
    width
        ViewBox width; the SVG scales to the page width.

    Returns
    -------
    str
        ``<svg …>`` markup.
    """
    label_w, value_w, pad = 150, 62, 6
    bar_h, gap = 11, 7
    n = max(len(series), 1)
    top = 22 + (16 if len(series) > 1 else 0) + (12 if target is not None else 0)
    group_h = n * bar_h + gap
    height = top + len(items) * group_h + 22
    vals = [v for _, vs in items for v in vs if _isnum(v)]
    if max_value is None:
        biggest = max(vals + ([target] if target is not None else []) + [0.0])
        max_value = 100.0 if unit == "%" else (biggest * 1.1 if biggest > 0 else 1.0)
    plot_w = width - label_w - value_w - pad
    sx = plot_w / max_value if max_value > 0 else 0.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
           f"<title>{_e(title)}</title>"]
    if title:
        out.append(_svg_text(0, 13, title, size=12, weight="bold"))
    if len(series) > 1:
        x = label_w
        for i, s in enumerate(series):
            out.append(f'<rect x="{x}" y="{top - 14}" width="10" height="10" fill="{_PALETTE[i % len(_PALETTE)]}"/>')
            out.append(_svg_text(x + 14, top - 5, s, size=10))
            x += 14 + 11 * len(s) + 24
    # axis grid
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        gx = label_w + frac * plot_w
        out.append(f'<line x1="{gx:.1f}" y1="{top - 2}" x2="{gx:.1f}" y2="{height - 18}" stroke="#ddd" stroke-width="1"/>')
        out.append(_svg_text(gx, height - 6, _fmt(frac * max_value, unit, 0 if unit == "%" else 1), size=9, anchor="middle", fill="#666"))
    for k, (label, values) in enumerate(items):
        y0 = top + k * group_h
        out.append(_svg_text(label_w - 6, y0 + n * bar_h / 2 + 4, label, size=10, anchor="end"))
        for i, v in enumerate(values):
            y = y0 + i * bar_h
            if _isnum(v):
                w = max(0.0, min(float(v), max_value) * sx)
                out.append(f'<rect x="{label_w}" y="{y + 1}" width="{w:.1f}" height="{bar_h - 2}" fill="{_PALETTE[i % len(_PALETTE)]}"/>')
                out.append(_svg_text(label_w + w + 3, y + bar_h - 2, _fmt(v, unit), size=9))
            else:
                out.append(_svg_text(label_w + 3, y + bar_h - 2, "— 无数据 no data", size=9, fill="#8a1c1c"))
    if target is not None and max_value > 0:
        tx = label_w + min(target, max_value) * sx
        out.append(f'<line x1="{tx:.1f}" y1="{top - 5}" x2="{tx:.1f}" y2="{height - 18}" stroke="#c44e52" stroke-width="1.5" stroke-dasharray="5,3"/>')
        out.append(_svg_text(tx, top - 8, target_label or f"目标 {_fmt(target, unit)}", size=9, fill="#c44e52",
                             anchor="end" if tx > width - 160 else "middle"))
    out.append("</svg>")
    return "".join(out)


def svg_stacked_bars(items: Sequence[tuple[str, Sequence[float]]], bands: Sequence[str], *, title: str = "", width: int = 700) -> str:
    """100% stacked horizontal bars (shares in %) with a legend, as inline SVG."""
    label_w, pad = 150, 6
    bar_h = 14
    legend_rows = 1 + (len(bands) - 1) // 4
    top = 20 + 15 * legend_rows
    height = top + len(items) * (bar_h + 5) + 18
    plot_w = width - label_w - pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
           f"<title>{_e(title)}</title>"]
    if title:
        out.append(_svg_text(0, 13, title, size=12, weight="bold"))
    for i, b in enumerate(bands):
        lx = label_w + (i % 4) * (plot_w / 4)
        ly = 20 + 15 * (i // 4)
        out.append(f'<rect x="{lx:.1f}" y="{ly}" width="10" height="10" fill="{_BAND_COLOURS[i % len(_BAND_COLOURS)]}" stroke="#888" stroke-width="0.5"/>')
        out.append(_svg_text(lx + 14, ly + 9, b, size=10))
    for k, (label, shares) in enumerate(items):
        y = top + k * (bar_h + 5)
        out.append(_svg_text(label_w - 6, y + bar_h - 3, label, size=10, anchor="end"))
        x = float(label_w)
        for i, s in enumerate(shares):
            if not _isnum(s) or s <= 0:
                continue
            w = float(s) / 100.0 * plot_w
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{_BAND_COLOURS[i % len(_BAND_COLOURS)]}"/>')
            if w > 26:
                out.append(_svg_text(x + w / 2, y + bar_h - 3, f"{s:.0f}%", size=9, anchor="middle"))
            x += w
    out.append(_svg_text(label_w, height - 4, "人口（或路网节点）占比 share of population (or network nodes)", size=9, fill="#666"))
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- sections


def _doc(result: IndicatorResult, key: str) -> str:
    p = result.profile
    return p.document(key) if key in p.documents else key


def _target_box(result: IndicatorResult, ind: str) -> str:
    d = result.definitions[ind]
    parts = []
    if d.target is not None:
        t = d.target
        parts.append(
            f'<div class="box target"><b>规划目标 Target</b>：{_e(t.text_zh)}'
            f'{f" <span class=en>({_e(t.text_en)})</span>" if t.text_en else ""}'
            f"<blockquote>“{_e(t.quote.strip('“”'))}”</blockquote>"
            f'<span class="small">出处 Source：{_e(_doc(result, t.document))} {_e(t.clause)}</span>'
            + (f'<br><span class="small">适用口径 applies to：{_e("、".join(t.applies_to))}</span>' if t.applies_to else "")
            + "</div>"
        )
    if d.no_target_zh:
        parts.append(f'<div class="box"><b>规划目标 Target</b>：{_bi(d.no_target_zh, d.no_target_en)}</div>')
    params = d.parameters
    src = params.get("source")
    method = f"<p><b>方法 Method</b>：{_e(d.method_zh)}</p>"
    if d.method_en:
        method += f'<p class="en">{_e(d.method_en)}</p>'
    if src:
        method += f'<p class="small"><b>参数依据 Parameters</b>：{_e(src)}（核实程度 verified: {_e(params.get("verified", "—"))}）</p>'
    return "".join(parts) + method


def _caveats(result: IndicatorResult, ind: str) -> str:
    d = result.definitions[ind]
    if not d.caveats:
        return ""
    return "<h3>注意 Caveats</h3><ul>" + "".join(f"<li>{_e(c)}</li>" for c in d.caveats) + "</ul>"


def _rows(result: IndicatorResult, ind: str) -> pd.DataFrame:
    return result.table[result.table["indicator"] == ind]


def _not_computed(rows: pd.DataFrame) -> str:
    nc = rows[rows["value"].isna() & (rows["unit_level"] == LEVEL_WHOLE)]
    if nc.empty:
        return ""
    reasons: dict[str, list[str]] = {}
    for r in nc.itertuples():
        reasons.setdefault(str(r.note or r.status), []).append(str(r.measure_zh))
    items = "".join(f"<li><b>{_e('、'.join(m))}</b>：{_e(reason)}</li>" for reason, m in reasons.items())
    return f'<div class="box gap-box"><b>未计算 Not computed</b><ul>{items}</ul></div>'


def _unit_matrix(rows: pd.DataFrame, measures: Sequence[tuple[str, str]], unit: str, *, with_population: bool = True) -> str:
    """Units (全域, 组团, 镇街) × measures table of values."""
    present = [(m, label) for m, label in measures if m in set(rows["measure"])]
    if not present:
        return ""
    units: list[tuple[str, str]] = []
    for level in (LEVEL_WHOLE, LEVEL_CLUSTER, LEVEL_TOWNSHIP):
        for u in rows.loc[rows["unit_level"] == level, "unit"].drop_duplicates():
            units.append((level, u))
    if len(units) <= 1 and all(rows.loc[rows["measure"] == m, "value"].isna().all() for m, _ in present):
        return ""
    head_measure = present[0][0]
    body, classes = [], []
    for level, u in units:
        sel = rows[(rows["unit_level"] == level) & (rows["unit"] == u)].set_index("measure")
        cells = [_e(u), _e(level.split(" ")[0])]
        for m, _ in present:
            v = sel["value"].get(m, np.nan) if m in sel.index else np.nan
            cells.append(_fmt(v, unit))
        if with_population:
            pop = sel["population"].get(head_measure, np.nan) if head_measure in sel.index else np.nan
            cells.append(_fmt(pop, "", 0))
            rank = sel["rank"].get(head_measure, np.nan) if head_measure in sel.index else np.nan
            cells.append(_fmt(rank, "", 0))
        body.append(cells)
        classes.append("whole" if level == LEVEL_WHOLE else "")
    headers = [("单元", "unit"), ("层级", "level")] + [(label, "") for _, label in present]
    if with_population:
        headers += [("人口(或节点)", "population"), ("排名", f"rank ({present[0][1]})")]
    n = len(present)
    rest = 100.0 - 17.0 - 8.0 - (20.0 if with_population else 0.0)
    widths = [17.0, 8.0] + [rest / n] * n + ([12.0, 8.0] if with_population else [])
    numeric = list(range(2, 2 + n + (2 if with_population else 0)))
    return _table(headers, body, widths, numeric, classes)


def _unit_chart(rows: pd.DataFrame, measures: Sequence[tuple[str, str]], *, target: float | None, title: str, unit: str = "%") -> str:
    """Bars per 镇街 (or per 组团 when there are no 镇街)."""
    level = LEVEL_TOWNSHIP if (rows["unit_level"] == LEVEL_TOWNSHIP).any() else LEVEL_CLUSTER
    sub = rows[rows["unit_level"] == level]
    present = [(m, label) for m, label in measures if m in set(sub["measure"])]
    if sub.empty or not present or sub["value"].notna().sum() == 0:
        return ""
    items = []
    for u in sub["unit"].drop_duplicates():
        s = sub[sub["unit"] == u].set_index("measure")["value"]
        items.append((str(u), [float(s.get(m, np.nan)) for m, _ in present]))
    svg = svg_bar_chart(items, [label for _, label in present], unit=unit, target=target,
                        target_label=f"规划目标 target {_fmt(target, unit)}" if target is not None else "", title=title)
    return f"<figure>{svg}<figcaption>{_e(title)}（{_e(level.split(' ')[0])}）</figcaption></figure>"


def _section_head(result: IndicatorResult, ind: str, number: int) -> str:
    d = result.definitions[ind]
    return f'<section class="indicator" id="{_e(ind)}"><h2>{number}. {_e(d.name_zh)} <span class="en">{_e(d.name_en)}</span></h2>'


def _park_section(result: IndicatorResult, number: int) -> str:
    ind = "park_service_radius"
    rows = _rows(result, ind)
    d = result.definitions[ind]
    measures = [("network", "路网距离 network"), ("straight_line", "直线距离 straight line"),
                ("straight_line_residential_area", "居住用地面积口径 residential area")]
    out = [_section_head(result, ind, number), _target_box(result, ind), _not_computed(rows)]
    out.append(_unit_chart(rows, measures[:2], target=d.target.value if d.target else None,
                           title="公园绿化活动场地服务半径覆盖率 coverage by unit"))
    out.append(_unit_matrix(rows, measures, "%"))
    tiers = result.extra.get("park_tiers")
    if tiers is not None and len(tiers):
        body = [[_e(r.name_zh), _e(r.categories), _fmt(r.min_area_m2, "m²"), _fmt(r.radius_m, "m"), _fmt(r.parks, "", 0),
                 _fmt(r.parks_on_network, "", 0), _fmt(r.share_network_pct, "%"), _fmt(r.share_straight_pct, "%")]
                for r in tiers.itertuples()]
        out.append("<h3>分档 Tiers</h3>" + _table(
            [("分档", "tier"), ("OSM类别", "categories"), ("面积门槛", "min area"), ("半径", "radius"), ("公园数", "parks"),
             ("接入路网", "on network"), ("路网覆盖", "network"), ("直线覆盖", "straight")],
            body, [20, 16, 11, 9, 9, 11, 12, 12], [2, 3, 4, 5, 6, 7]))
    out.append(_caveats(result, ind))
    out.append("</section>")
    return "".join(out)


def _life_circle_section(result: IndicatorResult, number: int) -> str:
    ind = "life_circle_15min"
    rows = _rows(result, ind)
    d = result.definitions[ind]
    out = [_section_head(result, ind, number), _target_box(result, ind), _not_computed(rows)]
    services = result.extra.get("services")
    ranking = result.extra.get("ranking")
    if services is not None and rows["value"].notna().any():
        basic = services[services["basic"].astype(bool)]
        chart_rows = rows.copy()
        if ranking is not None and len(ranking):
            extra = ranking.rename(columns={"mean_basic_share": "value"}).assign(measure="mean_basic")
            chart_rows = pd.concat([chart_rows, extra[["unit_level", "unit", "measure", "value"]]], ignore_index=True)
        out.append(_unit_chart(chart_rows, [("basic_all:time", "全部基本服务 all basic"), ("mean_basic", "基本服务平均 mean of basic")],
                               target=d.target.value if d.target else None, title="15分钟生活圈覆盖率 coverage by unit (time rule)"))
        # whole area per category
        whole = rows[rows["unit_level"] == LEVEL_WHOLE].set_index("measure")
        body = []
        for r in services.itertuples():
            t = whole["value"].get(f"{r.category}:time", np.nan)
            dd = whole["value"].get(f"{r.category}:dist", np.nan)
            note = "OSM中未找到 none in the OSM data" if r.n_found == 0 else str(r.note or "")
            body.append([_e(r.name_zh), "是" if r.basic else "", f"{int(r.level_min)} 分钟", _fmt(r.radius_m, "m"), _fmt(r.n_found, "", 0),
                         _fmt(t, "%"), _fmt(dd, "%"), _e(note)])
        body.insert(0, ["<b>全部基本服务 all basic</b>", "", "", "", "", _fmt(whole["value"].get("basic_all:time", np.nan), "%"),
                        _fmt(whole["value"].get("basic_all:dist", np.nan), "%"), ""])
        out.append("<h3>全域分类别覆盖率 Whole area by category</h3>" + _table(
            [("服务类别", "category"), ("基本", "basic"), ("层级", "level"), ("半径", "radius"), ("设施数", "found"),
             ("时间标准", "time rule"), ("距离标准", "distance rule"), ("说明", "note")],
            body, [20, 6, 9, 8, 8, 10, 10, 29], [3, 4, 5, 6], ["whole"] + [""] * len(services)))
        measures = [("basic_all:time", "全部基本 all basic")] + [(f"{r.category}:time", str(r.name_zh)) for r in basic.itertuples()]
        out.append("<h3>各单元基本服务覆盖率（时间标准） Basic services by unit, time rule</h3>" + _unit_matrix(rows, measures, "%"))
    if ranking is not None and len(ranking):
        body = [[_fmt(r.rank, "", 0), _e(r.unit), _e(str(r.unit_level).split(" ")[0]), _fmt(r.share_basic_all, "%"), _fmt(r.mean_basic_share, "%"),
                 _fmt(r.population, "", 0)] for r in ranking.itertuples()]
        out.append("<h3>排名 Ranking</h3><p class=\"small\">按全部基本服务覆盖率，再按基本服务平均覆盖率排序 "
                   "(by the share covered by all basic services, then by the mean basic share).</p>"
                   + _table([("名次", "rank"), ("单元", "unit"), ("层级", "level"), ("全部基本服务", "all basic"),
                             ("基本服务平均", "mean basic"), ("人口(或节点)", "population")], body, [9, 25, 12, 18, 18, 18], [0, 3, 4, 5]))
    worst = result.extra.get("worst_served")
    if worst is not None and len(worst):
        body = [[_fmt(r.rank, "", 0), _e(r.h3_cell), _e(r.township), f"{r.lon:.5f}", f"{r.lat:.5f}", _fmt(r.population, "", 0),
                 _fmt(r.share_basic_all, "%"), _e(r.missing_zh), _fmt(r.deficit, "", 0)] for r in worst.itertuples()]
        out.append("<h3>服务最差地段 Worst-served places</h3><p class=\"small\">H3 第9级网格（约0.1平方公里），按基本服务缺口人次"
                   "（Σ 人口 × 未覆盖的基本类别）排序；坐标为网格中心 (CGCS2000 ≈ WGS84)。 "
                   "H3 resolution-9 cells ranked by person-category gaps; coordinates are cell centres.</p>"
                   + _table([("序", "#"), ("网格", "H3 cell"), ("镇街", "township"), ("经度", "lon"), ("纬度", "lat"), ("人口", "pop."),
                             ("全部基本", "all basic"), ("缺少（<50%）", "missing"), ("缺口人次", "gaps")],
                            body, [5, 15, 10, 10, 9, 8, 9, 26, 8], [0, 3, 4, 5, 6, 8]))
    walk = result.extra.get("walk_time")
    if walk is not None and len(walk):
        bands = [c for c in walk.columns if c not in ("category", "name_zh", "level_min")]
        items = [(f"{r['name_zh']}", [float(r[b]) for b in bands]) for _, r in walk.iterrows()]
        out.append("<figure>" + svg_stacked_bars(items, bands, title="步行时间分布 Walk time to the nearest service") +
                   "<figcaption>步行至最近设施的时间分布（人口加权） walk-time distribution, population-weighted</figcaption></figure>")
    out.append(_caveats(result, ind))
    out.append("</section>")
    return "".join(out)


def _group_section(result: IndicatorResult, ind: str, number: int, measures: Sequence[tuple[str, str]], chart: Sequence[tuple[str, str]], title: str) -> str:
    rows = _rows(result, ind)
    d = result.definitions[ind]
    t = None
    if d.target is not None and any(d.target.applies(m) for m, _ in chart):
        t = d.target.value
    out = [_section_head(result, ind, number), _target_box(result, ind), _not_computed(rows)]
    out.append(_unit_chart(rows, chart, target=t, title=title))
    out.append(_unit_matrix(rows, measures, "%"))
    out.append(_caveats(result, ind))
    out.append("</section>")
    return "".join(out)


def _rail_section(result: IndicatorResult, number: int) -> str:
    ind = "rail_length"
    rows = _rows(result, ind)
    d = result.definitions[ind]
    out = [_section_head(result, ind, number), _target_box(result, ind)]
    body = [[_e(r.measure_zh), _fmt(r.value, "km"), _fmt_gap(r.gap, "km"), _meets_html(r.meets), _e(r.status), _e(r.note),
             _source_text(r.data_source, r.data_date)] for r in rows.itertuples()]
    out.append(_table([("口径", "measure"), ("里程", "length"), ("差距", "gap"), ("达标", "meets"), ("状态", "status"), ("说明", "note"),
                       ("来源", "source")], body, [20, 9, 10, 7, 12, 27, 15], [1, 2]))
    short = {"route_length": "按线路 per line", "track_length": "轨道长度 track", "station_chord_lower_bound": "弦长下限 chords"}
    items = [(short.get(r.measure, str(r.measure)), [float(r.value)]) for r in rows.itertuples() if _isnum(r.value)]
    if items and d.target is not None:
        svg = svg_bar_chart(items, ["km"], unit="km", target=d.target.value, target_label=f"规划目标 {d.target.value:g} km（2030）",
                            title="轨道里程与规划目标 Rail length vs target")
        out.append(f"<figure>{svg}<figcaption>轨道里程 rail length (km)</figcaption></figure>")
    lines = result.extra.get("rail_lines")
    if lines is not None and len(lines):
        lb = [[_e(r.line), _e(r.name), _e(r.route), _fmt(r.n_relations, "", 0), _fmt(r.km, "km", 3), _e(r.km_directions), _fmt(r.ways_missing, "", 0)]
              for r in lines.itertuples()]
        out.append("<h3>按线路 Per line (OSM)</h3>" + _table(
            [("线路", "line"), ("名称", "name"), ("类型", "route"), ("关系数", "relations"), ("区内长度", "km inside"),
             ("各方向", "per direction"), ("缺失成员", "members not in data")], lb, [10, 26, 11, 10, 13, 17, 13], [3, 4, 6]))
    chords = result.extra.get("rail_chords")
    if chords is not None and len(chords):
        cb = [[_e(r.name), _fmt(r.chord_km_total, "km"), _fmt(r.chord_km_in_jiulongpo, "km"), _e(str(r.stations_in_jiulongpo).replace(";", "、"))]
              for r in chords.itertuples()]
        out.append("<h3>站间弦长下限 Station-chord lower bound (gazetteer)</h3>" + _table(
            [("线路", "line"), ("弦长合计", "chord total"), ("区内弦长", "inside"), ("区内车站", "stations inside")], cb, [24, 12, 12, 52], [1, 2]))
    out.append(_caveats(result, ind))
    out.append("</section>")
    ind2 = "rail_station_catchment"
    if ind2 in result.definitions:
        rows2 = _rows(result, ind2)
        d2 = result.definitions[ind2]
        r2 = float(d2.parameters.get("radius_m", 800))
        out.append(f'<section class="indicator" id="{ind2}"><h3>{_e(d2.name_zh)} <span class="en">{_e(d2.name_en)}</span></h3>')
        out.append(_target_box(result, ind2) + _not_computed(rows2))
        out.append(_unit_matrix(rows2, [("straight_line", f"直线{r2:g}米"), ("network", f"路网{r2:g}米")], "%"))
        cov = rows2[(rows2["unit_level"] == LEVEL_WHOLE) & rows2["value"].notna()]
        if len(cov):
            out.append("<p>" + "；".join(f"{_e(r.measure_zh)}：覆盖 {_fmt(r.covered, '', 0)} / {_fmt(r.population, '', 0)}（{_e(r.population_basis)}）"
                                        for r in cov.itertuples()) + "</p>")
        out.append(_caveats(result, ind2) + "</section>")
    return "".join(out)


def _waste_section(result: IndicatorResult, number: int) -> str:
    ids = [i for i in ("waste_resource_recovery", "waste_comprehensive_use", "waste_landfill_life") if i in result.definitions]
    if not ids:
        return ""
    out = [f'<section class="indicator" id="waste"><h2>{number}. 建筑垃圾 <span class="en">Construction waste</span></h2>']
    rows = result.table[result.table["indicator"].isin(ids)]
    body = [[_bi(r.indicator_zh, r.indicator_en), _e(r.unit), _fmt(r.value, r.value_unit), _e(r.target_text), _fmt_gap(r.gap, r.value_unit),
             _meets_html(r.meets), _e(r.status), _e(r.note)] for r in rows.itertuples()]
    out.append(_table([("指标", "indicator"), ("单元", "unit"), ("现状", "value"), ("目标", "target"), ("差距", "gap"), ("达标", "meets"),
                       ("状态", "status"), ("说明", "note")], body, [19, 10, 8, 17, 9, 6, 12, 19], [2, 4]))
    for i in ids:
        d = result.definitions[i]
        if d.target is not None:
            out.append(f'<p class="small"><b>{_e(d.name_zh)}</b>：“{_e(d.target.quote)}” — {_e(_doc(result, d.target.document))} {_e(d.target.clause)}；'
                       f"{_e(d.parameters.get('definition', ''))}</p>")
    balance = result.extra.get("waste_balance")
    if balance is not None and len(balance):
        cols = list(balance.columns)
        headers = [(HEADERS_ZH.get(str(c), str(c)), "") for c in cols]
        b = [[_fmt(v, "", 2) if _isnum(v) else _e(v) for v in row] for row in balance.itertuples(index=False)]
        numeric = [j for j, c in enumerate(cols) if pd.api.types.is_numeric_dtype(balance[c])]
        out.append("<h3>收支平衡 Balance</h3>" + _table(headers, b, [100.0 / len(cols)] * len(cols), numeric))
    life = result.extra.get("waste_landfill_life")
    if life is not None and len(life):
        svg = svg_bar_chart([(str(n), [float(y)]) for n, y in zip(life["name_zh"], life["life_years"])], ["年"], unit="年",
                            title="填埋场使用年限 Landfill life (years)")
        out.append(f"<figure>{svg}<figcaption>填埋场使用年限 landfill life</figcaption></figure>")
    caveats = list(dict.fromkeys(c for i in ids for c in result.definitions[i].caveats))
    if caveats:
        out.append("<h3>注意 Caveats</h3><ul>" + "".join(f"<li>{_e(c)}</li>" for c in caveats) + "</ul>")
    out.append("</section>")
    return "".join(out)


_HEADLINE_SKIP = ("life_circle_15min",)


def summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The headline rows of an indicator table: whole area, one row per indicator measure.

    The 15-minute circle keeps only its "all basic services" rows (each category is in
    the full table); 健身圈 / 一老一小 keep their distance-rule rows only for the combined
    measures.
    """
    s = table[table["unit_level"] == LEVEL_WHOLE].reset_index(drop=True)
    keep = ~s["indicator"].isin(_HEADLINE_SKIP) | s["measure"].str.startswith("basic_all")
    keep &= ~(s["indicator"].isin(["fitness_15min", "elderly_young"]) & s["measure"].str.endswith(":dist") & ~s["measure"].str.startswith(("any", "all")))
    return s[keep]


def _source_text(source: object, date: object) -> str:
    src, dt = str(source or ""), str(date or "")
    text = src if (not dt or dt in src or dt == "unknown") else f"{src}, {dt}"
    return _e(text.replace("OpenStreetMap via ", "OSM: ")) if text else "—"


def _summary(result: IndicatorResult) -> str:
    s = summary_rows(result.table)
    body = []
    for r in s.itertuples():
        target = _e(r.target_text) if _isnum(r.target) else "无量化目标 no target"
        body.append([
            _e(r.indicator_zh), _e(r.measure_zh), _fmt(r.value, r.value_unit), target, _fmt_gap(r.gap, r.value_unit),
            _meets_html(r.meets), f'<span class="{"status-nc" if not _isnum(r.value) else ""}">{_e(r.status)}</span>',
            _source_text(r.data_source, r.data_date),
        ])
    return _table(
        [("指标", "indicator"), ("口径", "measure"), ("现状", "value"), ("目标", "target"), ("差距", "gap"), ("达标", "meets"),
         ("状态", "status"), ("数据来源与日期", "source, date")],
        body, [15, 20, 8, 14, 10, 6, 13, 14], [2, 4])


def render_report(result: IndicatorResult, *, title_zh: str | None = None, title_en: str | None = None) -> str:
    """Render the indicator result as one self-contained HTML page (no external resources, no script).

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.indicators.analyse_indicators`.
    title_zh, title_en
        Page titles (default from the profile).

    Returns
    -------
    str
        The HTML document.
    """
    p = result.profile
    title_zh = title_zh or f"{p.name_zh}规划空间指标监测报告"
    title_en = title_en or f"{p.name_en} — plan-indicator report"
    plan = p.documents.get("plan", {})
    waste = p.documents.get("waste_plan", {})
    basis = [
        ("规划依据 Plans", f"{plan.get('title', '')} ({plan.get('date', '')})；{waste.get('title', '')} ({waste.get('date', '')})"),
        ("生成时间 Generated", f"{result.provenance.get('generated', '')} · jlp_geo {__version__}"),
    ]
    labels = {
        "coverage_osm": "OSM数据 OSM data (coverage)", "osm": "OSM数据 OSM data", "population": "人口口径 Population basis",
        "walk": "步行速度 Walking", "crs": "量算坐标系 Measured in", "townships": "镇街边界 Township boundaries",
        "waste": "建筑垃圾分析 Waste analysis",
    }
    for key, label in labels.items():
        if key in result.provenance:
            basis.append((label, result.provenance[key]))
    basis.append(("指标定义 Definitions", "layers/indicators.yml（目标原文与条款、默认参数及出处）"))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in basis)
    fitness = ([("any:time", "15分钟任一"), ("any:dist", "1000米任一"), ("sports:time", "体育场馆"), ("fitness:time", "健身场地")],
               [("any:time", "15分钟健身圈 15-min fitness circle")], "15分钟健身圈覆盖率 coverage by unit")
    old_and_young = ([("elderly_care:time", "养老 elderly"), ("childcare:time", "托育 childcare"),
                      ("kindergarten:time", "幼儿园 kindergarten"), ("all:time", "三类同时 all three")],
                     [("elderly_care:time", "养老 elderly"), ("childcare:time", "托育 childcare"), ("kindergarten:time", "幼儿园 kindergarten")],
                     "“一老一小”设施5分钟覆盖率 5-minute coverage by unit")
    builders = [
        ("park_service_radius", lambda k: _park_section(result, k)),
        ("life_circle_15min", lambda k: _life_circle_section(result, k)),
        ("fitness_15min", lambda k: _group_section(result, "fitness_15min", k, *fitness)),
        ("elderly_young", lambda k: _group_section(result, "elderly_young", k, *old_and_young)),
        ("rail_length", lambda k: _rail_section(result, k)),
    ]
    sections = []
    n = 1
    for ind, build in builders:
        if ind in result.definitions:
            sections.append(build(n))
            n += 1
    sections.append(_waste_section(result, n))
    gaps = "".join(f"<li>{_e(g)}</li>" for g in result.gaps) or "<li>无 none</li>"
    notes = "".join(f"<li>{_e(x)}</li>" for x in result.notes) or "<li>无 none</li>"
    osm_credit = "地图数据 © OpenStreetMap contributors (ODbL 1.0)。" if any("OpenStreetMap" in v for v in result.provenance.values()) else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="jlp_geo {__version__}">
<title>{_e(title_zh)} — {_e(title_en)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(title_zh)}<span class="en">{_e(title_en)}</span></h1>
<div class="box"><dl class="basis">{dl}</dl></div>
</header>
<section id="summary"><h2>指标总览 <span class="en">Summary (whole area)</span></h2>
<p class="small">现状值为全域数值；“未计算”表示缺少数据，并非零值。各指标的组团、镇街数值见下文及 tables/indicators.xlsx。
Values for the whole area; “not computed” means missing data, not zero. Per 组团 / 镇街 values below and in tables/indicators.xlsx.</p>
{_summary(result)}
</section>
{''.join(sections)}
<section id="gaps"><h2>数据缺口 <span class="en">Data gaps</span></h2><div class="box gap-box"><ul>{gaps}</ul></div>
<h3>说明 Notes</h3><ul class="small">{notes}</ul></section>
<footer>{_e(osm_credit)}由 jlp_geo {__version__} 生成；覆盖率为人口加权（无人口数据时为路网节点占比）。镇街、组团边界为示意时，分单元数值仅供参考。
Generated by jlp_geo; shares are population-weighted (of network nodes when no population was given).</footer>
</body>
</html>
"""


# --------------------------------------------------------------------------- writing


def _rounded(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(digits)
    return out


def _sheets(result: IndicatorResult) -> dict[str, pd.DataFrame]:
    sheets = {"indicators": _rounded(result.table)}
    for key in ("ranking", "worst_served", "walk_time", "park_tiers", "services", "rail_lines", "rail_chords", "waste_balance", "waste_landfill_life"):
        df = result.extra.get(key)
        if df is not None and len(df):
            sheets[key] = _rounded(df)
    notes = [("数据缺口 gap", g) for g in result.gaps] + [("说明 note", n) for n in result.notes] + [(k, v) for k, v in result.provenance.items()]
    sheets["notes"] = pd.DataFrame(notes, columns=["kind", "text"])
    return sheets


def write_report(result: IndicatorResult, out_dir: str | Path) -> list[Path]:
    """Write ``report.html`` and ``tables/indicators.csv`` / ``.xlsx`` into *out_dir*.

    Everything is rendered in memory first, written into a staging folder inside
    *out_dir*, and moved into place only when all files are complete.

    Returns
    -------
    list of Path
        The files written.
    """
    html = render_report(result)
    sheets = _sheets(result)
    with staged_outputs(out_dir) as (staging, final):
        report = staging / REPORT_NAME
        with atomic_path(report) as tmp:
            tmp.write_text(html, encoding="utf-8")
        final += [
            report,
            write_csv(sheets["indicators"], staging / "tables" / TABLE_CSV, HEADERS_ZH),
            write_excel(sheets, staging / "tables" / TABLE_XLSX, HEADERS_ZH),
        ]
    return final
