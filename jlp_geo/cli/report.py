"""``jlp-geo report``: the plan-indicator report."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common, add_coverage_inputs, add_out

NAME = "report"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``report`` command to the ``jlp-geo`` parser."""
    r = sub.add_parser(
        "report",
        help="plan-indicator report (规划指标报告): OUT/report.html + OUT/tables/indicators.xlsx/.csv",
        description="Compute the plan's measurable spatial targets (公园绿化活动场地服务半径覆盖率, 15分钟生活圈, 健身圈, 一老一小, "
        "轨道通车里程, 建筑垃圾) for the whole district, each 组团 and 镇街, and write OUT/report.html (self-contained, prints on A4) "
        "and OUT/tables/indicators.xlsx/.csv. Without OSM data the coverage indicators are listed as not computed, with the reason.",
    )
    add_common(r)
    add_out(r)
    add_coverage_inputs(r, required=False)
    r.add_argument("--townships", help="official 镇街 boundaries (GeoPackage/GeoJSON/Shapefile), as for build")
    r.add_argument("--input-crs", choices=["gcj02", "bd09"], default=None, help="the 镇街 file is in GCJ-02/BD-09")
    r.set_defaults(run=run)
    return r


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo report``; return the exit status."""
    from ..config import load_profile
    from ..analysis.waste import analyse_waste
    from ..pipeline import build_plan_layers, run_report
    from ..reports.indicators import summary_rows
    from ..sources.osm import cached_osm_path

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
