"""The 15-minute coverage job: resolve the inputs, analyse, write ``coverage.gpkg``, tables and map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import __version__
from ..analysis.accessibility import HEADERS_ZH, CoverageResult, analyse_coverage, long_table
from ..crs import metric_crs_for, to_analysis, to_storage
from ..io import staged_outputs, write_csv, write_excel, write_geopackage
from ..network import DEFAULT_SPEED_M_PER_MIN
from ..settings import get_settings
from ..sources import raster
from ..sources.census import read_census
from ..sources.osm import read_osm
from ..sources.userfile import read_user_layer

COVERAGE_GPKG = "coverage.gpkg"
COVERAGE_MAP = "coverage.html"


def write_coverage_outputs(result: CoverageResult, folder: str | Path, *, tianditu_token: str | None = None) -> list[Path]:
    """Write ``coverage.gpkg``, the coverage tables (CSV + Excel) and ``maps/coverage.html`` into *folder*.

    *folder* is normally a job's staging folder (:func:`jlp_geo.io.staged_outputs`).

    Returns
    -------
    list of Path
        The files written.
    """
    from ..viz.coverage_map import write_coverage_map  # folium is heavy: import only when writing maps

    staging, staged = Path(folder), []
    layers = result.layers()
    metadata = {"title": "15分钟高品质生活服务圈 coverage", "generator": f"jlp_geo {__version__}"}
    metadata.update({f"provenance_{k}": v for k, v in result.provenance.items()})
    metadata.update({f"note_{i:02d}": n for i, n in enumerate(result.notes, 1)})
    staged.append(write_geopackage(staging / COVERAGE_GPKG, layers, dataset_metadata=metadata))
    long = long_table(result)
    summary = result.service_summary
    whole = result.whole_area.reset_index().rename(columns={"index": "unit"})
    tables = {"coverage_shares": long, "coverage_services": summary, "coverage_whole_area": whole}
    for name, df in tables.items():
        staged.append(write_csv(df, staging / "tables" / f"{name}.csv", HEADERS_ZH))
    staged.append(write_excel(tables, staging / "tables" / "coverage.xlsx", HEADERS_ZH))
    staged.append(write_coverage_map(result, staging / "maps" / COVERAGE_MAP, tianditu_token=tianditu_token))
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


def run_coverage(out_dir: str | Path, *, tianditu_token: str | None = None, **kwargs: Any):
    """Compute the 15-minute coverage (see :func:`coverage_from_inputs`) and write its outputs.

    Returns
    -------
    tuple
        ``(CoverageResult, list of written files)``.
    """
    result = coverage_from_inputs(**kwargs)
    with staged_outputs(out_dir) as (staging, files):
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
        ``gcj02``/``bd09`` for a boundary file in Chinese web-map coordinates.
    census
        CSV of residents per 镇街 (columns ``name_zh``, ``population``; optional ``source``),
        spread over residential land; needs *townships*.

    Returns
    -------
    CoverageResult
    """
    notes: list[str] = []
    polygon = None
    if boundary is not None:
        gdf = boundary if isinstance(boundary, gpd.GeoDataFrame) else read_user_layer(boundary, what="--boundary", required=(), input_crs=input_crs)
        notes.extend(gdf.attrs.get("repair_notes", []))
        polygon = to_storage(gdf).geometry.union_all()
    data = read_osm(osm, polygon=polygon)
    lon, lat = float(data.nodes["lon"].median()), float(data.nodes["lat"].median())
    crs, crs_note = metric_crs_for(lon, lat, analysis_crs or get_settings().analysis_crs)
    if crs_note:
        notes.append(crs_note)
    bounds = (float(data.nodes["lon"].min()), float(data.nodes["lat"].min()), float(data.nodes["lon"].max()), float(data.nodes["lat"].max()))
    dem = _resolve_online_raster(dem, "copernicus", bounds, notes)
    population = _resolve_online_raster(population, "worldpop", bounds, notes)
    study_area = None
    if polygon is not None:
        study_area = to_analysis(gpd.GeoDataFrame(geometry=[polygon], crs=get_settings().storage_crs), crs).geometry.iloc[0]
    else:
        notes.append("no --boundary given: the study area is the extent of the OSM data")
    census_totals, census_source = read_census(census) if census else (None, "")
    result = analyse_coverage(
        data,
        census=census_totals,
        census_source=census_source,
        townships=townships,
        clusters=clusters,
        population=population,
        dem=dem,
        speed_m_per_min=speed_m_per_min or DEFAULT_SPEED_M_PER_MIN,
        analysis_crs=crs,
        study_area=study_area,
    )
    result.notes[:0] = notes
    return result
