"""``jlp-geo coverage --areas FILE`` / ``--profiles A B …``: many areas as Dask tasks (options and runner).

Not a command of its own: :mod:`jlp_geo.cli.coverage` adds these options and hands over when one is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputDataError

__all__ = ["add_area_options", "run"]


def add_area_options(p: argparse.ArgumentParser) -> None:
    """``--areas``, ``--profiles``, ``--scheduler``, ``--workers``."""
    g = p.add_argument_group("many areas (Dask; pip install 'jlp_geo[dask]')")
    g.add_argument("--areas", type=Path, metavar="YAML",
                   help="region list: areas with name, osm[, boundary, population, census, dem, speed, analysis_crs]; "
                   "each runs as a Dask task into OUT/<name>/, merged tables in OUT/tables/coverage_areas_*.csv")
    g.add_argument("--profiles", type=Path, nargs="+", metavar="YAML",
                   help="study-area profiles: one area per profile, its district boundary over --osm")
    g.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler (tcp://host:8786); default: a LocalCluster here")
    g.add_argument("--workers", type=int, default=None, help="worker processes of the LocalCluster (default 2)")


def run(args: argparse.Namespace) -> int:
    """Run the areas of ``--areas`` / ``--profiles`` on Dask; print the files and the merged whole-area shares."""
    import pandas as pd

    from ..pipeline.areas import areas_from_profiles, read_area_list, run_areas

    if args.profiles:
        if not args.osm:
            raise InputDataError("--profiles needs the OSM extract to cut the areas from", where="--profiles",
                                 fix="add --osm extract.osm.pbf")
        areas = areas_from_profiles(args.profiles, args.osm)
    else:
        areas = read_area_list(args.areas)
    common = {k: v for k, v in {"population": args.population, "census": args.census, "dem": args.dem,
                                "speed_m_per_min": args.speed, "analysis_crs": args.analysis_crs}.items() if v is not None}
    res = run_areas(areas, args.out, scheduler=args.scheduler, n_workers=args.workers, options=common)
    print(f"jlp-geo coverage: {len(areas)} areas on Dask ({res.scheduler if args.scheduler else 'LocalCluster ' + res.scheduler})")
    for area, files in res.files.items():
        print(f"  {area}: {len(files)} files in {Path(files[0]).parent if files else '-'}")
    for f in res.summary_files:
        print(f"  {f}")
    whole = res.tables["coverage_whole_area"]
    cols = [c for c in whole.columns if c == "share_time_basic_all"]
    for _, row in whole.iterrows():
        share = row[cols[0]] if cols else float("nan")
        print(f"  {row['area']:<16} 全部基本服务 basic_all (time rule) {share:7.1%}" if pd.notna(share) else f"  {row['area']:<16} 无数据")
    return 0
