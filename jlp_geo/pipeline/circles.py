"""The life-circle job (``jlp-geo circles``): units delineated or given, scored, mapped and reported.

Runs the 15-minute coverage (:func:`~jlp_geo.pipeline.coverage.coverage_from_inputs`), then
:func:`~jlp_geo.analysis.circles.analyse_circles` on it, and writes ``circles.gpkg`` (``life_circles``
with a QGIS style by score, ``life_circles_residential``, ``life_circle_centres``),
``tables/life_circles.csv`` / ``.xlsx`` (one row per unit, checklist columns in Chinese; the long
checklist and the pilots as further sheets/CSVs), ``maps/circles.html`` and ``circles_report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import __version__
from ..analysis.accessibility import CoverageResult
from ..analysis.circles import CircleParameters, CirclesResult, analyse_circles, units_table
from ..crs import to_analysis, to_storage
from ..io import staged_outputs, write_csv, write_excel, write_geopackage
from ..io.staging import check_output_folder
from ..sources.osm import read_osm
from ..sources.userfile import read_user_layer
from .coverage import check_coverage_options, coverage_from_inputs

__all__ = ["CIRCLES_GPKG", "CIRCLES_MAP", "CIRCLES_REPORT", "circles_from_coverage", "circles_from_inputs", "run_circles",
           "write_circles_outputs"]

CIRCLES_GPKG = "circles.gpkg"
CIRCLES_MAP = "circles.html"
CIRCLES_REPORT = "circles_report.html"

CHECKLIST_HEADERS_ZH = {
    "unit_id": "单元编号", "category": "类别 category", "category_zh": "服务类别", "level": "层级", "minutes": "时间标准(分钟)",
    "radius_m": "距离标准(米)", "n_inside": "单元内设施数", "population": "单元人口(估)", "share_time": "时间标准内人口比例",
    "share_dist": "距离标准内人口比例", "met": "达标", "per_10k": "每万人设施数", "norm_per_10k": "标准 每万人(未核实)",
    "per_capita": "设施配置（每万人，对照标准）",
}
PILOT_HEADERS_ZH = {"name_zh": "示范社区", "programme": "项目", "source": "来源", "basis": "定位依据", "unit_id": "所在单元"}


def _layer(spec: str | Path | gpd.GeoDataFrame | None, what: str, input_crs: str | None) -> gpd.GeoDataFrame | None:
    if spec is None or isinstance(spec, gpd.GeoDataFrame):
        return spec
    return read_user_layer(spec, what=what, required=("name_zh",), input_crs=None if input_crs == "wgs84" else input_crs)


def circles_from_coverage(
    coverage: CoverageResult,
    osm: str | Path,
    *,
    townships: gpd.GeoDataFrame | None = None,
    circles: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    params: CircleParameters | None = None,
) -> CirclesResult:
    """Life-circle units on a coverage result already computed from the OSM file *osm* (what ``build`` does).

    The OSM file is read again (clipped to *boundary* as the coverage was) for barriers, residential
    land, place names and pilots.
    """
    polygon = study_area = None
    if boundary is not None:
        stored = to_storage(boundary)
        polygon = stored.geometry.union_all()
        study_area = to_analysis(stored, coverage.network.crs).geometry.union_all()
    data = read_osm(osm, polygon=polygon)
    return analyse_circles(coverage, data, townships=townships, circles=circles, study_area=study_area, params=params)


def circles_from_inputs(
    *,
    osm: str | Path,
    townships: str | Path | gpd.GeoDataFrame | None = None,
    circles: str | Path | gpd.GeoDataFrame | None = None,
    boundary: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    census: str | Path | None = None,
    dem: str | Path | None = None,
    speed_m_per_min: float | None = None,
    analysis_crs: str | None = None,
    input_crs: str | None = None,
    params: CircleParameters | None = None,
    facilities: list[str | Path] | None = None,
    pois: list[str | Path] | None = None,
    poi_source: str = "amap",
) -> tuple[CirclesResult, CoverageResult]:
    """Run the coverage and the life-circle analysis (``jlp-geo circles``) without writing anything.

    Parameters
    ----------
    osm
        ``.osm.pbf`` / ``.osm`` file or saved Overpass JSON.
    townships
        镇街 polygons (file or layer, ``name_zh``, optional ``code``); None = the data's extent is one nesting unit.
    circles
        Official 生活圈 / 社区 polygons (``name_zh``): scored as given instead of delineated.
    boundary
        Study-area polygon (file or layer); None = the data's extent.
    population, census, dem, speed_m_per_min, analysis_crs
        As for ``jlp-geo coverage``.
    input_crs
        ``gcj02`` / ``bd09`` for the user files.
    params
        Default ``layers/life_circles.yml``.
    facilities, pois, poi_source
        The planners' own facility lists and Amap/Baidu POI exports, as for ``jlp-geo coverage``.

    Returns
    -------
    tuple
        ``(CirclesResult, CoverageResult)``.
    """
    check_coverage_options(population=population, census=census, speed_m_per_min=speed_m_per_min)
    towns = _layer(townships, "--townships", input_crs)
    units = _layer(circles, "--circles", input_crs)
    area = boundary if boundary is None or isinstance(boundary, gpd.GeoDataFrame) else read_user_layer(
        boundary, what="--boundary", required=(), input_crs=None if input_crs == "wgs84" else input_crs)
    coverage = coverage_from_inputs(osm=osm, boundary=area, townships=towns, population=population, census=census,
                                    dem=dem, speed_m_per_min=speed_m_per_min, analysis_crs=analysis_crs, input_crs=input_crs,
                                    facilities=facilities, pois=pois, poi_source=poi_source)
    result = circles_from_coverage(coverage, osm, townships=towns, circles=units, boundary=area, params=params)
    return result, coverage


def write_circles_outputs(result: CirclesResult, folder: str | Path, *, tianditu_token: str | None = None) -> list[Path]:
    """Write ``circles.gpkg``, ``tables/life_circles*.csv`` + ``life_circles.xlsx``, ``maps/circles.html`` and
    ``circles_report.html`` into *folder* (normally a staging folder).

    Returns
    -------
    list of Path
        The files written.
    """
    from ..reports.circles import write_circles_report
    from ..viz.circles_map import write_circles_map  # folium is heavy: import only when writing maps

    folder, files = Path(folder), []
    metadata = {"title": "15分钟生活圈单元 life-circle units", "generator": f"jlp_geo {__version__}"}
    metadata.update({f"provenance_{k}": v for k, v in result.provenance.items()})
    metadata.update({f"note_{i:02d}": n for i, n in enumerate(result.notes, 1)})
    files.append(write_geopackage(folder / CIRCLES_GPKG, result.layers(), dataset_metadata=metadata))
    table = units_table(result)
    ids = dict(enumerate(result.units["unit_id"]))
    checklist = result.checklist.assign(unit_id=result.checklist["unit"].map(ids)).drop(columns=["unit", "basic"])
    checklist["met"] = checklist["met"].map(lambda m: "无数据" if m is None else ("有" if m else "缺"))
    checklist = checklist[["unit_id"] + [c for c in checklist.columns if c != "unit_id"]]
    pilots = result.pilots.drop(columns=["x", "y"])
    files.append(write_csv(table, folder / "tables" / "life_circles.csv"))
    files.append(write_csv(checklist, folder / "tables" / "life_circles_checklist.csv", CHECKLIST_HEADERS_ZH))
    files.append(write_csv(pilots, folder / "tables" / "life_circles_pilots.csv", PILOT_HEADERS_ZH))
    files.append(write_excel({"life_circles": table, "checklist": checklist, "pilots": pilots},
                             folder / "tables" / "life_circles.xlsx", CHECKLIST_HEADERS_ZH | PILOT_HEADERS_ZH))
    files.append(write_circles_map(result, folder / "maps" / CIRCLES_MAP, tianditu_token=tianditu_token))
    files.append(write_circles_report(result, folder / CIRCLES_REPORT))
    return files


def run_circles(out_dir: str | Path, *, tianditu_token: str | None = None, **kwargs: Any) -> tuple[CirclesResult, list[Path]]:
    """Compute the life-circle units (see :func:`circles_from_inputs`) and write their outputs atomically.

    Returns
    -------
    tuple
        ``(CirclesResult, list of written files)``.
    """
    for key, what in (("townships", "--townships"), ("circles", "--circles")):  # bad user files stop the run first
        kwargs[key] = _layer(kwargs.get(key), what, kwargs.get("input_crs"))
    check_output_folder(out_dir)  # an unusable --out stops the run before the analysis
    result, _coverage = circles_from_inputs(**kwargs)
    with staged_outputs(out_dir, job="circles") as (staging, files):
        files.extend(write_circles_outputs(result, staging, tianditu_token=tianditu_token))
    return result, files
