"""The 15分钟生活圈单元 report page (``circles_report.html``): count, share meeting all basic categories, gaps.

One page with no script and no outside resource, rendered from ``templates/circles_report.html.j2`` with
the shared macros and escaping of :mod:`jlp_geo.reports.templating`: the district's count of units, the
share of units meeting every 基础保障 category, population and compactness ranges, the ten units with the
largest gaps, the pilots and one row per unit.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np

from .. import __version__
from ..analysis.circles import NO_DATA, CirclesResult
from .templating import Cell, Table, render_template

__all__ = ["DEFAULT_TITLE", "circles_report_html", "write_circles_report"]

DEFAULT_TITLE = "九龙坡区 15分钟生活圈单元"


def _pct(v: float) -> str:
    return NO_DATA if v != v else f"{v:.0%}"


def _range(values, fmt: str) -> str:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return NO_DATA if v.size == 0 else f"{format(v.min(), fmt)} – {format(v.max(), fmt)}"


def _unit_rows(df) -> list[list[object]]:
    rows = []
    for _, r in df.iterrows():
        score = NO_DATA if r["score"] != r["score"] else f"{int(r['n_basic_met'])}/{int(r['n_basic'])}"
        rows.append([
            r["unit_id"], r["name_zh"], r["township"],
            NO_DATA if r["population"] != r["population"] else f"{r['population']:,.0f}",
            _pct(r["compactness"]),
            Cell(score, css="yes" if r["all_basic_met"] else "no"),
            r["gaps_zh"], r["pilot"],
        ])
    return rows


HEADERS = [("编号", "id"), ("名称", "name"), ("镇街", ""), ("人口(估)", "population"), ("紧凑度", "compactness"),
           ("基础保障达标", "basic met"), ("缺项", "gaps"), ("示范/试点", "pilot")]


WIDTHS = [7, 12, 9, 9, 7, 7, 41, 8]


def circles_report_html(result: CirclesResult, *, title: str = DEFAULT_TITLE) -> str:
    """Render the report page of *result* (see the module docstring)."""
    units = result.units.drop(columns="geometry")
    p = result.params
    pil = Table([("示范社区", "pilot"), ("项目", "programme"), ("所在单元", "unit"), ("定位", "located by"), ("来源", "source")],
                [[r.name_zh, r.programme, r.unit_id or "未在数据范围内 / 未定位", r.basis, r.source] for r in result.pilots.itertuples()])
    return render_template(
        "circles_report.html.j2",
        version=__version__,
        title=title,
        today=_dt.date.today().isoformat(),
        official=result.method == "official",
        method_label=("官方单元文件 official file (surveyed)" if result.method == "official"
                      else "按路网与人口划分（示意）delineated from the walk network and population (schematic)"),
        population_basis=result.population_basis,
        n_units=result.n_units,
        share_all_basic=_pct(result.share_all_basic),
        met_share=f"{p.met_share:.0%}",
        population_range=_range(units["population"], ",.0f"),
        stated_range=f"{p.pop_min:,.0f} – {p.pop_max:,.0f}（{p.pop_source}）",
        compactness_range=_range(units["compactness"], ".0%"),
        gaps=Table(HEADERS, _unit_rows(result.largest_gaps(10)), widths=WIDTHS, numeric=[3, 4]),
        pilots=pil,
        units=Table(HEADERS, _unit_rows(units), widths=WIDTHS, numeric=[3, 4]),
        notes=list(result.notes) + [f"{k}: {v}" for k, v in result.provenance.items()],
    )


def write_circles_report(result: CirclesResult, path: str | os.PathLike[str], *, title: str = DEFAULT_TITLE) -> Path:
    """Write ``circles_report.html`` (no script, no outside resource), atomically.

    Returns
    -------
    Path
        The written file.
    """
    from ..viz.offline import save_map

    return save_map(circles_report_html(result, title=title), path)
