"""``jlp-geo fetch``: download OSM data for the district into the cache (online)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_common

NAME = "fetch"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fetch`` command to the ``jlp-geo`` parser."""
    f = sub.add_parser(
        "fetch",
        help="download OSM data for the district (needs internet) into the cache",
        description="Download OpenStreetMap data for the profile's district polygon, either from the Overpass API "
        "(through osmnx, cached) or Geofabrik's chongqing-latest.osm.pbf, into the jlp_geo cache, where "
        "`jlp-geo build` finds it. © OpenStreetMap contributors, ODbL 1.0.",
    )
    add_common(f)
    f.add_argument("--source", choices=["overpass", "geofabrik"], default="overpass", help="where to download from")
    f.add_argument("--cache-dir", type=Path, default=None, help="cache folder (default: ~/.cache/jlp_geo)")
    f.set_defaults(run=run)
    return f


def run(args: argparse.Namespace) -> int:
    """Run ``jlp-geo fetch``; return the exit status."""
    import json

    from ..config import load_profile
    from ..io import atomic_path
    from ..layers.admin import build_district
    from ..settings import get_settings
    from ..progress import step
    from ..sources.osm import fetch_geofabrik, fetch_overpass

    cache = args.cache_dir or get_settings().cache_dir / "osm"
    if args.source == "geofabrik":
        step("下载 Geofabrik 数据 downloading the Geofabrik extract")
        path = fetch_geofabrik(cache)
    else:
        profile = load_profile(args.profile)
        polygon = build_district(profile).geometry.iloc[0]
        step("查询 Overpass API querying the Overpass API")
        osm = fetch_overpass(polygon, cache_dir=args.cache_dir)
        path = cache / "jiulongpo.overpass.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(osm.to_overpass_json(), ensure_ascii=False), encoding="utf-8")
    print(f"jlp-geo fetch: OSM data saved to {path} (© OpenStreetMap contributors, ODbL 1.0); jlp-geo build will use it")
    return 0
