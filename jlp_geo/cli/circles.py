"""``jlp-geo circles``: 15-minute life-circle units (15分钟生活圈单元), delineated or given, scored and mapped."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_coverage_inputs, add_out, add_service_inputs, add_tianditu_token

NAME = "circles"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``circles`` command to the ``jlp-geo`` parser."""
    c = sub.add_parser(
        "circles",
        help="15-minute life-circle units (15分钟生活圈单元): delineated or from a file, scored against the checklist",
        description="Delineates life-circle units nested in the 镇街 (or takes them from --circles FILE), scores each "
        "against the service checklist (基础保障/品质提升/特色引导) and marks the 示范 pilots: writes OUT/circles.gpkg, "
        "OUT/tables/life_circles*.csv/.xlsx, OUT/maps/circles.html and OUT/circles_report.html.",
    )
    add_common(c)
    add_out(c)
    add_coverage_inputs(c, required=True)
    add_service_inputs(c)
    c.add_argument("--townships", help="镇街 polygons (name_zh[, code]) the units nest in; default: the data's extent is one unit")
    c.add_argument("--circles", help="official 生活圈/社区 polygons (name_zh): scored as given instead of delineated")
    c.add_argument("--boundary", help="study-area polygon file (default: the extent of the OSM data)")
    c.add_argument("--population-range", nargs=2, type=float, metavar=("MIN", "MAX"), default=None,
                   help="residents per unit (default 50000 100000, GB 50180-2018; layers/life_circles.yml)")
    c.add_argument("--input-crs", choices=["wgs84", "gcj02", "bd09"], default=None,
                   help="datum of the user files (--townships, --circles, --boundary, facility lon/lat): GCJ-02/BD-09 are converted")
    add_tianditu_token(c)
    c.set_defaults(run=run)
    return c


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo circles``; return the exit status."""
    import numpy as np

    from ..pipeline import run_circles

    if args.profile is not None:
        from ..config import load_profile

        load_profile(args.profile)
    if args.scenario is not None:
        from ..errors import InputDataError

        raise InputDataError("jlp-geo circles does not compute the plan scenario", where="--scenario",
                             fix="leave --scenario out here; run jlp-geo coverage --scenario plan for before/after coverage")
    params = None
    if args.population_range is not None:
        from ..analysis.circles import load_circle_parameters

        params = load_circle_parameters().with_population_range(*args.population_range)
    result, files = run_circles(
        args.out,
        params=params,
        osm=args.osm,
        townships=args.townships,
        circles=args.circles,
        boundary=args.boundary,
        population=args.population,
        census=args.census,
        dem=args.dem,
        speed_m_per_min=args.speed,
        analysis_crs=args.analysis_crs,
        input_crs=args.input_crs,
        facilities=args.facilities,
        pois=args.pois,
        poi_source=args.poi_source,
        tianditu_token=args.tianditu_token,
    )
    print(f"jlp-geo circles: outputs written to {Path(args.out).resolve()}")
    for f in files:
        print(f"  {f.relative_to(args.out)!s:<40} {f.stat().st_size / 1024:>9.1f} KB")
    u = result.units
    pop = u["population"].to_numpy(dtype=float)
    comp = u["compactness"].to_numpy(dtype=float)
    print(f"units 单元数: {result.n_units} ({result.method}); population basis: {result.population_basis}")
    if np.isfinite(pop).any():
        print(f"population per unit 人口: {np.nanmin(pop):,.0f} – {np.nanmax(pop):,.0f} (total {np.nansum(pop):,.0f})")
    else:
        print("population per unit 人口: 无数据")
    if np.isfinite(comp).any():
        print(f"walk-compactness 紧凑度: {np.nanmin(comp):.1%} – {np.nanmax(comp):.1%}")
    share = result.share_all_basic
    print(f"share of units meeting all basic categories 基础保障全部达标: {'无数据' if share != share else f'{share:.1%}'}")
    for note in result.notes:
        print(f"  - {note}")
    return 0
