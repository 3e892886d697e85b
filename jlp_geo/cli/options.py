"""Options shared by several ``jlp-geo`` commands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["EPILOG", "add_common", "add_verbosity", "pad", "add_coverage_inputs", "add_out", "add_service_inputs", "add_tianditu_token"]

EPILOG = """examples:
  jlp-geo build --out out
  jlp-geo build --out out --osm chongqing-latest.osm.pbf --population chn_ppp_2020_constrained.tif --dem dem.tif
  jlp-geo coverage --osm extract.osm.pbf --boundary area.gpkg --out cov
  jlp-geo waste --out waste
  jlp-geo report --out report
  jlp-geo build --out out --townships 镇街.gpkg --waste-facilities sites.geojson --input-crs gcj02

Outputs of build: OUT/jiulongpo.gpkg (GPKG 1.2, QGIS styles), OUT/tables/*.csv
(UTF-8 with BOM, Chinese headers), OUT/maps/atlas.html (opens offline by double-click).
"""


def add_common(p: argparse.ArgumentParser) -> None:
    """``--profile`` and ``--analysis-crs``, which every command takes."""
    p.add_argument("--profile", type=Path, default=None, help="study-area profile YAML (default: layers/jiulongpo.yml)")
    p.add_argument("--analysis-crs", default=None, help="metric CRS for measuring (default: the profile's, EPSG:4544)")


def add_coverage_inputs(p: argparse.ArgumentParser, required: bool, osm_missing: str | None = None) -> None:
    """``--osm``, ``--population``, ``--census``, ``--dem``, ``--speed``: the inputs of the 15-minute analysis."""
    p.add_argument(
        "--osm",
        required=required,
        help="OSM extract (.osm.pbf / .osm, or Overpass JSON saved by jlp-geo fetch)"
        + ("" if required else "; " + (osm_missing or "without it, the cached data (jlp-geo fetch) or the command says coverage was skipped")),
    )
    p.add_argument(
        "--population",
        help="population GeoTIFF (WorldPop/GHSL people per cell), or 'worldpop' to read the window online; "
        "default: unweighted (shares of network nodes, said so in every output)",
    )
    p.add_argument(
        "--census",
        help="CSV of residents per 镇街 (name_zh,population[,source]) spread over OSM residential land "
        "(with build; jlp-geo coverage needs 镇街 polygons for it)",
    )
    p.add_argument(
        "--dem",
        help="elevation GeoTIFF for hill-aware (Tobler) walking times, or 'copernicus' to read the GLO-30 window online",
    )
    p.add_argument("--speed", type=float, default=None, help="walking speed on level ground in m/min (default 60, from GB 50180-2018's radii)")


def pad(text: object, width: int) -> str:
    """*text* left-aligned in *width* terminal cells (a Chinese character takes two), for console tables."""
    from rich.cells import cell_len

    text = str(text)
    return text + " " * max(0, width - cell_len(text))


def add_verbosity(p: argparse.ArgumentParser, sub_command: bool = False) -> None:
    """``--verbose`` / ``--quiet``: debug messages, or only warnings (``警告``) and the summary; no progress bars."""
    g = p.add_mutually_exclusive_group()
    default = argparse.SUPPRESS if sub_command else 0  # given before or after the command name
    g.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1, default=default,
                   help="also print debug messages")
    g.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=default,
                   help="print only warnings (警告) and the summary: no step lines, no progress bars")


def add_service_inputs(p: argparse.ArgumentParser) -> None:
    """``--facilities``, ``--pois``, ``--poi-source``, ``--scenario``: the planners' own service data (issue 10)."""
    p.add_argument(
        "--facilities",
        action="append",
        metavar="FILE[:category]",
        help="facility list (CSV/XLSX with lon/lat or 经度/纬度, or GPKG/GeoJSON/SHP); ':category' = an id of "
        "layers/service_categories.csv for every row, else a 'category' column; repeatable; lon/lat datum: --input-crs",
    )
    p.add_argument("--pois", action="append", metavar="FILE",
                   help="Amap/Baidu POI export (CSV, XLSX or the place-search JSON); typecodes mapped by layers/poi_categories.csv; repeatable")
    p.add_argument("--poi-source", choices=["amap", "baidu"], default="amap",
                   help="who made the POI export: amap (GCJ-02, default) or baidu (BD-09)")
    p.add_argument("--scenario", choices=["plan"], default=None,
                   help="plan: also coverage before/after the plan's located new facilities (专栏21–23 …)")


def add_out(p: argparse.ArgumentParser, help_text: str = "output folder (created if missing)") -> None:
    """``--out DIR``: where the command writes (published together when complete)."""
    p.add_argument("--out", type=Path, required=True, help=help_text)
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that jlp_geo did not create (its other files are kept)",
    )


def add_tianditu_token(p: argparse.ArgumentParser) -> None:
    """``--tianditu-token``: the 天地图 basemap key (default ``$TIANDITU_TOKEN``)."""
    p.add_argument(
        "--tianditu-token",
        default=os.environ.get("TIANDITU_TOKEN"),
        help="Tianditu key for the 天地图 basemap choice (default: $TIANDITU_TOKEN; none = no Tianditu)",
    )
