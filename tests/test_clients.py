"""The outputs in the real clients: GDAL's GeoPackage validator, headless QGIS (PyQGIS) and openpyxl.

GDAL's ``validate_gpkg.py`` and PyQGIS come from Debian (``gdal-bin python3-gdal python3-qgis
qgis-providers``; ``make test`` installs them). They live in the system Python, so they run as
subprocesses. Without them the checks are skipped locally and fail on CI.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pyogrio
import pytest
import shapely

from jlp_geo.cli import main

SYSTEM_PYTHON = "/usr/bin/python3"
HERE = Path(__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
GREY = "#555555"  # jlp_geo.styles fallback colour for layers with no style


def _need(module: str) -> None:
    """Skip (locally) or fail (on CI) when the system Python lacks *module*."""
    ok = Path(SYSTEM_PYTHON).exists() and subprocess.run(
        [SYSTEM_PYTHON, "-c", f"import {module}"], capture_output=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    ).returncode == 0
    if not ok:
        message = f"{SYSTEM_PYTHON} cannot import {module}: apt-get install -y python3-qgis qgis-providers gdal-bin python3-gdal (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The default build plus coverage on the hand-made OSM fixture: all three GeoPackages."""
    out = tmp_path_factory.mktemp("clients")
    assert main(["build", "--out", str(out), "--osm", str(HERE / "data" / "jlp_tiny.osm"), "--quiet"]) == 0
    return out


def _gpkgs(out: Path) -> list[Path]:
    """Every GeoPackage of the build, ``jiulongpo.gpkg`` first (the one rendered with all its layers)."""
    files = sorted(out.glob("*.gpkg"), key=lambda f: (f.name != "jiulongpo.gpkg", f.name))
    assert {"coverage.gpkg", "jiulongpo.gpkg", "waste.gpkg"} <= {f.name for f in files}
    return files


def test_every_geopackage_passes_gdal_validator(built: Path) -> None:
    _need("osgeo_utils.samples.validate_gpkg")
    for gpkg in _gpkgs(built):
        run = subprocess.run([SYSTEM_PYTHON, "-m", "osgeo_utils.samples.validate_gpkg", str(gpkg)], capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip() == "" and "Traceback" not in run.stderr, (gpkg.name, run.stdout, run.stderr)
        info = subprocess.run(["ogrinfo", "-q", "-so", "-al", str(gpkg)], capture_output=True, text=True)
        assert info.returncode == 0 and "Warning" not in info.stderr, info.stderr  # GDAL reads it without a warning


def test_timestamps_have_milliseconds_and_geometries_are_valid(built: Path) -> None:
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # GPKG 1.2 Req. 15
    for gpkg in _gpkgs(built):
        with sqlite3.connect(gpkg) as con:
            stamps = [r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")]
            stamps += [r[0] for r in con.execute("SELECT update_time FROM layer_styles")]
            stamps += [r[0] for r in con.execute("SELECT timestamp FROM gpkg_metadata_reference")]
        assert len(stamps) > 10 and all(stamp.match(s) for s in stamps), (gpkg.name, [s for s in stamps if not stamp.match(s)])
        for layer, geometry_type in pyogrio.list_layers(gpkg):
            if layer == "layer_styles":
                continue
            geoms = pyogrio.read_dataframe(gpkg, layer=layer).geometry
            present = geoms[geoms.notna()]
            assert shapely.is_valid(present.values).all(), (gpkg.name, layer)
            families = {t.replace("Multi", "") for t in present.geom_type}
            assert len(families) <= 1, (gpkg.name, layer, families)  # one geometry type per layer


def test_mixed_layers_are_split_by_geometry(built: Path) -> None:
    layers = dict(pyogrio.list_layers(built / "jiulongpo.gpkg"))
    assert layers["transport_projects_lines"] == "LineString" and layers["transport_projects_points"] == "Point"
    lines = pyogrio.read_dataframe(built / "jiulongpo.gpkg", layer="transport_projects_lines")
    points = pyogrio.read_dataframe(built / "jiulongpo.gpkg", layer="transport_projects_points")
    # 专栏19: 24 lines + 8 points located, 12 items listed without geometry (kept with the lines)
    assert len(points) == 8 and len(lines) == 36 and int(lines.geometry.isna().sum()) == 12
    csv = (built / "tables" / "transport_projects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(csv) - 1 == 44  # the table keeps one row per item


@pytest.fixture(scope="module")
def qgis(built: Path, tmp_path_factory) -> dict:
    _need("qgis.core")
    png = tmp_path_factory.mktemp("qgis") / "jiulongpo.png"
    run = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "clients" / "qgis_check.py"), str(png), *map(str, _gpkgs(built))],
        capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    report["png"] = png
    return report


def test_qgis_places_labels_of_all_layers(qgis: dict) -> None:
    assert qgis["png"].stat().st_size > 10_000
    assert qgis["labels_placed"] >= 40, qgis["labels_by_layer"]
    # the polygon layers place labels too (their interiors no longer block every label)
    assert all(qgis["labels_by_layer"].get(n, 0) > 0 for n in ("townships", "clusters")), qgis["labels_by_layer"]
    for info in qgis["files"].values():
        for name, layer in info.items():
            if layer["labels_enabled"]:
                assert (layer["obstacle_type"], layer["priority"], layer["placement_flags"]) == (1, 5, 10), name


def test_qgis_draws_every_point_with_a_marker(qgis: dict) -> None:
    checked = 0
    for info in qgis["files"].values():
        for name, layer in info.items():
            if layer["geometry"] == "Point" and layer["features"]:
                assert layer["symbol_types"] == [0], name  # QgsSymbol.Marker
                if "points_located" in layer and name != "access_nodes":
                    assert layer["points_drawn"] == layer["points_located"] > 0, (name, layer)
                    checked += layer["points_located"]
    assert checked >= 8 + 3 + 8 + 3  # parks, waste facilities, 专栏19 points, waste.gpkg facilities (+ OSM services)


def test_qgis_styles_are_not_grey_and_legends_are_chinese(qgis: dict) -> None:
    files = {Path(p).name: info for p, info in qgis["files"].items()}
    for gpkg, info in files.items():
        for name, layer in info.items():
            if not layer["features"] or layer["geometry"] == "No geometry":  # nothing to draw (plan items not located)
                continue
            assert layer["colours"] and layer["colours"] != [GREY], (gpkg, name, layer["colours"])
            if layer["renderer"] in ("categorizedSymbol", "graduatedSymbol"):
                assert all(CJK.search(label) or "%" in label for label in layer["legend"]), (name, layer["legend"])
            assert CJK.search(layer["md_title"]), (gpkg, name)
    for name in ("coverage_hex", "coverage_townships", "coverage_clusters"):
        assert files["coverage.gpkg"][name]["renderer"] == "graduatedSymbol"
    assert files["waste.gpkg"]["waste_generation"]["renderer"] == "graduatedSymbol"
    assert "装修垃圾分选场" in files["jiulongpo.gpkg"]["waste_facilities"]["legend"]
    assert "高速铁路" in files["jiulongpo.gpkg"]["transport_projects_lines"]["legend"]
    # QMD metadata QGIS shows in layer properties: sources and licences
    towns = files["jiulongpo.gpkg"]["townships"]
    assert any("ODbL" in x for x in towns["md_licences"]) and "sources" in towns["md_abstract"]
    assert any("ODbL" in x for x in files["coverage.gpkg"]["services_points"]["md_licences"])


def test_workbooks_open_formatted_with_chinese_headers(built: Path) -> None:
    import openpyxl

    books = sorted((built / "tables").glob("*.xlsx"))
    assert {"coverage.xlsx", "indicators.xlsx"} <= {b.name for b in books}
    opened = {}
    for book in books:
        wb = opened[book.name] = openpyxl.load_workbook(book)
        assert wb.sheetnames[-1] == "列说明"  # the format and rounding rule of every column, stated once
        legend = {(r[0], r[2]) for r in wb["列说明"].iter_rows(min_row=2, values_only=True)}
        for ws in wb.worksheets:
            assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}", (book.name, ws.title)
            header = [c for c in ws[1]]
            assert all(c.font.bold for c in header), (book.name, ws.title)
            widths = [ws.column_dimensions[c.column_letter].width for c in header]
            assert all(8 <= w <= 62 for w in widths), (book.name, ws.title, widths)
            if book.name in ("coverage.xlsx", "indicators.xlsx"):
                english = [c.value for c in header if not CJK.search(str(c.value))]
                assert not english, f"{book.name} / {ws.title}: give {english} a Chinese header (the job's headers or layers/table_columns.csv)"
            if ws.title != "列说明":
                assert ws.max_column == sum(1 for sheet, _ in legend if sheet == ws.title), (book.name, ws.title)
    cov = opened["coverage.xlsx"]["coverage_shares"]
    col = {c.value: c.column for c in cov[1]}
    share, pop = cov.cell(2, col["覆盖率 share"]), cov.cell(2, col["人口(或节点数) population"])
    assert share.number_format == "0.0%" and 0 <= share.value <= 1  # a fraction shown as per cent, full value kept
    assert pop.number_format == "#,##0"
    ind = opened["indicators.xlsx"]
    life = [r for r in ind["waste_landfill_life"].iter_rows(min_row=2, values_only=True)]
    assert all(not str(name).isdigit() and "填埋场" in str(name) or "合计" in str(name) for name, _ in life), life  # no "0"…"4" labels
    assert ind["waste_landfill_life"].cell(2, 2).number_format == "#,##0.00"
    heads = [c.value for c in ind["waste_balance"][1]]
    assert "单位 unit" in heads and "统计单元" not in heads  # the unit of measure is not a statistical unit
