"""The siting report page (补短板 设施选址报告, ``siting_report.html``): one section per category.

Self-contained (no script, no outside resource), rendered from ``templates/siting_report.html.j2``:
the question asked, the answer (sites ranked with the people each adds, before → after shares), the
p → people covered curve as an inline SVG (exact and greedy), the solver's status and optimality gap,
the greedy guarantee, and the method notes.  Every text from data is escaped on output
(:mod:`jlp_geo.reports.templating`).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from .. import __version__
from ..viz.escape import escape_text
from .format import format_number
from .templating import Figure, Table, render_template

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.siting import CategorySiting, SitingResult

__all__ = ["DEFAULT_TITLE", "curve_svg", "siting_report_html", "write_siting_report"]

DEFAULT_TITLE = "补短板 公共服务设施选址分析"
PLAN_BASIS = ("纲要 第四十一章：推动公共资源与常住人口相匹配，补齐基本公共服务短板；"
              "专栏23 第2项：及时调整中小学幼儿园布局规划")


def _pct(x: float) -> str:
    return "无数据" if math.isnan(x) else f"{x:.1%}"


def curve_svg(curve: pd.DataFrame, title: str, *, width: int = 560, height: int = 220) -> Markup:
    """Inline SVG: share covered against the number of new sites, exact (solid) and greedy (dashed)."""
    left, right, top, bottom = 48, 12, 12, 30
    pw, ph = width - left - right, height - top - bottom
    max_p = max(int(curve["p"].max()) if len(curve) else 1, 1)

    def xy(p: float, s: float) -> tuple[float, float]:
        return left + pw * p / max_p, top + ph * (1 - s)

    parts = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for s in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = xy(0, s)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{s:.0%}</text>')
    step = max(1, max_p // 10)
    for p in range(0, max_p + 1, step):
        x, _ = xy(p, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle">{p}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 2}" font-size="10" text-anchor="middle">新增设施数 p (new sites)</text>')
    for method, dash, colour in (("lazy greedy", "5 3", "#ff7f00"), ("HiGHS MILP", "", "#1f78b4")):
        sub = curve[curve["method"] == method].sort_values("p")
        if method == "HiGHS MILP" and len(sub):
            sub = pd.concat([curve[(curve["method"] == "lazy greedy") & (curve["p"] == 0)], sub])
        pts = [xy(float(p), float(s)) for p, s in zip(sub["p"], sub["share"]) if not math.isnan(s)]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"'
                         + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    parts.append(f'<text x="{left + 6}" y="{top + 14}" font-size="10" fill="#1f78b4">— 精确解 exact (HiGHS)</text>'
                 f'<text x="{left + 6}" y="{top + 27}" font-size="10" fill="#ff7f00">- - 贪心 lazy greedy</text>')
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape_text(title)}"><title>{escape_text(title)}</title>')
    return Markup(head + "".join(parts) + "</svg>")


def _sites_table(c: CategorySiting) -> Table:
    rows = [[int(r["rank"]), r["name_zh"], format_number(r["marginal_population"], 0), _pct(float(r["cumulative_share"])),
             r["reason"]] for _, r in c.sites.iterrows()]
    return Table([("排序", "rank"), ("建议设施", "proposed site"), ("新增覆盖人口", "people added"),
                  ("累计覆盖率", "cumulative share"), ("候选理由", "why a candidate")], rows, numeric=[0, 2, 3],
                 widths=[7, 20, 13, 12, 48])


def _section(c: CategorySiting, index: int) -> dict:
    s, g = c.solution, c.greedy
    facts = [
        ("标准 rule", (f"{'步行时间' if c.rule == 'time' else '路网距离'} ≤ {c.threshold:g} {c.unit}"
                       f"（{c.category.rule_source}）")),
        ("要求 question", c.request),
        ("现有设施（固定） existing facilities (fixed)", f"{len(set(c.existing_nodes.tolist()))} 处"),
        ("候选点 candidates", f"{len(c.candidates)} 处；覆盖对 {c.n_pairs:,} 个；合并后需求组 {c.n_groups:,} 个"),
        ("现状覆盖率 share before", _pct(c.share(False))),
        ("新增后覆盖率 share after", _pct(c.share(True))),
        ("建议新增 new sites", f"{s.n_sites} 处"),
        ("精确求解 exact solve", f"{s.method}, {s.status}, 最优性间隙 gap {s.gap:.2%}, {s.seconds:.2f} s"),
        ("贪心对照 greedy check", f"{g.n_sites} 处, {'节省步行' if c.model == 'pmedian' else '新增覆盖'} "
                                  f"{format_number(g.objective, 0)}（精确解 {format_number(s.objective, 0)}）"
                                  + ("（人·秒 person-seconds）" if c.model == "pmedian" and c.rule == "time" else
                                     "（人·米 person-metres）" if c.model == "pmedian" else "")),
        ("无候选可达人口 unreachable by any candidate", format_number(c.unreachable, 0)),
    ]
    if c.mean_cost is not None:
        facts.append(("人均步行（截断于2倍阈值） mean walk, capped", f"{c.mean_cost[0]:.2f} → {c.mean_cost[1]:.2f} {c.unit}"))
    return {
        "title": f"{index}. {c.category.name_zh} {c.category.name_en}",
        "facts": facts,
        "sites": _sites_table(c),
        "figure": Figure(curve_svg(c.curve, f"{c.category.name_zh} p → share"),
                         f"图{index} {c.category.name_zh}：新增设施数与覆盖率（含现有设施已覆盖人口）。实线为精确解，虚线为贪心解。"),
        "notes": list(c.notes),
    }


def siting_report_html(result: SitingResult, *, title: str = DEFAULT_TITLE) -> str:
    """The report page as an HTML string."""
    summary_rows = [[c.category.name_zh, c.request, _pct(c.share(False)), c.solution.n_sites, _pct(c.share(True)),
                     f"{c.solution.status} / {c.solution.gap:.2%}"] for c in result.categories]
    summary = Table([("类别", "category"), ("要求", "question"), ("现状", "before"), ("新增", "new sites"),
                     ("新增后", "after"), ("求解状态/间隙", "status / gap")], summary_rows, numeric=[2, 3, 4])
    method = [
        "需求：步行网络节点上的人口（" + result.population_label + "）。现有设施固定，其已覆盖的人口不再计入需求，现有设施不会被“建议”。",
        "覆盖集：每个候选点在反向路网上做有界 Dijkstra（到阈值即停），得到稀疏的“候选点—需求节点”覆盖关系；不构造全对距离矩阵。",
        ("模型：MCLP（新增 p 处，最大化新增覆盖人口；或达到目标覆盖率所需最少设施）、LSCP（覆盖全部可达人口的最少设施）、"
         "p-median（新增 p 处，居民总步行最少，步行截断于 2 倍阈值）。"
         "精确解由 HiGHS（scipy.optimize.milp）求得，有时间上限；若达到时间上限，报告 HiGHS 对偶界给出的最优性间隙。"),
        "贪心法（lazy greedy）对 MCLP 的理论保证：不低于最优值的 1−(1−1/p)^p ≥ 1−1/e ≈ 63.2%；实际差距见曲线与表。",
        "校核：新增后覆盖人口由一次独立的多源最短路（现有 + 新增设施）重新计算，与模型目标值一致。",
        "建议位置为规划示意（indicative），需结合用地权属、建设条件和现场踏勘确定；OSM 中设施缺失不等于实际没有（数据缺口≠服务缺口）。",
    ]
    return render_template(
        "siting_report.html.j2",
        version=__version__,
        title=title,
        today=_dt.date.today().isoformat(),
        plan_basis=PLAN_BASIS,
        population=result.population_label,
        warnings=[n for n in result.notes if n.startswith("警告")],
        summary=summary,
        sections=[_section(c, i) for i, c in enumerate(result.categories, start=1)],
        method=method,
        notes=list(result.notes),
        provenance=sorted(result.provenance.items()),
    )


def write_siting_report(result: SitingResult, path: str | os.PathLike[str], *, title: str = DEFAULT_TITLE) -> Path:
    """Write ``siting_report.html`` (no script, no outside resource), atomically; return the path."""
    from ..viz.offline import save_map

    return save_map(siting_report_html(result, title=title), path)
