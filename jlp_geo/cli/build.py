"""``jlp-geo build``: every plan layer, GeoPackage, tables, atlas, waste, report (and coverage with OSM)."""

from __future__ import annotations

import argparse
import json

from .options import add_common, add_coverage_inputs, add_out, add_service_inputs, add_tianditu_token

NAME = "build"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``build`` command to the ``jlp-geo`` parser."""
    b = sub.add_parser(
        "build",
        help="build the plan layers, GeoPackage, tables and atlas (offline)",
        description="Build every planning layer of the 十五五规划纲要 and the 建筑垃圾规划 into OUT: "
        "jiulongpo.gpkg, tables/*.csv and maps/atlas.html. User files replace the default layers.",
    )
    add_common(b)
    add_out(b)
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
    add_tianditu_token(b)
    add_coverage_inputs(b, required=False)
    add_service_inputs(b)
    b.add_argument("--fetch", action="store_true",
                   help="without --osm and cached data: check the internet briefly (3 s) and fetch the district from "
                   "the Overpass API into the cache (make run does this); offline it says so in one line")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.set_defaults(run=run)
    return b


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo build``; return the exit status."""
    from ..pipeline import run_build, summarise

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
        service_options={"facilities": args.facilities, "pois": args.pois, "poi_source": args.poi_source,
                         "scenario": args.scenario, "input_crs": args.input_crs},
        fetch=args.fetch,
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
