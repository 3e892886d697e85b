"""jlp_geo.viz: escaping, offline pages, the atlas -- checked as text and in headless Chromium.

The layers here are synthetic (test-only) shapes near Jiulongpo; names include
hostile strings that would run script if any path forgot to escape them.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import json
import math
import os
import re
from pathlib import Path

import folium
import folium.plugins
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from jlp_geo.errors import CRSError, OutputError
from jlp_geo.layers.common import finish_layer
from jlp_geo.viz import write_atlas, escape_text, external_references, popup_html, render_offline, save_map
from jlp_geo.viz.atlas import atlas_map
from jlp_geo.viz.escape import escape_multiline, script_json

HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "</script><script>window.__pwned=1</script>",
    "`${window.__pwned=1}`",
    "\\'); window.__pwned=1;//",
]
VIZ_DIR = Path(__file__).resolve().parent.parent / "jlp_geo" / "viz"


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (HOSTILE[0], "&lt;img src=x onerror=window.__pwned=1&gt;"),
        (HOSTILE[1], "&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;"),
        (HOSTILE[2], "&#96;&#36;&#123;window.__pwned=1}&#96;"),
        (HOSTILE[3], "&#92;&#39;); window.__pwned=1;//"),
        ('a "b" & c', "a &quot;b&quot; &amp; c"),
        ("行1\n行2\r\n", "行1&#10;行2&#13;&#10;"),
        ("x\u2028y\u2029", "x&#8232;y&#8233;"),
        ("bell\x07nul\x00tab\t", "bellnultab\t"),
        ("杨家坪街道 Yangjiaping", "杨家坪街道 Yangjiaping"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_escape_text_exact(raw: str, expected: str) -> None:
    assert escape_text(raw) == expected


def test_escape_text_non_strings() -> None:
    assert escape_text(None) == ""
    assert escape_text(float("nan")) == ""
    assert escape_text(12) == "12"
    assert escape_text(2.5) == "2.5"


@pytest.mark.parametrize("raw", HOSTILE + ["九龙坡 <b>&amp;</b> ${x} `y` \\n 'q' \"d\"\n第二行", "{{ 7*7 }}"])
def test_escape_text_is_inert_and_faithful(raw: str) -> None:
    out = escape_text(raw)
    # nothing left that opens a tag/attribute/string/template literal/substitution or escape
    assert not set(out) & set("<>\"'`$\\{\n\r\u2028\u2029")
    # ... and the browser shows exactly the original text
    assert htmllib.unescape(out) == raw


def test_escape_multiline_and_popup_html_exact() -> None:
    assert escape_multiline("a\r\nb\nc") == "a<br>b<br>c"
    got = popup_html("<b>名</b>", [("来源 source", "规划 `第1条`"), ("空 empty", None), ("n", 0)], subtitle="N'1")
    assert got == (
        '<div class="jlp-popup"><b>&lt;b&gt;名&lt;/b&gt;</b><br><i>N&#39;1</i>'
        "<table><tr><th>来源 source</th><td>规划 &#96;第1条&#96;</td></tr>"
        "<tr><th>n</th><td>0</td></tr></table></div>"
    )


def test_script_json_cannot_close_the_script() -> None:
    obj = {"p": "<b>杨家坪</b></script><!--x", "q": "a\u2028b", "n": [1.5, None]}
    text = script_json(obj)
    assert text == '{"p":"<b>杨家坪<\\/b><\\/script>\\u003c!--x","q":"a\\u2028b","n":[1.5,null]}'
    assert json.loads(text) == obj
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


# ---------------------------------------------------------------- offline pages


def _plain_map() -> folium.Map:
    return folium.Map(tiles=None, location=[29.5, 106.5], zoom_start=12)


def test_render_offline_inlines_only_what_is_needed() -> None:
    m = _plain_map()
    folium.CircleMarker([29.5, 106.5], radius=5).add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    page = render_offline(m)
    assert external_references(page) == []
    assert "https://cdn" not in page and "bootstrap" not in page.lower()
    assert "(jlp_geo vendored)" in page and "leaflet/leaflet.js" in page
    assert "leaflet.fullscreen/Control.FullScreen.js" in page
    assert "jquery/jquery.min.js" not in page  # nothing uses $ here
    assert "default marker images" not in page  # no L.marker


def test_render_offline_adds_jquery_and_marker_images_when_used() -> None:
    m = _plain_map()
    folium.Marker([29.5, 106.5], popup=folium.Popup("<b>弹窗</b>")).add_to(m)  # Popup(Html) uses $(...)
    page = render_offline(m)
    assert external_references(page) == []
    assert "jquery/jquery.min.js" in page
    assert "default marker images" in page


def test_render_offline_refuses_unbundled_resources() -> None:
    m = _plain_map()
    folium.Marker([29.5, 106.5], icon=folium.Icon(icon="info-sign")).add_to(m)
    with pytest.raises(OutputError, match="awesome-markers"):
        render_offline(m)
    m = _plain_map()
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(OutputError, match="no vendored offline copy"):
        render_offline(m)


def test_external_references_detects_every_fetch() -> None:
    page = (
        '<html><head><script src="https://x.org/a.js"></script>'
        "<link rel='stylesheet' href='//cdn.example/b.css'/>"
        '<link rel="icon" href="favicon.ico">'
        "<style>body{background:url(http://x.org/bg.png)} @import 'c.css';</style></head>"
        '<body><img src="http://x.org/i.png"><div style="background:url(\'d.png\')"></div>'
        '<a href="https://www.openstreetmap.org/copyright">ok</a><img src="data:image/png;base64,AA">'
        '<script>var tiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"; var s = \'<img src="http://no">\';</script>'
        '<script src="local.js"></script></body></html>'
    )
    found = external_references(page)
    assert found == [
        "<script src=https://x.org/a.js>",
        "<link href=//cdn.example/b.css>",
        "<link href=favicon.ico>",
        "<img src=http://x.org/i.png>",
        "<script src=local.js>",
        "css url(http://x.org/bg.png)",
        "css @import 'c.css'",
        "css url(d.png)",
    ]


def test_save_map_is_atomic(tmp_path: Path) -> None:
    m = _plain_map()
    target = tmp_path / "sub" / "map.html"
    assert save_map(m, target) == target
    first = target.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>") and external_references(first) == []
    # a page with an external script is refused and the previous file stays untouched
    with pytest.raises(OutputError):
        save_map('<script src="https://x.org/a.js"></script>', target)
    assert target.read_text(encoding="utf-8") == first
    # a folder that cannot be created: OutputError, no temp files left anywhere
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="could not write"):
        save_map(m, blocker / "map.html")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["file.txt", "map.html", "sub"]


def test_vendored_assets_match_manifest() -> None:
    assets = VIZ_DIR / "assets"
    manifest = json.loads((assets / "MANIFEST.json").read_text(encoding="utf-8"))
    names = {p["name"]: p for p in manifest["packages"]}
    assert set(names) == {"leaflet", "leaflet.fullscreen", "leaflet-groupedlayercontrol", "jquery"}
    assert names["leaflet"]["version"] == "1.9.4" and names["leaflet"]["licence"] == "BSD-2-Clause"
    for pkg in manifest["packages"]:
        for fname, sha in pkg["files"].items():
            data = (assets / pkg["dir"] / fname).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha, fname
        assert any(f.startswith("LICENSE") for f in pkg["files"]), pkg["name"]
    for css in assets.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert re.findall(r"url\(\s*(?!['\"]?data:)", text) == [], css.name


def test_viz_reprojects_only_through_crs_module() -> None:
    for py in VIZ_DIR.glob("*.py"):
        assert ".to_crs(" not in py.read_text(encoding="utf-8"), py.name


# ---------------------------------------------------------------- the atlas

# synthetic test layers near Jiulongpo (not real places)
POINT_UNCERTAINTY = [500.0, 800.0, 1200.0, 300.0]


def _layers() -> dict:
    parks = finish_layer(
        [
            {"name_zh": HOSTILE[i], "name_en": HOSTILE[(i + 1) % 4], "source": f"测试 test {HOSTILE[(i + 2) % 4]}",
             "precision": "indicative", "uncertainty_m": POINT_UNCERTAINTY[i], "kind": ["一港", "九园", "三区", HOSTILE[3]][i]}
            for i in range(4)
        ]
        + [{"name_zh": "无法定位的园区", "name_en": "unplaced park", "source": "测试 test", "precision": "indicative",
            "uncertainty_m": np.nan, "kind": "九园"}],
        geometry=[Point(106.40 + 0.03 * i, 29.45 + 0.01 * i) for i in range(4)] + [None],
        layer="parks",
    )
    townships = finish_layer(
        [{"name_zh": "示意镇街", "name_en": "Schematic town", "source": "测试 test", "precision": "schematic",
          "uncertainty_m": 1000.0, "administered_by": "district"}],
        geometry=[Polygon([(106.38, 29.42), (106.50, 29.42), (106.50, 29.50), (106.38, 29.50)])],
        layer="townships",
    )
    transport = finish_layer(
        [{"name_zh": "示意线路", "name_en": "Schematic line", "source": "测试 test", "precision": "schematic",
          "uncertainty_m": 2000.0, "mode": "metro"}],
        geometry=[LineString([(106.39, 29.43), (106.45, 29.47), (106.49, 29.49)])],
        layer="transport_projects",
    )
    out = {"parks": parks, "townships": townships, "transport_projects": transport}
    for i, title in enumerate(HOSTILE):  # hostile layer titles (unknown layers -> default style, group 其他 Other)
        out[title] = finish_layer(
            [{"name_zh": title, "name_en": "x", "source": title, "precision": "surveyed", "uncertainty_m": np.nan}],
            geometry=[Point(106.42 + 0.02 * i, 29.48)],
            layer="hostile",
        )
    return out


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("atlas") / "atlas.html"
    notes = ["镇街边界为示意 township boundaries are schematic", HOSTILE[1]]
    return write_atlas(_layers(), path, notes=notes, tianditu_token="abc<def>&'`${}")


def _embedded_layers(page: str) -> list[tuple[dict, list]]:
    out = []
    for m in re.finditer(r"jlpAtlas\.addLayer\(\w+, (\{.*?\}), (\[.*?\])\);\n", page):
        out.append((json.loads(m.group(1)), json.loads(m.group(2))))
    return out


def test_atlas_page_is_self_contained_and_escaped(atlas: Path) -> None:
    page = atlas.read_text(encoding="utf-8")
    assert '<script src="http' not in page and '<link href="http' not in page
    assert re.search(r"<(?:script|link)\b[^>]*(?:src|href)=[\"']?(?:https?:)?//", page) is None
    assert external_references(page) == []
    for raw in HOSTILE:
        assert raw not in page  # every data path escaped
    assert "<title>九龙坡区规划图集 Jiulongpo planning atlas</title>" in page
    assert page.count('<html lang="zh-CN">') == 1
    # the Tianditu token is URL-encoded into both tile URLs, never raw
    assert page.count("tk=abc%3Cdef%3E%26%27%60%24%7B%7D") == 2
    assert os.path.getsize(atlas) < 400_000


def test_atlas_embedded_data(atlas: Path) -> None:
    layers = _embedded_layers(atlas.read_text(encoding="utf-8"))
    # parks (4 placed), townships, transport, 4 hostile-title layers
    assert len(layers) == 7
    points = [f for parts, _ in layers for f in parts.get("points", {}).get("features", [])]
    assert len(points) == 4 + 4
    radii = sorted(f["properties"]["r"] for f in points if f["properties"]["r"] > 0)
    assert radii == sorted(POINT_UNCERTAINTY)  # surveyed points get no circle
    for parts, _ in layers:
        for fc in parts.values():
            for f in fc["features"]:
                coords = re.findall(r"-?\d+\.\d+", json.dumps(f["geometry"]["coordinates"]))
                assert all(len(c.split(".")[1]) <= 5 for c in coords)
                assert set(f["properties"]) == {"k", "p", "t", "r"}
    popups = " ".join(f["properties"]["p"] for f in points)
    assert escape_text(HOSTILE[1]) in popups
    assert "精度 precision</th><td>示意（估计位置） indicative" in popups
    assert "不确定性 uncertainty</th><td>±1,200 米 m" in popups
    styles = {json.dumps(s) for _, st in layers for s in st}
    assert any('"dash": "8 6"' in s for s in styles)  # transport_projects style dash
    assert any('"dash": "6 4"' in s for s in styles)  # schematic township


def test_atlas_simplifies_in_metres(tmp_path: Path) -> None:
    # a ~1 km square in the analysis CRS with one vertex 2 m off a straight edge and one 40 m off
    from jlp_geo.crs import to_analysis
    import geopandas as gpd

    base = gpd.GeoDataFrame(geometry=[Point(106.45, 29.45)], crs="EPSG:4490")
    x0, y0 = to_analysis(base).geometry.iloc[0].coords[0]
    ring = [(x0, y0), (x0 + 500, y0 - 2), (x0 + 1000, y0), (x0 + 1040, y0 + 500), (x0 + 1000, y0 + 1000), (x0, y0 + 1000)]
    metric = gpd.GeoDataFrame(
        {"name_zh": ["方块"], "name_en": ["square"], "source": ["测试"], "precision": ["surveyed"], "uncertainty_m": [np.nan]},
        geometry=[Polygon(ring)],
        crs="EPSG:4544",
    )
    page = render_offline(atlas_map({"district": metric}, simplify_m=5.0))
    (parts, _), = _embedded_layers(page)
    ring_out = parts["areas"]["features"][0]["geometry"]["coordinates"][0]
    assert len(ring_out) == 6  # 5 corners kept (the 40 m bulge stays) + closing vertex; the 2 m kink is gone


def test_atlas_without_token_has_no_tianditu(tmp_path: Path) -> None:
    page = write_atlas({"townships": _layers()["townships"]}, tmp_path / "a.html").read_text(encoding="utf-8")
    assert "tianditu" not in page.lower() and "天地图" not in page
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page  # offered, not shown at start
    assert "镇街（示意）" in page


def test_atlas_requires_crs(tmp_path: Path) -> None:
    layer = _layers()["townships"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="townships"):
        write_atlas({"townships": layer}, tmp_path / "x.html")


# ---------------------------------------------------------------- in the browser

MAP_JS = "Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map).map(k => window[k])[0]"


@pytest.mark.browser
def test_atlas_in_chromium_offline(atlas: Path, browser_page) -> None:
    rep = browser_page(atlas)
    page = rep.page
    assert rep.external_requests == []
    assert rep.page_errors == []
    assert rep.console_errors == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".leaflet-container").count() == 1

    groups = page.locator(".leaflet-control-layers-group-name").all_inner_texts()
    assert [g.strip() for g in groups] == ["产业园区 Industrial parks", "行政区划 Administrative", "交通项目 Transport", "其他 Other"]
    labels = [t.strip() for t in page.locator(".leaflet-control-layers-overlays label span:not(.jlp-en)").all_inner_texts()]
    for expected in ["一港九园三区（示意）", "镇街（示意）", "重大交通项目（专栏19）（示意）"] + HOSTILE:
        assert any(lbl.startswith(expected) for lbl in labels), expected
    assert page.locator(".leaflet-control-layers-overlays input[type=checkbox]").count() == 7
    assert page.locator(".leaflet-control-layers-base input[type=radio]").count() == 3  # none, OSM, Tianditu

    legend = page.locator(".jlp-legend").inner_text()
    assert "另有 1 项无法定位，见表格" in legend
    assert "示意位置：圆圈半径为不确定性" in legend
    notes = page.locator(".jlp-notes").inner_text()
    assert "说明 Notes（5）" in notes

    # what is drawn: 1 polygon + 4 uncertainty circles in the area pane, 1 line, 8 centre markers
    assert page.locator(".leaflet-jlpAreas-pane path.leaflet-interactive").count() == 1 + 4
    assert page.locator(".leaflet-jlpLines-pane path.leaflet-interactive").count() == 1
    assert page.locator(".leaflet-jlpPoints-pane path.leaflet-interactive").count() == 8
    radii = page.evaluate(f"(() => {{ const r = []; ({MAP_JS}).eachLayer(l => {{ if (l instanceof L.Circle) r.push(l.getRadius()); }}); return r.sort((a, b) => a - b); }})()")
    assert radii == sorted(POINT_UNCERTAINTY)
    dash = page.locator(".leaflet-jlpLines-pane path.leaflet-interactive").get_attribute("stroke-dasharray")
    assert dash == "8 6"

    # open every popup and tooltip: hostile names show as text and run nothing
    texts = page.evaluate(
        f"""(() => {{
            const out = [];
            ({MAP_JS}).eachLayer(l => {{
                if (l.feature && l.getPopup && l.getPopup()) {{
                    l.openPopup();
                    out.push(l.getPopup().getElement().querySelector('.leaflet-popup-content').innerText);
                    l.closePopup();
                    if (l.getTooltip && l.getTooltip()) {{
                        l.openTooltip();
                        out.push('tooltip: ' + l.getTooltip().getElement().innerText);
                        l.closeTooltip();
                    }}
                }}
            }});
            return out;
        }})()"""
    )
    popups = [t for t in texts if not t.startswith("tooltip: ")]
    tooltips = [t[len("tooltip: "):] for t in texts if t.startswith("tooltip: ")]
    assert len(popups) == len(tooltips) == 1 + 1 + 8
    assert sorted(tooltips) == sorted(["示意镇街", "示意线路"] + HOSTILE + HOSTILE)
    joined = "\n".join(popups)
    for raw in HOSTILE:
        assert raw in joined
    assert "来源 source" in joined and "±800 米 m" in joined
    page.wait_for_timeout(400)  # closed popups fade out for 200 ms
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".leaflet-popup").count() == 0

    # a real click on a centre marker opens its popup
    page.locator(".leaflet-jlpPoints-pane path.leaflet-interactive").first.click(force=True)
    assert page.locator(".leaflet-popup-content .jlp-popup").count() == 1

    # unticking the parks layer removes its 4 markers + 4 circles and hides its legend entry
    assert page.locator("#jlp-legend-0").is_visible()
    page.locator(".leaflet-control-layers-overlays input[type=checkbox]").first.uncheck()
    assert page.locator(".leaflet-jlpPoints-pane path.leaflet-interactive").count() == 8 - 4
    assert page.locator(".leaflet-jlpAreas-pane path.leaflet-interactive").count() == 1
    assert not page.locator("#jlp-legend-0").is_visible()

    # fullscreen toggles on and off
    page.locator(".leaflet-control-zoom-fullscreen").click()
    page.wait_for_function("!!document.fullscreenElement")
    page.locator(".leaflet-control-zoom-fullscreen").click()
    page.wait_for_function("!document.fullscreenElement")

    assert rep.page_errors == [] and rep.console_errors == [] and rep.external_requests == []
    assert page.evaluate("typeof window.__pwned") == "undefined"


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float, r: float = 6371000.0) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.mark.browser
def test_measure_tool_numbers(atlas: Path, browser_page) -> None:
    rep = browser_page(atlas)
    page = rep.page
    page.locator(".jlp-measure-btn").click()
    clicks = [(400, 500), (700, 500), (700, 300)]
    for x, y in clicks:
        page.mouse.click(x, y)
        page.wait_for_timeout(350)  # longer than a double-click interval
    latlngs = page.evaluate(
        f"(pts => {{ const m = {MAP_JS}; const o = m.getContainer().getBoundingClientRect(); "
        "return pts.map(p => { const ll = m.containerPointToLatLng([p[0] - o.left, p[1] - o.top]); return [ll.lat, ll.lng]; }); })",
        clicks,
    )
    result = page.locator(".jlp-measure-result")
    metres = float(result.get_attribute("data-metres"))
    area = float(result.get_attribute("data-square-metres"))
    assert int(result.get_attribute("data-points")) == 3
    expected = sum(_haversine(*latlngs[i], *latlngs[i + 1]) for i in range(2))
    assert metres == pytest.approx(expected, rel=1e-6)
    geod = Geod(ellps="WGS84")
    lats, lons = [p[0] for p in latlngs], [p[1] for p in latlngs]
    ellipsoid_len = sum(geod.inv(lons[i], lats[i], lons[i + 1], lats[i + 1])[2] for i in range(2))
    assert metres == pytest.approx(ellipsoid_len, rel=5e-3)
    ellipsoid_area = abs(geod.polygon_area_perimeter(lons, lats)[0])
    assert area == pytest.approx(ellipsoid_area, rel=1e-2)
    assert "距离 Distance" in result.inner_text() and "面积 Area" in result.inner_text()
    page.locator(".jlp-measure-clear").click()
    assert page.locator(".jlp-measure-result").count() == 0
    assert rep.page_errors == [] and rep.console_errors == [] and rep.external_requests == []


@pytest.mark.browser
def test_online_basemap_fails_gracefully_offline(atlas: Path, browser_page) -> None:
    rep = browser_page(atlas)
    page = rep.page
    page.locator(".leaflet-control-layers-base label", has_text="OpenStreetMap").click()
    page.wait_for_timeout(300)
    assert rep.external_requests and all(u.startswith("https://tile.openstreetmap.org/") for u in rep.external_requests)
    assert rep.page_errors == []  # failed tiles are not script errors; the layers still draw
    assert page.locator(".leaflet-jlpPoints-pane path.leaflet-interactive").count() == 8
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
