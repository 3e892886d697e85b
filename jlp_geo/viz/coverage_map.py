"""The 15-minute coverage map (15分钟生活圈覆盖图): one offline page per analysis.

:func:`write_coverage_map` draws a :class:`jlp_geo.analysis.accessibility.CoverageResult`:

* a **choropleth on the H3 hexes** of the share of population covered, for one
  service category at a time -- a select box (``#jlp-category``) picks the
  category, 全部基本服务 (``basic_all``) first and shown at start.  The colour
  scale is fixed and binned (:data:`~jlp_geo.viz.coverage_data.SHARE_BREAKS`,
  :data:`~jlp_geo.viz.coverage_data.SHARE_COLOURS`), the
  same for every category, so maps can be compared;
* **gaps** -- hexes with population but 0 % covered -- in red with a thick
  outline; hexes without population faint grey;
* 镇街 and 组团 **outlines** with a popup table of their shares per category
  (time and distance rule), dashed and labelled 示意 when the 镇街 are
  approximate (``coverage_note``);
* the **services** of the selected category as small points (off-network ones
  hollow) and its **service area** (isochrone), both toggleable;
* a legend (with the whole-area share and the number of gap hexes of the
  selected category) and a collapsible method box: population basis, speed,
  DEM, rule, sources, the analysis notes.

The page follows the atlas rules (:mod:`jlp_geo.viz.atlas`): every script
inline (:func:`render_offline`), no basemap at start (OpenStreetMap / 天地图 on
demand), every text from the data escaped with :func:`escape_text` (OSM names
are hostile input), coordinates rounded to 5 decimals and only the shown
numbers embedded, compactly enough for tens of thousands of hexes and thousands of
services (:mod:`jlp_geo.viz.coverage_hexes`: centres + one shared hexagon, class
codes, shares in per mille only where the class does not say them; services as one
encoded polyline with shared source texts; service areas thinned for display in one
vectorised pass, :func:`jlp_geo.viz.geometry.thin_polygons`).

The colour class of every hex and category is computed in Python
(:func:`jlp_geo.viz.coverage_data.share_class`); the page only looks the colour up.

This module assembles the page; the embedded data is built by
:mod:`jlp_geo.viz.coverage_data` and :mod:`jlp_geo.viz.coverage_hexes`, the script that draws it is
:mod:`jlp_geo.viz.coverage_runtime`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium

from ..errors import InputDataError
from .circles_map import add_circles_layer
from .controls import GroupedLayers, HtmlBox, notes_html
from .coverage_areas import isochrone_data
from .coverage_data import (
    GAP_COLOUR,
    GAP_OUTLINE,
    NO_POPULATION_COLOUR,
    SHARE_BREAKS,
    SHARE_COLOURS,
    analysis_crs_of,
    coverage_categories,
    default_category,
    service_data,
    unit_data,
)
from .coverage_hexes import hex_data
from .coverage_runtime import COVERAGE_CSS, CoverageRuntime, legend_html
from .coverage_scenario import scenario_data
from .escape import escape_text
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
    from ..analysis.accessibility import CoverageResult
    from ..analysis.circles import CirclesResult

__all__ = ["DEFAULT_TITLE", "RULE_TEXT", "coverage_map", "write_coverage_map"]

DEFAULT_TITLE = "15分钟生活圈覆盖 15-minute service coverage"
RULE_TEXT = {
    "time": "时间标准：步行时间 ≤ 该类别生活圈层级（5/10/15 分钟） time rule: walking time ≤ the category's level (5/10/15 min)",
    "dist": "距离标准：路网步行距离 ≤ 该类别服务半径 distance rule: network distance ≤ the category's service radius",
}


def _method_notes(
    result: CoverageResult, rule: str, cats: list[dict[str, Any]], tianditu: bool, area_tolerance: float = 0.0
) -> list[str]:
    prov = {str(k): str(v) for k, v in (result.provenance or {}).items()}
    speed = prov.get("speed_m_per_min", "")
    dem = prov.get("dem", "")
    flat = not dem or dem.startswith("none")
    basic_names = "、".join(
        f"{c.name_zh}" for c in result.categories if c.basic
    )
    notes = [
        f"人口口径 Population basis：{result.population.label}",
        f"步行速度 Walking speed：{speed} 米/分钟 m/min" + ("（平地）on level ground" if speed else ""),
        "高程 DEM：未使用，时间不计坡度 none, times ignore slopes"
        if flat
        else f"高程 DEM：{dem}（Tobler 坡度修正 hill-aware times）",
        "标准 Rule：" + RULE_TEXT[rule],
        f"全部基本服务 All basic services = 同时满足 every one of：{basic_names}",
        (
            "覆盖率 = 六边形内被覆盖人口 / 六边形人口；缺口 = 有人口但覆盖率为 0 "
            "share = covered population / population of the hex; gap = population > 0 and share 0"
        ),
        "色阶固定，所有类别相同 fixed colour scale, the same for every category: "
        + "、".join(f"{b * 100:.0f}%" for b in SHARE_BREAKS),
    ]
    notes += [f"来源 Source（{k}）：{v}" for k, v in prov.items()]
    notes += [str(n) for n in (result.notes or [])]
    if area_tolerance > 0:
        notes.append(
            f"服务范围边界为显示而简化（±{area_tolerance:.0f} 米，小空洞已填充），面积与覆盖率按原始范围计算 "
            f"service-area outlines simplified for display (±{area_tolerance:.0f} m, small holes filled); "
            "areas and shares use the exact areas"
        )
    no_share = [c["label"] for c in cats if not c["ok"]]
    if no_share:
        notes.append("此标准下无覆盖率（无服务半径）no share under this rule: " + "、".join(no_share))
    notes.append(basemap_note(tianditu))
    notes.append(COORDINATES_NOTE)
    return notes


def coverage_map(
    result: CoverageResult,
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    rule: str = "time",
    simplify_m: float = 10.0,
    min_hole_m2: float = 1000.0,
    circles: CirclesResult | None = None,
) -> folium.Map:
    """Build the coverage map as a :class:`folium.Map`.

    Parameters are those of :func:`write_coverage_map` (without *path*).

    Returns
    -------
    folium.Map
        The map, not yet rendered (:func:`jlp_geo.viz.render_offline`).

    Raises
    ------
    InputDataError
        If *rule* is not ``"time"`` or ``"dist"``.
    """
    if rule not in RULE_TEXT:
        raise InputDataError(
            f"unknown coverage rule {rule!r}",
            where="jlp_geo.viz.write_coverage_map(rule=...)",
            fix="use rule='time' (walking minutes) or rule='dist' (network metres)",
        )
    crs = analysis_crs_of(result)
    cats = coverage_categories(result, rule)
    default = default_category(cats)  # a category with data, not an all-red view of an unmapped category
    unweighted = getattr(result.population, "method", "") == "unweighted"
    basis_short = "路网节点数 nodes" if unweighted else "人口 population"

    hexes, bounds = hex_data(result, cats)
    iso, area_tolerance = isochrone_data(result, cats, simplify_m, min_hole_m2)
    after = scenario_data(result, cats, hexes, rule)  # --scenario plan: the before/after toggle
    town, town_rough = unit_data(result.by_township, cats, rule, basis_short, crs, simplify_m)
    cluster, cluster_rough = unit_data(result.by_cluster, cats, rule, basis_short, crs, simplify_m)

    m = new_map(title, COVERAGE_CSS, "jlp_coverage_css")
    base_layers = add_basemaps(m, tianditu_token)

    fg_hex = folium.FeatureGroup(name="hex", control=False, show=True).add_to(m)
    fg_iso = folium.FeatureGroup(name="iso", control=False, show=False).add_to(m)
    fg_town = folium.FeatureGroup(name="town", control=False, show=True).add_to(m) if town else None
    fg_cluster = folium.FeatureGroup(name="cluster", control=False, show=True).add_to(m) if cluster else None
    fg_svc = folium.FeatureGroup(name="svc", control=False, show=True).add_to(m)

    data = {
        "cats": [
            {
                "id": escape_text(c["id"]),
                "label": escape_text(c["label"]),
                "short": escape_text(c["short"]),
                "threshold": escape_text(c["threshold"]),
                "members": [escape_text(x) for x in c["members"]],
                "ok": bool(c["ok"]),
                "whole": None if not math.isfinite(c["whole"]) else round(c["whole"], 4),
                "n": c["n_services"],
                "sparse": escape_text(c.get("sparse", "")),
            }
            for c in cats
        ],
        "def": default,
        "pal": list(SHARE_COLOURS),
        "gap": GAP_COLOUR,
        "gapLine": GAP_OUTLINE,
        "noPop": NO_POPULATION_COLOUR,
        "basis": escape_text(basis_short),
        "ruleShort": escape_text("时间标准 time rule" if rule == "time" else "距离标准 distance rule"),
        "hex": hexes,
        "svc": service_data(result, cats, crs),
        "iso": iso,
        "town": town,
        "cluster": cluster,
        "townDash": "6 4" if (town_rough or cluster_rough) else None,
        "legendHtml": legend_html(cats, default, result.population.label, rule, after["label"] if after else None),
        "after": after,
    }
    CoverageRuntime(data, fg_hex, fg_svc, fg_iso, fg_town, fg_cluster).add_to(m)

    suffix = "（示意）" if town_rough else ""
    coverage_items = [
        ('覆盖率六边形 <span class="jlp-en">coverage hexes</span>', fg_hex),
        ('服务设施（当前类别） <span class="jlp-en">services, selected category</span>', fg_svc),
        ('服务范围（当前类别） <span class="jlp-en">service area, selected category</span>', fg_iso),
    ]
    unit_items = []
    if fg_town is not None:
        unit_items.append((f'镇街{suffix} <span class="jlp-en">townships</span>', fg_town))
    if fg_cluster is not None:
        unit_items.append((f'组团{"（示意）" if cluster_rough else ""} <span class="jlp-en">clusters</span>', fg_cluster))
    if circles is not None and circles.n_units:
        fg_circles = add_circles_layer(m, circles, show=False)
        unit_items.append(('15分钟生活圈单元（示意） <span class="jlp-en">life-circle units</span>', fg_circles))
    groups = {"覆盖分析 Coverage": coverage_items}
    if unit_items:
        groups["统计单元 Units"] = unit_items
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)
    add_map_tools(m, title)
    HtmlBox(
        notes_html(
            _method_notes(result, rule, cats, has_tianditu(base_layers), area_tolerance), title="方法与说明 Method & notes"
        ),
        position="bottomleft",
        css_class="jlp-notes",
    ).add_to(m)

    fit_map(m, bounds, max_zoom=16)
    return m


def write_coverage_map(
    result: CoverageResult,
    path: str | os.PathLike[str],
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    rule: str = "time",
    simplify_m: float = 10.0,
    min_hole_m2: float = 1000.0,
    circles: CirclesResult | None = None,
) -> Path:
    """Write the 15-minute coverage map of *result* as one self-contained HTML page.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.analysis.accessibility.analyse_coverage`.
    path
        Output ``.html`` file (written atomically).
    title
        Page and map title.
    tianditu_token
        Tianditu key; adds the 天地图 basemap when given.
    rule
        ``"time"`` (walking minutes ≤ the category's level) or ``"dist"``
        (network metres ≤ the category's radius; categories without a radius
        are listed but cannot be selected).
    simplify_m
        Douglas-Peucker tolerance in metres for 镇街/组团 outlines, and the
        smallest one for service areas (raised with the extent and a vertex budget,
        see :func:`jlp_geo.viz.coverage_areas.isochrone_data`; the tolerance used is
        stated in the method notes).  H3 hexes are drawn from their centres and one
        shared hexagon (within 2 m, :mod:`jlp_geo.viz.coverage_hexes`).
    min_hole_m2
        Holes smaller than this (m²) are filled in the drawn service areas: the
        25 m street corridors leave many tiny holes that cost size and show
        nothing.  The figures (coverage shares, ``area_km2``) are not affected.
    circles
        Life-circle units (:func:`jlp_geo.analysis.circles.analyse_circles`) shown as an extra
        overlay with their checklist popups; None = no units layer.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputDataError
        If *rule* is not ``"time"`` or ``"dist"``.
    OutputError
        If the page cannot be written.
    """
    m = coverage_map(
        result, title=title, tianditu_token=tianditu_token, rule=rule, simplify_m=simplify_m, min_hole_m2=min_hole_m2,
        circles=circles,
    )
    return write_page(m, path)
