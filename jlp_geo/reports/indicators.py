"""The plan-indicator report (规划指标报告): one self-contained HTML page for a meeting, plus tables.

:func:`write_report` takes the computed indicators (:func:`jlp_geo.analysis.indicators.analyse_indicators`)
and writes

* ``out_dir/report.html`` -- Chinese first with English alongside; inline SVG charts
  (coverage bars per 镇街, walk-time distribution, rail length, landfill life); no
  script, font, image or stylesheet from anywhere else, so it opens by double-click on
  an offline intranet; print CSS for A4 (rows never split across pages, table headers
  repeated on every page, tables fitted to the page width);
* ``out_dir/tables/indicators.csv`` -- the indicator table, UTF-8 with BOM and Chinese
  headers (Excel on Chinese Windows);
* ``out_dir/tables/indicators.xlsx`` -- the same table plus the supporting tables
  (ranking, worst-served places, walk-time distribution, rail lines, waste balance …).

All three are written into a staging folder and moved into place together.  The page is
rendered from ``templates/indicator_report.html.j2``; every piece of text from data (OSM
names, user files, the waste analysis) is escaped on output
(:mod:`jlp_geo.reports.templating`).  What each indicator section shows is decided in
:mod:`jlp_geo.reports.indicator_sections`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import __version__
from ..analysis.indicators import HEADERS_ZH, LEVEL_WHOLE, IndicatorResult
from ..io import atomic_path, staged_outputs, write_csv, write_excel
from .format import format_gap, format_value, is_number, source_text
from .indicator_sections import group_section, life_circle_section, meets_cell, park_section, rail_section, waste_section
from .templating import Cell, Table, render_template

__all__ = ["CONTENT_WIDTH_MM", "PAGE_MARGIN_MM", "REPORT_NAME", "TABLE_CSV", "TABLE_XLSX", "render_report", "summary_rows",
           "write_report"]

REPORT_NAME = "report.html"
TABLE_CSV = "indicators.csv"
TABLE_XLSX = "indicators.xlsx"

#: A4 portrait with these margins leaves 186 mm x 265 mm for content.
PAGE_MARGIN_MM = (14, 12, 16, 12)  # top, right, bottom, left
CONTENT_WIDTH_MM = 210 - PAGE_MARGIN_MM[1] - PAGE_MARGIN_MM[3]

#: Indicators whose headline rows are filtered in :func:`summary_rows`.
HEADLINE_SKIP = ("life_circle_15min",)

#: Provenance keys shown in the header box, with their labels.
BASIS_LABELS = {
    "coverage_osm": "OSM数据 OSM data (coverage)", "osm": "OSM数据 OSM data", "population": "人口口径 Population basis",
    "walk": "步行速度 Walking", "crs": "量算坐标系 Measured in", "townships": "镇街边界 Township boundaries",
    "waste": "建筑垃圾分析 Waste analysis",
}


def summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The headline rows of an indicator table: whole area, one row per indicator measure.

    The 15-minute circle keeps only its "all basic services" rows (each category is in
    the full table); 健身圈 / 一老一小 keep their distance-rule rows only for the combined
    measures.

    Parameters
    ----------
    table
        The indicator table (:attr:`IndicatorResult.table`).

    Returns
    -------
    pandas.DataFrame
        The headline rows, index reset.
    """
    s = table[table["unit_level"] == LEVEL_WHOLE].reset_index(drop=True)
    keep = ~s["indicator"].isin(HEADLINE_SKIP) | s["measure"].str.startswith("basic_all")
    keep &= ~(s["indicator"].isin(["fitness_15min", "elderly_young"]) & s["measure"].str.endswith(":dist")
              & ~s["measure"].str.startswith(("any", "all")))
    return s[keep]


def _summary_table(result: IndicatorResult) -> Table:
    body = []
    for r in summary_rows(result.table).itertuples():
        body.append([
            r.indicator_zh, r.measure_zh, format_value(r.value, r.value_unit),
            r.target_text if is_number(r.target) else "无量化目标 no target", format_gap(r.gap, r.value_unit),
            meets_cell(r.meets), Cell(r.status, css="status-nc" if not is_number(r.value) else ""),
            source_text(r.data_source, r.data_date),
        ])
    return Table([("指标", "indicator"), ("口径", "measure"), ("现状", "value"), ("目标", "target"), ("差距", "gap"), ("达标", "meets"),
                  ("状态", "status"), ("数据来源与日期", "source, date")],
                 body, [15, 20, 8, 14, 10, 6, 13, 14], [2, 4])


def _basis(result: IndicatorResult) -> list[tuple[str, str]]:
    """The header box: plans, generation time, data provenance."""
    p = result.profile
    plan = p.documents.get("plan", {})
    waste = p.documents.get("waste_plan", {})
    basis = [
        ("规划依据 Plans", f"{plan.get('title', '')} ({plan.get('date', '')})；{waste.get('title', '')} ({waste.get('date', '')})"),
        ("生成时间 Generated", f"{result.provenance.get('generated', '')} · jlp_geo {__version__}"),
    ]
    basis += [(label, result.provenance[key]) for key, label in BASIS_LABELS.items() if key in result.provenance]
    basis.append(("指标定义 Definitions", "layers/indicators.yml（目标原文与条款、默认参数及出处）"))
    return basis


def _sections(result: IndicatorResult) -> list[tuple[str, dict]]:
    """``(template macro, section data)`` in page order, numbered from 1."""
    builders = [
        ("park_service_radius", "park", lambda k: park_section(result, k)),
        ("life_circle_15min", "life_circle", lambda k: life_circle_section(result, k)),
        ("fitness_15min", "group", lambda k: group_section(result, "fitness_15min", k)),
        ("elderly_young", "group", lambda k: group_section(result, "elderly_young", k)),
        ("rail_length", "rail", lambda k: rail_section(result, k)),
    ]
    sections = []
    n = 1
    for ind, macro, build in builders:
        if ind in result.definitions:
            sections.append((macro, build(n)))
            n += 1
    waste = waste_section(result, n)
    if waste is not None:
        sections.append(("waste", waste))
    return sections


def render_report(result: IndicatorResult, *, title_zh: str | None = None, title_en: str | None = None) -> str:
    """Render the indicator result as one self-contained HTML page (no external resources, no script).

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.analysis.indicators.analyse_indicators`.
    title_zh, title_en
        Page titles (default from the profile).

    Returns
    -------
    str
        The HTML document.
    """
    p = result.profile
    osm = any("OpenStreetMap" in str(v) for v in result.provenance.values())
    return render_template(
        "indicator_report.html.j2",
        version=__version__,
        margin=PAGE_MARGIN_MM,
        content_width_mm=CONTENT_WIDTH_MM,
        title_zh=title_zh or f"{p.name_zh}规划空间指标监测报告",
        title_en=title_en or f"{p.name_en} — plan-indicator report",
        basis=_basis(result),
        summary=_summary_table(result),
        sections=_sections(result),
        gaps=list(result.gaps),
        notes=list(result.notes),
        osm_credit="地图数据 © OpenStreetMap contributors (ODbL 1.0)。" if osm else "",
    )


# --------------------------------------------------------------------------- writing


def _rounded(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(digits)
    return out


def _sheets(result: IndicatorResult) -> dict[str, pd.DataFrame]:
    sheets = {"indicators": _rounded(result.table)}
    for key in ("ranking", "worst_served", "walk_time", "park_tiers", "services", "rail_lines", "rail_chords", "waste_balance",
                "waste_landfill_life"):
        df = result.extra.get(key)
        if df is not None and len(df):
            if key == "waste_balance" and "unit" in df.columns:  # a unit of measure here, not a 统计单元
                df = df.rename(columns={"unit": "value_unit"})
            sheets[key] = _rounded(df)
    notes = ([("数据缺口 gap", g) for g in result.gaps] + [("说明 note", n) for n in result.notes]
             + [(k, v) for k, v in result.provenance.items()])
    sheets["notes"] = pd.DataFrame(notes, columns=["kind", "text"])
    return sheets


def write_report(result: IndicatorResult, out_dir: str | Path) -> list[Path]:
    """Write ``report.html`` and ``tables/indicators.csv`` / ``.xlsx`` into *out_dir*.

    Everything is rendered in memory first, written into a staging folder inside
    *out_dir*, and moved into place only when all files are complete.

    Parameters
    ----------
    result
        The computed indicators.
    out_dir
        Output folder.

    Returns
    -------
    list of Path
        The files written.
    """
    html = render_report(result)
    sheets = _sheets(result)
    with staged_outputs(out_dir, job="report") as (staging, final):
        report = staging / REPORT_NAME
        with atomic_path(report) as tmp:
            tmp.write_text(html, encoding="utf-8")
        final += [
            report,
            write_csv(sheets["indicators"], staging / "tables" / TABLE_CSV, HEADERS_ZH),
            write_excel(sheets, staging / "tables" / TABLE_XLSX, {**HEADERS_ZH, "indicator_en": "指标英文名 indicator (English)"}),
        ]
    return final
