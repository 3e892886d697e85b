"""``jlp-geo waste``: the construction-waste analysis."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_out, add_tianditu_token

NAME = "waste"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``waste`` command to the ``jlp-geo`` parser."""
    w = sub.add_parser(
        "waste",
        help="construction-waste balance, landfill life, haul catchments and 邻避 screens (建筑垃圾规划)",
        description="产消平衡, landfill life (312/326 万m³ both), generation by 镇街, haul (OSM drive network or "
        "straight line × detour factor, labelled), catchments, capacity-respecting ton-km allocation and 邻避 screens: "
        "OUT/waste.gpkg, OUT/tables/waste_*.csv, OUT/maps/waste.html, OUT/waste_report.html.",
    )
    add_common(w)
    add_out(w)
    w.add_argument("--osm", help="OSM extract for the drive network and receptors; default: cached data, else straight line × detour factor (labelled)")
    w.add_argument("--townships", help="official 镇街 boundaries (default: the labelled approximation)")
    w.add_argument("--generation", help="CSV per 镇街: name_zh + spoil, slurry (万立方米/年), construction, demolition, decoration (万吨/年) and/or activity")
    w.add_argument("--sites", help="construction sites (GeoPackage/GeoJSON/Shapefile; name_zh + quantity columns per type)")
    w.add_argument("--population", help="population GeoTIFF or census CSV (name_zh,population)")
    w.add_argument("--proxy", choices=["auto", "area", "population", "activity"], default=None, help="how plan totals are split over 镇街 (default: the parameter file's)")
    w.add_argument("--parameters", type=Path, default=None, help="parameter YAML (default: layers/waste_parameters.yml)")
    w.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the user files are in GCJ-02/BD-09")
    add_tianditu_token(w)
    w.set_defaults(run=run)
    return w


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo waste``; return the exit status."""
    from ..config import load_profile
    from ..analysis.waste import load_parameters
    from ..pipeline import run_waste
    from ..sources.osm import cached_osm_path

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
