"""The 15-minute coverage job: resolve the inputs, analyse, write ``coverage.gpkg``, tables and map."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import __version__
from ..analysis.accessibility import CoverageResult, analyse_coverage
from ..analysis.coverage_tables import HEADERS_ZH, long_table
from ..analysis.data_coverage import analyse_data_coverage, census_footprint, footprint_from_lonlat, mark_coverage_result
from ..crs import metric_crs_for, to_analysis, to_storage
from ..errors import InputDataError
from ..io import staged_outputs, write_csv, write_excel, write_geopackage
from ..io.staging import check_output_folder
from ..network import DEFAULT_SPEED_M_PER_MIN
from ..notices import warn
from ..progress import step
from ..settings import get_settings
from ..sources import raster
from ..sources.census import read_census
from ..sources.osm import read_osm
from ..sources.userfile import read_user_layer
from .services import add_service_analyses, read_service_inputs, service_layers, write_service_tables

COVERAGE_GPKG = "coverage.gpkg"
COVERAGE_MAP = "coverage.html"


def write_coverage_outputs(
    result: CoverageResult, folder: str | Path, *, tianditu_token: str | None = None, circles: Any = None
) -> list[Path]:
    """Write ``coverage.gpkg``, the coverage tables (CSV + Excel) and ``maps/coverage.html`` into *folder*.

    *folder* is normally a job's staging folder (:func:`jlp_geo.io.staged_outputs`). *circles*
    (a :class:`~jlp_geo.analysis.circles.CirclesResult`) adds the life-circle units to the map.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..viz.coverage_map import write_coverage_map  # folium is heavy: import only when writing maps
    from .coverage_layers import NODE_INDEX_LIMIT, VALID_BY_CONSTRUCTION, coverage_gpkg_layers, coverage_layer_metadata

    staging, staged = Path(folder), []
    # the tables first and the service areas last: they are being drawn in a second process meanwhile
    long = long_table(result)
    summary = result.service_summary
    whole = result.whole_area.reset_index().rename(columns={"index": "unit"})
    tables = {"coverage_shares": long, "coverage_services": summary, "coverage_whole_area": whole}
    for name, df in tables.items():
        staged.append(write_csv(df, staging / "tables" / f"{name}.csv", HEADERS_ZH))
    service_tables, service_files = write_service_tables(result, staging)  # completeness, unknown POI types, scenario
    staged.extend(service_files)
    tables.update(service_tables)
    staged.append(write_excel(tables, staging / "tables" / "coverage.xlsx", HEADERS_ZH))
    # compact write-time forms: one walk_edges row per OSM way, integer metres/seconds in access_nodes
    layers = coverage_gpkg_layers(result) | service_layers(result)
    layers["isochrones"] = layers.pop("isochrones")  # (deferred: last)
    metadata = {"title": "15分钟高品质生活服务圈 coverage", "generator": f"jlp_geo {__version__}",
                "licence_osm": "OpenStreetMap data © OpenStreetMap contributors — licence: ODbL 1.0"}
    metadata.update({f"provenance_{k}": v for k, v in result.provenance.items()})
    metadata.update({f"note_{i:02d}": n for i, n in enumerate(result.notes, 1)})
    staged.append(write_geopackage(staging / COVERAGE_GPKG, layers, dataset_metadata=metadata,
                                   layer_metadata=coverage_layer_metadata(result), trusted_valid=VALID_BY_CONSTRUCTION,
                                   no_spatial_index={"access_nodes"} if len(result.nodes) >= NODE_INDEX_LIMIT else ()))
    staged.append(write_coverage_map(result, staging / "maps" / COVERAGE_MAP, tianditu_token=tianditu_token,
                                     circles=circles))
    return staged


def _resolve_online_raster(value: str | Path | None, keyword: str, bounds: tuple[float, float, float, float], notes: list[str]):
    """``--dem copernicus`` / ``--population worldpop``: read the online window into the cache (needs internet)."""
    if value is None or str(value).lower() != keyword:
        return value
    name = f"{keyword}_{bounds[0]:.3f}_{bounds[1]:.3f}_{bounds[2]:.3f}_{bounds[3]:.3f}.tif"
    path = get_settings().cache_dir / "rasters" / name
    if not path.is_file():
        if keyword == "copernicus":
            raster.fetch_dem(bounds, path)
        else:
            raster.fetch_population(bounds, path)
    notes.append(f"{raster.COPERNICUS_CREDIT if keyword == 'copernicus' else raster.WORLDPOP_CREDIT} (window cached at {path})")
    return path


def check_coverage_options(
    *, population: str | Path | None = None, census: str | Path | None = None, speed_m_per_min: float | None = None
) -> None:
    """Refuse option combinations that would silently change the result (before any work).

    Raises
    ------
    InputDataError
        ``--speed`` not a positive number, or ``--population`` and ``--census`` both given (one population
        basis per run: a raster and census totals would disagree, and silently dropping one misleads).
    """
    if speed_m_per_min is not None and not (math.isfinite(speed_m_per_min) and speed_m_per_min > 0):
        raise InputDataError(f"--speed must be a positive walking speed in m/min, got {speed_m_per_min:g}", where="--speed",
                             fix="omit it for 60 m/min (GB 50180-2018), or give e.g. --speed 50 for older residents")
    if population is not None and census is not None:
        raise InputDataError("--population and --census were both given; a run uses one population basis", where="--population / --census",
                             fix="give one of them: --population FILE (people per cell) or --census FILE (residents per 镇街)")


def _checked_raster(value: str | Path | None, kind: str, bounds: tuple[float, float, float, float], notes: list[str]):
    """A local --dem / --population checked over the data's extent; None (with a 警告) when it covers none of it."""
    if value is None:
        return None, None
    check = raster.check_raster(value, kind, bounds=bounds)
    if check.footprint is None:
        flat = "坡度不计，按平地步行时间 times are FLAT (slopes ignored)" if kind == "dem" else \
            "不加权，按路网节点 UNWEIGHTED (shares of network nodes)"
        line = warn(f"{raster.RASTER_WHAT[kind][1]} {Path(str(value)).name}: 栅格在研究范围内没有有效数据 the raster has no valid "
                    f"cell over the OSM data's extent (no overlap, or all nodata/NaN): {flat}")
        notes.append(line)
        return None, check
    return value, check


def run_coverage(out_dir: str | Path, *, tianditu_token: str | None = None, **kwargs: Any):
    """Compute the 15-minute coverage (see :func:`coverage_from_inputs`) and write its outputs.

    Returns
    -------
    tuple
        ``(CoverageResult, list of written files)``.
    """
    check_output_folder(out_dir)  # an unusable --out stops the run before any work
    result = coverage_from_inputs(**kwargs)
    with staged_outputs(out_dir, job="coverage") as (staging, files):
        files.extend(write_coverage_outputs(result, staging, tianditu_token=tianditu_token))
    return result, files


def coverage_from_inputs(
    *,
    osm: str | Path,
    boundary: str | Path | gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    dem: str | Path | None = None,
    speed_m_per_min: float | None = None,
    analysis_crs: str | None = None,
    input_crs: str | None = None,
    census: str | Path | None = None,
    facilities: list[str | Path] | None = None,
    pois: list[str | Path] | None = None,
    poi_source: str = "amap",
    scenario: str | None = None,
):
    """Run the 15-minute coverage analysis (``jlp-geo coverage``) without writing anything.

    Parameters
    ----------
    osm
        ``.osm.pbf`` / ``.osm`` file or saved Overpass JSON.
    boundary
        Study-area polygon file (or layer); None = the data's extent.
    townships, clusters
        镇街 / 组团 polygons for per-unit figures (``jlp-geo build`` passes its own).
    population, dem
        Optional GeoTIFFs (population per cell; elevation).
    speed_m_per_min
        Level-ground walking speed; default 60 m/min.
    analysis_crs
        Metric CRS; default the settings' (EPSG:4544), or the local UTM zone when the data lies outside it.
    input_crs
        ``gcj02``/``bd09`` for a boundary file in Chinese web-map coordinates, and the datum
        (``wgs84``/``gcj02``/``bd09``) of the facility lists' lon/lat.
    facilities, pois, poi_source
        Facility lists (``FILE[:category]``) and Amap/Baidu POI exports merged with the
        OSM services (:mod:`jlp_geo.pipeline.services`).
    scenario
        ``"plan"``: also the coverage before/after the plan's located new facilities.
    census
        CSV of residents per 镇街 (columns ``name_zh``, ``population``; optional ``source``),
        spread over residential land; needs *townships*.

    Returns
    -------
    CoverageResult
    """
    check_coverage_options(population=population, census=census, speed_m_per_min=speed_m_per_min)
    notes: list[str] = []
    polygon = None
    if boundary is not None:
        gdf = boundary if isinstance(boundary, gpd.GeoDataFrame) else read_user_layer(boundary, what="--boundary", required=(), input_crs=None if input_crs == "wgs84" else input_crs)
        notes.extend(gdf.attrs.get("repair_notes", []))
        polygon = to_storage(gdf).geometry.union_all()
    step("读取 OSM reading OSM")
    data = read_osm(osm, polygon=polygon)
    lon, lat = float(data.nodes["lon"].median()), float(data.nodes["lat"].median())
    crs, crs_note = metric_crs_for(lon, lat, analysis_crs or get_settings().analysis_crs)
    if crs_note:
        notes.append(crs_note)
    bounds = (float(data.nodes["lon"].min()), float(data.nodes["lat"].min()), float(data.nodes["lon"].max()), float(data.nodes["lat"].max()))
    dem = _resolve_online_raster(dem, "copernicus", bounds, notes)
    population = _resolve_online_raster(population, "worldpop", bounds, notes)
    dem, _dem_check = _checked_raster(dem, "dem", bounds, notes)
    population, _pop_check = _checked_raster(population, "population", bounds, notes)
    study_area = None
    if polygon is not None:
        study_area = to_analysis(gpd.GeoDataFrame(geometry=[polygon], crs=get_settings().storage_crs), crs).geometry.iloc[0]
    else:
        notes.append("no --boundary given: the study area is the extent of the OSM data")
    census_totals, census_source = read_census(census) if census else (None, "")
    service_inputs = read_service_inputs(facilities, pois, poi_source=poi_source, input_crs=input_crs, bounds=bounds)
    # what share of the study area / each 镇街 each input covers (the OSM tables are released during the analysis)
    footprints = {"osm": footprint_from_lonlat(data.nodes["lon"].to_numpy(), data.nodes["lat"].to_numpy())}
    result = analyse_coverage(
        data,
        service_inputs=service_inputs,
        census=census_totals,
        census_source=census_source,
        townships=townships,
        clusters=clusters,
        population=population,
        dem=dem,
        speed_m_per_min=speed_m_per_min or DEFAULT_SPEED_M_PER_MIN,
        analysis_crs=crs,
        study_area=study_area,
        release_osm=True,
    )
    result.notes[:0] = notes
    del data
    footprints.update({c.kind: c.footprint for c in (_dem_check, _pop_check) if c is not None})
    if census_totals is not None and townships is not None:
        footprints["census"] = census_footprint(to_storage(townships), census_totals)
    area = gpd.GeoDataFrame(geometry=[polygon if polygon is not None else footprints["osm"]], crs=get_settings().storage_crs)
    dc = analyse_data_coverage(area, footprints, townships=townships, clusters=clusters, analysis_crs=crs)
    for line in mark_coverage_result(result, dc):
        result.notes.append(warn(line))
    add_service_analyses(result, townships=townships, scenario=scenario)
    return result
