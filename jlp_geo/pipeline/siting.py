"""The siting job (补短板, ``jlp-geo site``): where to add facilities, and how many.

Reads the OSM extract once, runs the coverage analysis for the chosen categories (so demand, rule and
existing facilities are those of ``jlp-geo coverage``), finds candidate land, runs the siting models, and
writes ``siting.gpkg``, ``tables/siting_*.csv`` (summary, sites, the p → people curve, and that curve per
category) + ``siting.xlsx``, ``maps/siting.html`` and
``siting_report.html`` into one staging folder published together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import __version__
from ..analysis.accessibility import (
    DEFAULT_MIN_COMPONENT,
    DEFAULT_SNAP_M,
    analyse_coverage,
)
from ..analysis.siting import (
    SitingResult,
    analyse_siting,
    candidate_land_from_osm,
    candidates_from_file,
    load_siting_parameters,
)
from ..analysis.siting.result import HEADERS_ZH
from ..crs import metric_crs_for, to_analysis, to_storage
from ..errors import InputDataError
from ..io import staged_outputs, write_csv, write_excel, write_geopackage
from ..layers.categories import load_categories
from ..network import DEFAULT_SPEED_M_PER_MIN
from ..notices import warn
from ..settings import get_settings
from ..sources.census import read_census
from ..sources.osm import read_osm
from ..sources.userfile import read_user_layer
from .services import read_service_inputs

__all__ = ["SITING_GPKG", "SITING_MAP", "SITING_REPORT", "run_siting", "siting_from_inputs", "write_siting_outputs"]

SITING_GPKG = "siting.gpkg"
SITING_MAP = "siting.html"
SITING_REPORT = "siting_report.html"


def parse_target(text: str | float | None) -> float | None:
    """``'95%'``, ``'95'`` or ``0.95`` → 0.95; None stays None.

    Raises
    ------
    InputDataError
        If the text is not a share between 0 and 100 %.
    """
    if text is None:
        return None
    s = str(text).strip().rstrip("%").strip()
    try:
        value = float(s)
    except ValueError:
        raise InputDataError(f"target {text!r} is not a share", where="--target", fix="e.g. --target 95%") from None
    share = value / 100.0 if (str(text).strip().endswith("%") or value > 1) else value
    if not 0 < share <= 1:
        raise InputDataError(f"target {text!r} is not between 0 and 100 %", where="--target", fix="e.g. --target 95%")
    return share


def siting_from_inputs(
    *,
    osm: str | Path,
    categories: list[str],
    p: int | None = None,
    target: str | float | None = None,
    model: str | None = None,
    rule: str | None = None,
    population: str | Path | None = None,
    census: str | Path | None = None,
    townships: str | Path | gpd.GeoDataFrame | None = None,
    candidates: str | Path | gpd.GeoDataFrame | None = None,
    boundary: str | Path | None = None,
    input_crs: str | None = None,
    speed_m_per_min: float | None = None,
    analysis_crs: str | None = None,
    time_limit: float | None = None,
    facilities: list[str | Path] | None = None,
    pois: list[str | Path] | None = None,
    poi_source: str = "amap",
) -> SitingResult:
    """Run the siting analysis (``jlp-geo site``) without writing anything.

    Parameters
    ----------
    osm
        ``.osm.pbf`` / ``.osm`` file or saved Overpass JSON.
    categories
        Category ids (``layers/service_categories.csv``).
    p, target
        MCLP: number of new sites, or the share of residents to reach (``'95%'``) with the fewest.
    model
        ``mclp`` or ``lscp`` (default from ``layers/siting.yml``).
    rule
        ``time`` or ``dist``.
    population, census, townships
        Population raster; or census totals per 镇街 with the 镇街 polygons (``--townships``) to spread them in.
    candidates
        Planner's candidate sites (GeoPackage / GeoJSON / Shapefile, or a layer already read; optional
        ``name_zh``, ``reason``).
    boundary, input_crs
        Study-area polygon file and its datum (``gcj02`` / ``bd09``).
    speed_m_per_min, analysis_crs, time_limit
        Walking speed, metric CRS, seconds per exact solve.
    facilities, pois, poi_source
        The planners' facility lists (``FILE[:category]``) and Amap/Baidu POI exports, merged with the OSM
        services as ``jlp-geo coverage`` merges them: they are existing facilities, fixed.

    Returns
    -------
    SitingResult
    """
    params = load_siting_parameters()
    share = parse_target(target)
    cats = load_categories()
    wanted = [c for c in cats if c.id in set(categories)]
    unknown = sorted(set(categories) - {c.id for c in wanted})
    if unknown or not categories:
        raise InputDataError(f"unknown service category {', '.join(unknown) or '(none given)'}", where="--category",
                             fix="use ids from layers/service_categories.csv: " + ", ".join(c.id for c in cats))
    if (model or params.model) == "mclp" and (p is None) == (share is None):
        raise InputDataError("MCLP needs exactly one of --p and --target", where="--p / --target", fix="give --p N or --target 95%")
    if population is not None and census is not None:
        raise InputDataError("--population and --census were both given", where="--population / --census", fix="give one of them")
    notes: list[str] = []
    user_crs = None if input_crs == "wgs84" else input_crs  # the facility lists' lon/lat may say wgs84; layers carry their CRS
    polygon = None
    if boundary is not None:
        gdf = read_user_layer(boundary, what="--boundary", required=(), input_crs=user_crs)
        polygon = to_storage(gdf).geometry.union_all()
    user_candidates = None
    if isinstance(candidates, gpd.GeoDataFrame):
        user_candidates = candidates
    elif candidates is not None:
        user_candidates = read_user_layer(candidates, what="--candidates", required=(), input_crs=user_crs)
    towns = None
    if census is not None:
        if townships is None:
            raise InputDataError("census totals per 镇街 need the 镇街 polygons to spread them over", where="--census",
                                 fix="give --townships FILE (official 镇街 polygons with name_zh), or --population FILE instead")
        towns = townships if isinstance(townships, gpd.GeoDataFrame) else read_user_layer(townships, what="--townships", input_crs=user_crs)
    data = read_osm(osm, polygon=polygon)
    lon, lat = float(data.nodes["lon"].median()), float(data.nodes["lat"].median())
    crs, crs_note = metric_crs_for(lon, lat, analysis_crs or get_settings().analysis_crs)
    if crs_note:
        notes.append(crs_note)
    study_area = None
    if polygon is not None:
        study_area = to_analysis(gpd.GeoDataFrame(geometry=[polygon], crs=get_settings().storage_crs), crs).geometry.iloc[0]
    census_totals, census_source = read_census(census) if census else (None, "")
    bounds = (float(data.nodes["lon"].min()), float(data.nodes["lat"].min()), float(data.nodes["lon"].max()), float(data.nodes["lat"].max()))
    service_inputs = read_service_inputs(facilities, pois, poi_source=poi_source, input_crs=input_crs, bounds=bounds)
    coverage = analyse_coverage(
        data, categories=wanted, service_inputs=service_inputs, townships=towns, population=population, census=census_totals, census_source=census_source,
        speed_m_per_min=speed_m_per_min or DEFAULT_SPEED_M_PER_MIN, analysis_crs=crs, study_area=study_area,
    )
    cand_df, land = None, None
    if user_candidates is not None:
        cand_df, more = candidates_from_file(coverage.network, user_candidates, snap_max_m=DEFAULT_SNAP_M,
                                             min_component_size=DEFAULT_MIN_COMPONENT,
                                             source=user_candidates.attrs.get("source_file", "candidates"))
        notes.extend(more)
        if len(cand_df) == 0:
            raise InputDataError(f"no candidate site lies within {DEFAULT_SNAP_M:g} m of the walk network", where=f"--candidates {user_candidates.attrs.get('source_file', '')}",
                                 fix="check the file's CRS (--input-crs for GCJ-02/BD-09) and that it covers the OSM extract")
    else:
        land = candidate_land_from_osm(data, params, crs)
    result = analyse_siting(coverage, [c.id for c in wanted], p=p, target=share, model=model, rule=rule,
                            candidates=cand_df, land=land, params=params, time_limit=time_limit)
    result.notes[:0] = notes + coverage.notes
    result.notes.extend(_warnings(result, share))
    return result


def _warnings(result: SitingResult, target: float | None) -> list[str]:
    """Print (``警告 …``) and return what makes the answer weaker than it looks."""
    lines = []
    if result.coverage.population.method == "unweighted":
        lines.append(warn("没有人口数据：选址按路网节点数而非人口计算 no population given: sites maximise network nodes covered, "
                          "not people (give --population FILE or --census FILE)"))
    for c in result.categories:
        if c.existing_nodes.size == 0:
            lines.append(warn(f"{c.category.name_zh} ({c.category.id}): 数据中没有现有设施，全部人口视为未覆盖 — no existing facility "
                              "in the data: every resident counts as uncovered (OSM gaps are not service gaps; give the planners' list)"))
        if target is not None and c.share(True) < target - 1e-9:
            lines.append(warn(f"{c.category.name_zh} ({c.category.id}): 目标 {target:.0%} 不可达，所有候选点最多达到 {c.share(True):.1%} — "
                              "the target cannot be reached with these candidates"))
        if c.solution.status == "time_limit":
            lines.append(warn(f"{c.category.name_zh} ({c.category.id}): 精确求解达到时间上限，最优性间隙 {c.solution.gap:.2%} — "
                              "the exact solve hit its time limit; the gap is reported (raise --time-limit)"))
    return lines


def write_siting_outputs(result: SitingResult, folder: str | Path, *, tianditu_token: str | None = None) -> list[Path]:
    """Write ``siting.gpkg``, ``tables/siting_*.csv``, ``tables/siting.xlsx``, the map and the report into *folder*."""
    from ..reports.siting import write_siting_report
    from ..viz.siting_map import write_siting_map

    staging, staged = Path(folder), []
    metadata = {"title": "补短板 设施选址 siting", "generator": f"jlp_geo {__version__}",
                "licence_osm": "OpenStreetMap data © OpenStreetMap contributors — licence: ODbL 1.0"}
    metadata.update({f"provenance_{k}": str(v) for k, v in result.provenance.items()})
    metadata.update({f"note_{i:02d}": n for i, n in enumerate(result.notes, 1)})
    staged.append(write_geopackage(staging / SITING_GPKG, result.layers(), dataset_metadata=metadata))
    sites = result.sites()
    tables = {
        "siting_summary": result.summary(),
        "siting_curve": result.curves(),
        "siting_sites": sites.drop(columns=sites.geometry.name) if len(sites.columns) else sites,
    }
    # and the p → people covered curve of each category on its own (one CSV, one sheet each)
    tables.update({f"siting_curve_{c.category.id}"[:31]: c.curve for c in result.categories})
    for name, df in tables.items():
        staged.append(write_csv(df, staging / "tables" / f"{name}.csv", HEADERS_ZH))
    staged.append(write_excel(tables, staging / "tables" / "siting.xlsx", HEADERS_ZH))
    staged.append(write_siting_map(result, staging / "maps" / SITING_MAP, tianditu_token=tianditu_token))
    staged.append(write_siting_report(result, staging / SITING_REPORT))
    return staged


def run_siting(out_dir: str | Path, *, tianditu_token: str | None = None, **kwargs: Any):
    """Compute the siting (see :func:`siting_from_inputs`) and write its outputs together.

    Returns
    -------
    tuple
        ``(SitingResult, list of written files)``.
    """
    result = siting_from_inputs(**kwargs)
    with staged_outputs(out_dir, job="siting") as (staging, files):
        files.extend(write_siting_outputs(result, staging, tianditu_token=tianditu_token))
    return result, files
