"""``jlp-geo`` command line: thin commands over the library.

Errors caused by input (bad files, missing data, wrong CRS) print what was
wrong, where and what to do, and exit with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import JlpGeoError

EPILOG = """examples:
  jlp-geo build --out out
  jlp-geo build --out out --osm chongqing-latest.osm.pbf --population chn_ppp_2020_constrained.tif --dem dem.tif
  jlp-geo coverage --osm extract.osm.pbf --boundary area.gpkg --out cov
  jlp-geo waste --out waste
  jlp-geo report --out report
  jlp-geo build --out out --townships 镇街.gpkg --waste-facilities sites.geojson --input-crs gcj02

Outputs of build: OUT/jiulongpo.gpkg (GPKG 1.2, QGIS styles), OUT/tables/*.csv
(UTF-8 with BOM, Chinese headers), OUT/maps/atlas.html (opens offline by double-click).
"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", type=Path, default=None, help="study-area profile YAML (default: layers/jiulongpo.yml)")
    p.add_argument("--analysis-crs", default=None, help="metric CRS for measuring (default: the profile's, EPSG:4544)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jlp-geo",
        description="jlp_geo — GIS toolkit for the spatial planning of Jiulongpo District (九龙坡区), Chongqing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jlp_geo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser(
        "build",
        help="build the plan layers, GeoPackage, tables and atlas (offline)",
        description="Build every planning layer of the 十五五规划纲要 and the 建筑垃圾规划 into OUT: "
        "jiulongpo.gpkg, tables/*.csv and maps/atlas.html. User files replace the default layers.",
    )
    _add_common(b)
    b.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    b.add_argument("--townships", help="official 镇街 boundaries (GeoPackage/GeoJSON/Shapefile; columns name_zh or code)")
    b.add_argument("--parks", help="一港九园三区 features replacing the default layer (needs column name_zh)")
    b.add_argument("--waste-facilities", help="construction-waste facilities replacing the default layer (needs name_zh)")
    b.add_argument("--transport", help="transport projects replacing the default layer (needs name_zh)")
    b.add_argument(
        "--input-crs",
        choices=["gcj02", "bd09"],
        default=None,
        help="the user files hold GCJ-02 (Amap/Tencent) or BD-09 (Baidu) coordinates; converted exactly",
    )
    b.add_argument(
        "--tianditu-token",
        default=os.environ.get("TIANDITU_TOKEN"),
        help="Tianditu key for the 天地图 basemap choice (default: $TIANDITU_TOKEN; none = no Tianditu)",
    )
    _add_coverage_inputs(b, required=False)
    b.add_argument("--json", action="store_true", help="print the summary as JSON")

    c = sub.add_parser(
        "coverage",
        help="15-minute service coverage (15分钟生活圈) from an OSM extract",
        description="Walk network + services from OSM, nearest service per category (distance and time rules), "
        "shares of population per 镇街/组团/H3 hex: writes OUT/coverage.gpkg, OUT/tables/coverage*.csv/.xlsx "
        "and OUT/maps/coverage.html.",
    )
    _add_common(c)
    c.add_argument("--out", type=Path, required=True, help="output folder")
    _add_coverage_inputs(c, required=True)
    c.add_argument("--boundary", help="study-area polygon file (default: the extent of the OSM data)")
    c.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the boundary file is in GCJ-02/BD-09")
    c.add_argument("--tianditu-token", default=os.environ.get("TIANDITU_TOKEN"), help="Tianditu key for the basemap choice")

    r = sub.add_parser(
        "report",
        help="plan-indicator report (规划指标报告): OUT/report.html + OUT/tables/indicators.xlsx/.csv",
        description="Compute the plan's measurable spatial targets (公园绿化活动场地服务半径覆盖率, 15分钟生活圈, 健身圈, 一老一小, "
        "轨道通车里程, 建筑垃圾) for the whole district, each 组团 and 镇街, and write OUT/report.html (self-contained, prints on A4) "
        "and OUT/tables/indicators.xlsx/.csv. Without OSM data the coverage indicators are listed as not computed, with the reason.",
    )
    _add_common(r)
    r.add_argument("--out", type=Path, required=True, help="output folder")
    _add_coverage_inputs(r, required=False)
    r.add_argument("--townships", help="official 镇街 boundaries (GeoPackage/GeoJSON/Shapefile), as for build")
    r.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the 镇街 file is in GCJ-02/BD-09")

    w = sub.add_parser(
        "waste",
        help="construction-waste balance, landfill life, haul catchments and 邻避 screens (建筑垃圾规划)",
        description="产消平衡, landfill life (312/326 万m³ both), generation by 镇街, haul (OSM drive network or "
        "straight line × detour factor, labelled), catchments, capacity-respecting ton-km allocation and 邻避 screens: "
        "OUT/waste.gpkg, OUT/tables/waste_*.csv, OUT/maps/waste.html, OUT/waste_report.html.",
    )
    _add_common(w)
    w.add_argument("--out", type=Path, required=True, help="output folder")
    w.add_argument("--osm", help="OSM extract for the drive network and receptors; default: cached data, else straight line × detour factor (labelled)")
    w.add_argument("--townships", help="official 镇街 boundaries (default: the labelled approximation)")
    w.add_argument("--generation", help="CSV per 镇街: name_zh + spoil, slurry (万立方米/年), construction, demolition, decoration (万吨/年) and/or activity")
    w.add_argument("--sites", help="construction sites (GeoPackage/GeoJSON/Shapefile; name_zh + quantity columns per type)")
    w.add_argument("--population", help="population GeoTIFF or census CSV (name_zh,population)")
    w.add_argument("--proxy", choices=["auto", "area", "population", "activity"], default=None, help="how plan totals are split over 镇街 (default: the parameter file's)")
    w.add_argument("--parameters", type=Path, default=None, help="parameter YAML (default: layers/waste_parameters.yml)")
    w.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the user files are in GCJ-02/BD-09")
    w.add_argument("--tianditu-token", default=os.environ.get("TIANDITU_TOKEN"), help="Tianditu key for the basemap choice")

    f = sub.add_parser(
        "fetch",
        help="download OSM data for the district (needs internet) into the cache",
        description="Download OpenStreetMap data for the profile's district polygon, either from the Overpass API "
        "(through osmnx, cached) or Geofabrik's chongqing-latest.osm.pbf, into the jlp_geo cache, where "
        "`jlp-geo build` finds it. © OpenStreetMap contributors, ODbL 1.0.",
    )
    _add_common(f)
    f.add_argument("--source", choices=["overpass", "geofabrik"], default="overpass", help="where to download from")
    f.add_argument("--cache-dir", type=Path, default=None, help="cache folder (default: ~/.cache/jlp_geo)")
    return parser


def _add_coverage_inputs(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--osm",
        required=required,
        help="OSM extract (.osm.pbf / .osm, or Overpass JSON saved by jlp-geo fetch)"
        + ("" if required else "; without it, build uses the cached data or says coverage was skipped"),
    )
    p.add_argument(
        "--population",
        help="population GeoTIFF (WorldPop/GHSL people per cell), or 'worldpop' to read the window online; "
        "default: unweighted (shares of network nodes, said so in every output)",
    )
    p.add_argument(
        "--census",
        help="CSV of residents per 镇街 (name_zh,population[,source]) spread over OSM residential land "
        "(with build; jlp-geo coverage needs 镇街 polygons for it)",
    )
    p.add_argument(
        "--dem",
        help="elevation GeoTIFF for hill-aware (Tobler) walking times, or 'copernicus' to read the GLO-30 window online",
    )
    p.add_argument("--speed", type=float, default=None, help="walking speed on level ground in m/min (default 60, from GB 50180-2018's radii)")


def _cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import run_build, summarise

    result = run_build(
        args.out,
        profile=args.profile,
        analysis_crs=args.analysis_crs,
        townships=args.townships,
        parks_file=args.parks,
        waste_file=args.waste_facilities,
        transport_file=args.transport,
        input_crs=args.input_crs,
        tianditu_token=args.tianditu_token,
        osm=args.osm,
        population=args.population,
        dem=args.dem,
        speed_m_per_min=args.speed,
        census=args.census,
    )
    summary = summarise(result)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"jlp-geo build: outputs written to {result.out_dir.resolve()}")
    for rel, size in summary["files"].items():
        print(f"  {rel:<40} {size / 1024:>9.1f} KB")
    print("features per layer (located / total):")
    for name, c in result.counts.items():
        print(f"  {name:<22} {c['located']:>3} / {c['features']:<3}")
    print("notes:")
    for note in result.notes:
        print(f"  - {note}")
    print(f"open the map: {(result.out_dir / 'maps' / 'atlas.html').resolve()}")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .pipeline import run_coverage

    if args.profile is not None:
        from .config import load_profile

        load_profile(args.profile)  # validate early; coverage itself needs only the OSM data
    result, files = run_coverage(
        args.out,
        osm=args.osm,
        boundary=args.boundary,
        population=args.population,
        dem=args.dem,
        speed_m_per_min=args.speed,
        analysis_crs=args.analysis_crs,
        input_crs=args.input_crs,
        census=args.census,
        tianditu_token=args.tianditu_token,
    )
    print(f"jlp-geo coverage: outputs written to {Path(args.out).resolve()}")
    for f in files:
        print(f"  {f.relative_to(args.out)!s:<40} {f.stat().st_size / 1024:>9.1f} KB")
    print(f"population basis: {result.population.label}")
    whole = result.whole_area.iloc[0]
    print("share covered, whole area (time rule):")
    for c in result.categories:
        share = whole.get(f"share_time_{c.id}")
        print(f"  {c.name_zh:<12} {c.level_min:>2} min  {share:7.1%}" if share == share else f"  {c.name_zh:<12} n/a")
    print(f"  全部基本服务 basic_all   {whole.get('share_time_basic_all', float('nan')):7.1%}")
    for note in result.notes:
        print(f"  - {note}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .config import load_profile
    from .analysis.waste import analyse_waste
    from .pipeline import build_plan_layers, run_report
    from .reports.indicators import summary_rows
    from .sources.osm import cached_osm_path

    profile = load_profile(args.profile, analysis_crs=args.analysis_crs)
    plan = build_plan_layers(profile, townships=args.townships, input_crs=args.input_crs)
    osm = args.osm or cached_osm_path()
    options = {
        k: v
        for k, v in {"population": args.population, "census": args.census, "dem": args.dem, "speed_m_per_min": args.speed}.items()
        if v is not None
    }
    facilities = plan.layers["waste_facilities"]
    waste = analyse_waste(profile, osm=osm, townships=plan.layers["townships"],
                          facilities=facilities if "facility_id" in facilities.columns else None)
    table, files = run_report(
        args.out,
        profile=profile,
        osm=osm,
        waste=waste,
        townships=plan.layers["townships"],
        clusters=plan.layers["clusters"],
        boundary=plan.layers["district"],
        coverage_options=options,
    )
    print(f"jlp-geo report: written to {Path(args.out).resolve()}")
    for f in files:
        print(f"  {f.relative_to(args.out)!s:<28} {f.stat().st_size / 1024:>9.1f} KB")
    print("indicators, whole area (现状 / 目标):")
    for row in summary_rows(table).itertuples():
        if row.value != row.value:
            value = "未计算 not computed"
        else:
            value = f"{row.value:,.1f}{row.value_unit if row.value_unit == '%' else ' ' + row.value_unit}"
        print(f"  {row.indicator_zh} · {row.measure_zh}: {value}  [{row.target_text}]")
    print(f"open the report: {(Path(args.out) / 'report.html').resolve()}")
    return 0


def _cmd_waste(args: argparse.Namespace) -> int:
    from .config import load_profile
    from .analysis.waste import load_parameters
    from .pipeline import run_waste
    from .sources.osm import cached_osm_path

    result, files = run_waste(
        args.out,
        profile=load_profile(args.profile, analysis_crs=args.analysis_crs),
        osm=args.osm or cached_osm_path(),
        townships=args.townships,
        generation_file=args.generation,
        sites_file=args.sites,
        population=args.population,
        tianditu_token=args.tianditu_token,
        params=load_parameters(args.parameters),
        proxy=args.proxy,
        input_crs=args.input_crs,
    )
    print(f"jlp-geo waste: outputs written to {Path(args.out).resolve()}")
    for f in files:
        print(f"  {f.relative_to(args.out)!s:<40} {f.stat().st_size / 1024:>9.1f} KB")
    print(f"haul distance: {result.method['haul_label']}")
    print(f"generation by 镇街: {result.method['proxy_label']}")
    print("key findings:")
    for line in result.key_findings():
        print(f"  - {line}")
    for note in result.notes:
        print(f"  - {note}")
    print(f"open the report: {(Path(args.out) / 'waste_report.html').resolve()}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    import json

    from .config import load_profile
    from .io import atomic_path
    from .layers.admin import build_district
    from .settings import get_settings
    from .sources.osm import fetch_geofabrik, fetch_overpass

    cache = args.cache_dir or get_settings().cache_dir / "osm"
    if args.source == "geofabrik":
        path = fetch_geofabrik(cache)
    else:
        profile = load_profile(args.profile)
        polygon = build_district(profile).geometry.iloc[0]
        osm = fetch_overpass(polygon, cache_dir=args.cache_dir)
        path = cache / "jiulongpo.overpass.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(osm.to_overpass_json(), ensure_ascii=False), encoding="utf-8")
    print(f"jlp-geo fetch: OSM data saved to {path} (© OpenStreetMap contributors, ODbL 1.0); jlp-geo build will use it")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jlp-geo`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "coverage":
            return _cmd_coverage(args)
        if args.command == "fetch":
            return _cmd_fetch(args)
        if args.command == "waste":
            return _cmd_waste(args)
        if args.command == "report":
            return _cmd_report(args)
    except JlpGeoError as exc:
        print(f"jlp-geo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
