"""The 15分钟生活圈单元 map: units coloured by score, popups with the checklist (✓/✗) and the gaps.

* :func:`add_circles_layer` — adds the units (and pilot markers) to any folium map as one overlay, so
  other maps (the coverage map) can show them;
* :func:`circles_map` / :func:`write_circles_map` — the ``maps/circles.html`` page (offline, Chinese UI).

Every value from data (OSM names, file names) goes through :func:`jlp_geo.viz.escape.popup_html` /
:func:`escape_text` before it reaches the page.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import folium

from ..analysis.circles import CirclesResult
from ..layers.common import PRECISION_ZH
from ..styles import style_for
from .controls import GroupedLayers, HtmlBox, notes_html
from .escape import escape_text, popup_html, safe_colour
from .geometry import display_frame, rounded_geojson
from .page import add_basemaps, add_map_tools, basemap_note, fit_map, has_tianditu, new_map, write_page

__all__ = ["DEFAULT_TITLE", "add_circles_layer", "circles_map", "score_colour", "write_circles_map"]

DEFAULT_TITLE = "九龙坡区 15分钟生活圈单元 Life-circle units"
NO_DATA_COLOUR = "#9e9e9e"


def score_colour(score: float) -> str:
    """Fill colour of a unit by its score, from the graduated classes of ``layers/styles.yml`` (grey: 无数据)."""
    style = style_for("life_circles")
    if score is None or not math.isfinite(float(score)) or not style.graduated:
        return NO_DATA_COLOUR
    for i, c in enumerate(style.graduated):
        last = i == len(style.graduated) - 1
        if c.lower <= score < c.upper or (last and score <= c.upper):
            return c.colour
    return NO_DATA_COLOUR


def _popup(row, result: CirclesResult) -> str:
    pop = row["population"]
    rows: list[tuple[str, object]] = [
        ("镇街", row["township"]),
        ("人口(估)", "无数据" if pop != pop else f"{pop:,.0f}（{row['population_flag']}）"),
        ("15分钟步行可达中心", "无数据" if row["compactness"] != row["compactness"] else f"{row['compactness']:.0%}"),
        ("中心", row["centre_zh"]),
        ("得分(基础保障)", "无数据" if row["score"] != row["score"] else f"{int(row['n_basic_met'])}/{int(row['n_basic'])}"),
    ]
    ck = result.checklist[result.checklist["unit"] == int(row["_unit"])]
    for r in ck.sort_values("basic", ascending=False, kind="stable").itertuples():
        mark = "无数据" if r.met is None else ("✓" if r.met else "✗")
        share = "" if r.share_time != r.share_time else f" {r.share_time:.0%}"
        supply = "" if r.per_capita == "无数据" else f"；{r.per_capita}"
        rows.append((f"{r.category_zh}[{r.level}]", f"{mark}{share}（单元内 {int(r.n_inside)} 处{supply}）"))
    rows += [
        ("缺项", row["gaps_zh"]),
        ("示范/试点", row["pilot"]),
        ("精度", f"{PRECISION_ZH.get(row['precision'], row['precision'])} {row['precision']}"),
        ("来源", row["source"]),
    ]
    return popup_html(row["name_zh"], rows, subtitle=row["unit_id"])


def add_circles_layer(m: folium.Map, result: CirclesResult, *, show: bool = True, simplify_m: float = 5.0) -> folium.FeatureGroup:
    """Add the life-circle units to *m* as one overlay (not yet in a layer control).

    Parameters
    ----------
    m
        Any folium map (e.g. the coverage map).
    result
        Output of :func:`jlp_geo.analysis.circles.analyse_circles`.
    show
        Whether the overlay starts visible.
    simplify_m
        Douglas-Peucker tolerance in metres.

    Returns
    -------
    folium.FeatureGroup
        The overlay, to list in the map's layer control.
    """
    fg = folium.FeatureGroup(name="life_circles", control=False, show=show).add_to(m)
    units = result.units.assign(_unit=range(len(result.units)))
    shown = display_frame(units, simplify_m)
    if shown is None or len(shown) == 0:
        return fg
    for _, row in shown.iterrows():
        colour = safe_colour(score_colour(row["score"]))
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": rounded_geojson(row.geometry)},
            style_function=lambda _f, c=colour: {"color": "#333333", "weight": 1.2, "fillColor": c, "fillOpacity": 0.5},
            tooltip=folium.Tooltip(escape_text(f"{row['name_zh']}（{row['unit_id']}）")),
            popup=folium.Popup(_popup(row, result), max_width=440, max_height=480),
        ).add_to(fg)
    for r in result.pilots.itertuples():
        if not r.unit_id:
            continue
        hit = shown[shown["unit_id"] == r.unit_id]
        if len(hit):
            pt = hit.geometry.iloc[0].representative_point()
            folium.Marker(
                [pt.y, pt.x],
                tooltip=folium.Tooltip(escape_text(f"示范/试点：{r.name_zh}")),
                popup=folium.Popup(popup_html(r.name_zh, [("项目", r.programme), ("单元", r.unit_id), ("定位", r.basis), ("来源", r.source)]), max_width=360),
            ).add_to(fg)
    return fg


def _legend(result: CirclesResult) -> str:
    style = style_for("life_circles")
    items = [f'<div><span class="jlp-swatch" style="display:inline-block;width:14px;height:10px;background:{safe_colour(c.colour)}"></span> '
             f"{escape_text(c.label_zh)}</div>" for c in style.graduated]
    items.append(f'<div><span class="jlp-swatch" style="display:inline-block;width:14px;height:10px;background:{NO_DATA_COLOUR}"></span> 无数据</div>')
    share = result.share_all_basic
    head = (f"<b>15分钟生活圈单元</b><br>{result.n_units} 个单元；基础保障全部达标 "
            f"{'无数据' if share != share else f'{share:.0%}'}<br><i>{escape_text(style.graduated_unit)}</i>")
    return head + "".join(items)


def circles_map(result: CirclesResult, *, title: str = DEFAULT_TITLE, tianditu_token: str | None = None,
                notes: Sequence[str] = (), simplify_m: float = 5.0) -> folium.Map:
    """Build the life-circle map as a :class:`folium.Map` (parameters as :func:`write_circles_map`)."""
    m = new_map(title)
    base_layers = add_basemaps(m, tianditu_token)
    fg = add_circles_layer(m, result, simplify_m=simplify_m)
    label = "生活圈单元（示意）" if result.method == "delineated" else "生活圈单元"
    GroupedLayers(base_layers, {"15分钟生活圈 Life circles": [(f'{label} <span class="jlp-en">units by score</span>', fg)]},
                  collapsed=False, position="topright").add_to(m)
    add_map_tools(m, title)
    HtmlBox(_legend(result), position="bottomright", css_class="jlp-legend").add_to(m)
    all_notes = list(result.notes) + list(notes) + [
        f"人口口径 Population: {result.population_basis}",
        f"达标: 单元居民按人口加权 ≥ {result.params.met_share:.0%} 在该类设施的步行时间标准内 ({result.params.met_source})",
        basemap_note(has_tianditu(base_layers)),
        "坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84.",
    ]
    HtmlBox(notes_html(all_notes, title="方法与说明 Method & notes"), position="bottomleft", css_class="jlp-notes").add_to(m)
    shown = display_frame(result.units, simplify_m)
    fit_map(m, shown.total_bounds if shown is not None and len(shown) else None, max_zoom=15)
    return m


def write_circles_map(result: CirclesResult, path: str | os.PathLike[str], *, title: str = DEFAULT_TITLE,
                      tianditu_token: str | None = None, notes: Sequence[str] = (), simplify_m: float = 5.0) -> Path:
    """Write ``maps/circles.html``: one self-contained page that opens offline.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.analysis.circles.analyse_circles`.
    path
        Output ``.html`` (written atomically).
    title, tianditu_token, notes, simplify_m
        Page title, 天地图 key, extra notes, simplification tolerance (m).

    Returns
    -------
    Path
    """
    return write_page(circles_map(result, title=title, tianditu_token=tianditu_token, notes=notes, simplify_m=simplify_m), path)
