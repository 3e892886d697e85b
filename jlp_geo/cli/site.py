"""``jlp-geo site``: where to add facilities (补短板) — MCLP / LSCP siting with existing facilities fixed."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_out, add_tianditu_token

NAME = "site"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``site`` command to the ``jlp-geo`` parser."""
    c = sub.add_parser(
        "site",
        help="where to add facilities (补短板): MCLP / LSCP siting with existing facilities fixed",
        description="Demand = walk-network nodes weighted by population; existing facilities of each category are "
        "fixed; candidates from --candidates FILE or generated on residential / vacant / public land "
        "(layers/siting.yml). Exact (HiGHS) and lazy-greedy solutions. Writes OUT/siting.gpkg, "
        "OUT/tables/siting_*.csv + siting.xlsx, OUT/maps/siting.html and OUT/siting_report.html.",
    )
    add_common(c)
    add_out(c)
    c.add_argument("--osm", required=True, help="OSM extract (.osm.pbf / .osm, or Overpass JSON saved by jlp-geo fetch)")
    c.add_argument("--category", required=True, action="append", metavar="ID",
                   help="service category id from layers/service_categories.csv (repeat, or comma-separated)")
    how = c.add_mutually_exclusive_group()
    how.add_argument("--p", type=int, default=None, help="MCLP: number of new sites per category")
    how.add_argument("--target", default=None, help="MCLP: the fewest new sites reaching this share of residents, e.g. 95%%")
    c.add_argument("--model", choices=["mclp", "lscp", "pmedian"], default=None,
                   help="mclp (default; with --p or --target), lscp (fewest sites covering every reachable resident) "
                   "or pmedian (with --p: least total walk, walks capped at 2x the threshold)")
    c.add_argument("--rule", choices=["time", "dist"], default=None,
                   help="time: minutes <= the category's level (default); dist: network metres <= its radius")
    pop = c.add_mutually_exclusive_group()
    pop.add_argument("--population", help="population GeoTIFF (people per cell); default: unweighted (network nodes, said so)")
    pop.add_argument("--census", help="CSV of residents per 镇街 (name_zh,population[,source]); needs --townships")
    c.add_argument("--townships", help="镇街 polygons (name_zh) to spread --census totals over")
    c.add_argument("--candidates", help="candidate sites (GeoPackage/GeoJSON/Shapefile; optional columns name_zh, reason)")
    c.add_argument("--facilities", action="append", metavar="FILE[:category]",
                   help="the planners' facility list (as for jlp-geo coverage): existing facilities, fixed; repeatable")
    c.add_argument("--pois", action="append", metavar="FILE", help="Amap/Baidu POI export (as for jlp-geo coverage); repeatable")
    c.add_argument("--poi-source", choices=["amap", "baidu"], default="amap", help="amap (GCJ-02, default) or baidu (BD-09)")
    c.add_argument("--boundary", help="study-area polygon file (default: the extent of the OSM data)")
    c.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the user files are in GCJ-02/BD-09")
    c.add_argument("--speed", type=float, default=None, help="walking speed on level ground in m/min (default 60)")
    c.add_argument("--time-limit", type=float, default=None, help="seconds per exact solve (default from layers/siting.yml)")
    add_tianditu_token(c)
    c.set_defaults(run=run)
    return c


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo site``; return the exit status."""
    from ..errors import InputDataError
    from ..pipeline import run_siting

    if args.profile is not None:
        from ..config import load_profile

        load_profile(args.profile)
    categories = [c.strip() for item in args.category for c in item.split(",") if c.strip()]
    model = args.model or ("lscp" if args.p is None and args.target is None else None)
    if model != "lscp" and args.p is None and args.target is None:
        raise InputDataError("no question asked", where="--p / --target / --model", fix="give --p N, --target 95% or --model lscp")
    result, files = run_siting(
        args.out, osm=args.osm, categories=categories, p=args.p, target=args.target, model=model, rule=args.rule,
        population=args.population, census=args.census, townships=args.townships, candidates=args.candidates,
        boundary=args.boundary, input_crs=args.input_crs, speed_m_per_min=args.speed, analysis_crs=args.analysis_crs,
        time_limit=args.time_limit, tianditu_token=args.tianditu_token, facilities=args.facilities, pois=args.pois,
        poi_source=args.poi_source,
    )
    print(f"jlp-geo site: outputs written to {Path(args.out).resolve()}")
    for f in files:
        print(f"  {f.relative_to(args.out)!s:<40} {f.stat().st_size / 1024:>9.1f} KB")
    print(f"population basis: {result.population_label}")
    for c in result.categories:
        s = c.solution
        extra = (f"; mean walk {c.mean_cost[0]:.2f} -> {c.mean_cost[1]:.2f} {c.unit} (capped)" if c.mean_cost
                 else f"; greedy {c.greedy.n_sites} site(s) +{c.greedy.objective:,.0f}")
        print(f"  {c.category.name_zh:<10} {c.request}: {c.share(False):6.1%} -> {c.share(True):6.1%} with {s.n_sites} new site(s); "
              f"{s.method} {s.status}, gap {s.gap:.2%}{extra}")
    for note in result.notes:
        print(f"  - {note}")
    return 0
