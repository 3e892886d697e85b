"""``jlp-geo coverage``: the 15-minute service coverage from an OSM extract."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_coverage_inputs, add_out, add_tianditu_token

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
    add_coverage_inputs(c, required=True)
    c.add_argument("--boundary", help="study-area polygon file (default: the extent of the OSM data)")
    c.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the boundary file is in GCJ-02/BD-09")
    add_tianditu_token(c)
    c.set_defaults(run=run)
    return c


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo coverage``; return the exit status."""
    from ..pipeline import run_coverage

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
