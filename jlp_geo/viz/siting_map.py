"""The siting map (补短板 设施选址图): proposed sites ranked, coverage before and after, one offline page.

For every category of a :class:`~jlp_geo.analysis.siting.SitingResult` (one group in the layer control; only
the first is shown at start):

* **proposed sites** as numbered markers (rank 1 = the largest marginal gain), popups with the people each
  adds, the cumulative share and the reason it was a candidate;
* **existing facilities** (fixed) as dark dots;
* **demand** (network nodes with people) coloured by status: already covered by existing facilities,
  newly covered by the proposed sites, still not covered — i.e. before and after in one view;
* a legend with the before → after share per category and a collapsible method box.

Page rules as the other maps (:mod:`jlp_geo.viz.page`): every script inline, no basemap at start, every
text from data escaped (:func:`escape_text` / :func:`popup_html`), coordinates rounded to 5 decimals.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import numpy as np

from .controls import GroupedLayers, HtmlBox, notes_html
from .escape import escape_text, popup_html
from .geometry import display_frame
from .page import (
    COORDINATES_NOTE,
    add_basemaps,
    add_map_tools,
    basemap_note,
    fit_map,
    has_tianditu,
    new_map,
    write_page,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.siting import SitingResult

__all__ = ["DEMAND_COLOURS", "siting_map", "write_siting_map"]

DEFAULT_TITLE = "补短板 设施选址 Where to add facilities"
MAX_POINTS = 20_000
"""Above this many demand nodes per category the map draws one dot per ~100 m cell and status."""
GRID_DEG = 0.001
DEMAND_COLOURS = {"existing": "#9e9e9e", "new": "#1f78b4", "uncovered": "#e31a1c"}
DEMAND_LABELS = {"existing": "现有设施已覆盖 covered by existing", "new": "新增设施覆盖 newly covered",
                 "uncovered": "仍未覆盖 still not covered"}
SITING_CSS = """
.jlp-site{background:#ff7f00;color:#fff;border:2px solid #fff;border-radius:50%;width:22px;height:22px;
line-height:18px;text-align:center;font:bold 12px sans-serif;box-shadow:0 0 3px #000;}
.jlp-legend table{border-collapse:collapse;font-size:12px}.jlp-legend td,.jlp-legend th{padding:1px 5px}
.jlp-swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px}
"""


def _points(gdf, rows: np.ndarray, crs: object, thin: bool = False) -> dict:
    sub = display_frame(gdf.iloc[np.flatnonzero(rows)], 0.0, crs)
    xy = np.empty((0, 2)) if sub is None or len(sub) == 0 else np.column_stack([sub.geometry.x, sub.geometry.y])
    # large networks: one dot per ~100 m cell and status (GRID_DEG), so the page stays small
    xy = np.unique(np.round(xy / GRID_DEG) * GRID_DEG, axis=0) if thin else xy
    return {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": np.round(xy, 5).tolist()}}


def _pct(x: float) -> str:
    return "无数据" if math.isnan(x) else f"{x:.1%}"


def _legend(result: SitingResult) -> str:
    rows = "".join(
        f"<tr><td>{escape_text(c.category.name_zh)}</td><td>{_pct(c.share(False))}</td><td>→</td>"
        f"<td><b>{_pct(c.share(True))}</b></td><td>+{c.solution.n_sites}</td></tr>"
        for c in result.categories
    )
    swatches = "".join(f'<div><span class="jlp-swatch" style="background:{col}"></span>{escape_text(DEMAND_LABELS[k])}</div>'
                       for k, col in DEMAND_COLOURS.items())
    return (f"<b>覆盖率 现状 → 新增后</b><table><tr><th>类别</th><th>现状</th><th></th><th>新增后</th><th>新增</th></tr>{rows}</table>"
            f'{swatches}<div><span class="jlp-site" style="display:inline-block;width:16px;height:16px;line-height:12px">1</span> '
            f"建议新增设施（序号=优先顺序）proposed site, ranked</div>"
            f'<div><span class="jlp-swatch" style="background:#222"></span>现有设施（固定） existing (fixed)</div>'
            f"<div>人口口径 population: {escape_text(result.population_label)}</div>")


def siting_map(result: SitingResult, *, title: str = DEFAULT_TITLE, tianditu_token: str | None = None) -> folium.Map:
    """Build the siting map as a :class:`folium.Map` (see the module docstring)."""
    m = new_map(title, SITING_CSS, "jlp_siting_css")
    base_layers = add_basemaps(m, tianditu_token)
    groups: dict[str, list[tuple[str, folium.map.Layer]]] = {}
    thinned = False
    demand = result.demand
    crs = result.coverage.network.crs
    for i, c in enumerate(result.categories):
        show = i == 0
        items = []
        mine = demand["category"].to_numpy() == c.category.id
        thin = int(mine.sum()) > MAX_POINTS
        thinned |= thin
        for status, colour in DEMAND_COLOURS.items():
            fg = folium.FeatureGroup(name=f"demand_{c.category.id}_{status}", control=False, show=show).add_to(m)
            feature = _points(demand, mine & (demand["status"].to_numpy() == status), crs, thin)
            folium.GeoJson(feature, marker=folium.CircleMarker(radius=2.5, weight=0, fill=True, fill_opacity=0.8),
                           style_function=lambda _f, col=colour: {"fillColor": col, "color": col}).add_to(fg)
            items.append((escape_text(DEMAND_LABELS[status]), fg))
        ex = result.existing[result.existing["category"] == c.category.id]
        fg_ex = folium.FeatureGroup(name=f"existing_{c.category.id}", control=False, show=show).add_to(m)
        folium.GeoJson(_points(ex, np.ones(len(ex), bool), crs), marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=1),
                       style_function=lambda _f: {"fillColor": "#222222", "color": "#ffffff"}).add_to(fg_ex)
        items.append(("现有设施 existing (fixed)", fg_ex))
        fg_sites = folium.FeatureGroup(name=f"sites_{c.category.id}", control=False, show=show).add_to(m)
        sites = display_frame(c.sites, 0.0, crs)
        for _, s in (sites.iterrows() if sites is not None and len(sites) else []):
            pop = popup_html(s["name_zh"], [
                ("类别 category", s["category_zh"]), ("排序 rank", int(s["rank"])),
                ("新增覆盖人口 people added", f"{s['marginal_population']:,.0f}"),
                ("累计覆盖率 cumulative share", _pct(float(s["cumulative_share"]))),
                ("候选理由 reason", s["reason"]), ("求解 solver", f"{s['method']} ({s['status']})"),
                ("来源 source", s["source"]), ("精度 precision", "示意 indicative (a planning proposal, not a surveyed site)"),
            ])
            folium.Marker([round(s.geometry.y, 5), round(s.geometry.x, 5)],
                          icon=folium.DivIcon(html=f'<div class="jlp-site">{int(s["rank"])}</div>', icon_size=(22, 22), icon_anchor=(11, 11)),
                          popup=folium.Popup(pop, max_width=380),
                          tooltip=escape_text(f"{s['name_zh']}: +{s['marginal_population']:,.0f}")).add_to(fg_sites)
        items.append((f"建议新增 proposed ({c.solution.n_sites})", fg_sites))
        groups[escape_text(f"{c.category.name_zh} {c.category.name_en}")] = items
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)
    add_map_tools(m, title)
    HtmlBox(_legend(result), position="bottomright", css_class="jlp-legend").add_to(m)
    notes = [f"{c.category.name_zh}: {c.request}; {c.solution.method} {c.solution.status}, gap {c.solution.gap:.2%}; "
             f"规则 rule {c.rule} ≤ {c.threshold:g} {c.unit}" for c in result.categories]
    if thinned:
        notes.append(f"需求节点多于 {MAX_POINTS:,} 个的类别按约 100 m 网格显示（每格每种状态一个点）；完整节点见 siting.gpkg 的 siting_demand 图层 — "
                     "demand drawn as one dot per ~100 m cell and status; every node is in siting.gpkg")
    notes += list(result.notes) + [basemap_note(has_tianditu(base_layers)), COORDINATES_NOTE]
    HtmlBox(notes_html(notes, title="方法与说明 Method & notes"), position="bottomleft", css_class="jlp-notes").add_to(m)
    bounds = display_frame(demand, 0.0, crs).total_bounds if len(demand) else None
    fit_map(m, bounds, max_zoom=16)
    return m


def write_siting_map(result: SitingResult, path: str | os.PathLike[str], *, title: str = DEFAULT_TITLE,
                     tianditu_token: str | None = None) -> Path:
    """Write the siting map to *path* (offline HTML); return the path."""
    return write_page(siting_map(result, title=title, tianditu_token=tianditu_token), path)
