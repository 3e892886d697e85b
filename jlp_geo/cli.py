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
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import build, summarise

    result = build(
        args.out,
        profile=args.profile,
        analysis_crs=args.analysis_crs,
        townships=args.townships,
        parks_file=args.parks,
        waste_file=args.waste_facilities,
        transport_file=args.transport,
        input_crs=args.input_crs,
        tianditu_token=args.tianditu_token,
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jlp-geo`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return _cmd_build(args)
    except JlpGeoError as exc:
        print(f"jlp-geo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
