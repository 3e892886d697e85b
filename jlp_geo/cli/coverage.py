"""``jlp-geo coverage``: the 15-minute service coverage from an OSM extract."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import areas
from .options import add_common, add_coverage_inputs, add_out, add_service_inputs, add_tianditu_token, pad

NAME = "coverage"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``coverage`` command to the ``jlp-geo`` parser."""
    c = sub.add_parser(
        "coverage",
        help="15-minute service coverage (15分钟生活圈) from an OSM extract",
        description="Walk network + services from OSM, nearest service per category (distance and time rules), "
        "shares of population per 镇街/组团/H3 hex: writes OUT/coverage.gpkg, OUT/tables/coverage*.csv/.xlsx "
        "and OUT/maps/coverage.html.",
    )
    add_common(c)
    add_out(c)
    add_coverage_inputs(c, required=False, osm_missing="required unless --areas / --profiles give the areas")  # checked in run
    c.add_argument("--boundary", help="study-area polygon file (default: the extent of the OSM data)")
    c.add_argument("--input-crs", choices=["wgs84", "gcj02", "bd09"], default=None,
                   help="coordinates of the user files: the boundary file and the facility lists' lon/lat (default wgs84)")
    add_service_inputs(c)
    add_tianditu_token(c)
    areas.add_area_options(c)
    c.set_defaults(run=run)
    return c


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo coverage``; return the exit status."""
    from ..pipeline import run_coverage

    if args.areas or args.profiles:
        return areas.run(args)  # many areas as Dask tasks
    if not args.osm:
        from ..errors import InputDataError

        raise InputDataError("no OSM data given", where="jlp-geo coverage", fix="add --osm extract.osm.pbf (or --areas FILE)")

    if args.profile is not None:
        from ..config import load_profile

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
        facilities=args.facilities,
        pois=args.pois,
        poi_source=args.poi_source,
        scenario=args.scenario,
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
        print(f"  {pad(c.name_zh, 28)} {c.level_min:>2} min  {share:7.1%}" if share == share else f"  {pad(c.name_zh, 28)} n/a")
    print(f"  全部基本服务 basic_all   {whole.get('share_time_basic_all', float('nan')):7.1%}")
    if whole.get("data_coverage"):  # partial inputs: the whole-area figures above rest on part of the area
        print(f"  数据覆盖 data coverage: {whole['data_coverage']}")
    if result.completeness is not None:
        comp = result.completeness[result.completeness["unit_level"] == "全域 whole area"]
        print("services by source (OSM / facility lists / POI exports), whole area:")
        for _, r in comp.iterrows():
            flag = f"  {r['flag']}" if r["flag"] else ""
            print(f"  {pad(r['category_zh'], 28)} {r['n_services']:>5}  ({r['n_osm']} / {r['n_file']} / {r['n_poi']}){flag}")
    if result.scenario is not None:
        t = result.scenario.table
        t = t[(t["unit_level"] == "全域 whole area") & (t["rule"].str.startswith("时间")) & (t["n_added"] > 0)]
        print("plan scenario, whole area (time rule): before -> after")
        for _, r in t.iterrows():
            print(f"  {pad(r['category_zh'], 28)} {r['share_before']:7.1%} -> {r['share_after']:7.1%}  (+{r['n_added']} planned)")
    for note in result.notes:
        print(f"  - {note}")
    return 0
