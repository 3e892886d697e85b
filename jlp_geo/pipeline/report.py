"""The plan-indicator report job: coverage when needed, the indicators, then ``report.html`` and tables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.accessibility import analyse_coverage
from ..analysis.indicators import analyse_indicators
from ..config import Profile, load_profile
from ..crs import metric_crs_for, to_analysis, to_storage
from ..io.staging import check_output_folder
from ..layers import admin
from ..reports.indicators import write_report
from ..sources.osm import clip_osm, read_osm
from .coverage import coverage_from_inputs


def run_report(
    out_dir: str | Path,
    *,
    profile: Any = None,
    coverage: Any = None,
    osm: Any = None,
    waste: Any = None,
    townships: Any = None,
    clusters: Any = None,
    rail_stations: Any = None,
    boundary: Any = None,
    definitions: Any = None,
    coverage_options: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, list[Path]]:
    """Compute the plan indicators, then write the report and its tables (``jlp-geo report``).

    Parameters
    ----------
    out_dir
        Output folder: ``report.html``, ``tables/indicators.csv``, ``tables/indicators.xlsx``.
    profile
        :class:`~jlp_geo.config.Profile` or a profile YAML path (default ``layers/jiulongpo.yml``).
    coverage
        A :class:`~jlp_geo.life_circle.CoverageResult` already computed (``jlp-geo build`` passes its
        own).  None with *osm* given: the coverage is computed here over the profile's district,
        镇街 and 组团 (*coverage_options* go to :func:`jlp_geo.pipeline.coverage_from_inputs`, e.g.
        ``population``, ``census``, ``dem``, ``speed_m_per_min``).  None without *osm*: the coverage
        indicators are "not computed: no OSM data" rows.
    osm
        OSM file path or :class:`~jlp_geo.sources.osm.OsmData` (rail length, residential land).
    waste
        The construction-waste analysis (anything with a ``.balance`` DataFrame; see
        :func:`jlp_geo.indicators.analyse_indicators`), or None: its rows say "not computed".
    townships, clusters, boundary
        镇街 / 组团 / district polygons (default: the coverage result's, then the profile's).
    rail_stations
        Station points replacing OSM stations for the 800 m catchment.
    definitions
        Indicator definitions (default ``layers/indicators.yml``).
    coverage_options
        Extra keyword arguments for the coverage computation when it happens here.

    Returns
    -------
    tuple
        ``(indicator table, list of written files)``.
    """
    check_output_folder(out_dir)  # an unusable --out stops the run before any work
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    if coverage is None and osm is not None:
        district = boundary if boundary is not None else admin.build_district(profile)
        if townships is None:
            townships = admin.build_townships(profile, district)
        if clusters is None:
            clusters = admin.build_clusters(profile, townships)
        boundary = district
        if not hasattr(osm, "ways"):
            coverage = coverage_from_inputs(osm=osm, boundary=district, townships=townships, clusters=clusters,
                                        analysis_crs=profile.analysis_crs, **dict(coverage_options or {}))
            osm = read_osm(osm, polygon=to_storage(district).geometry.union_all())
        else:
            osm = clip_osm(osm, to_storage(district).geometry.union_all())
            crs, _ = metric_crs_for(float(osm.nodes["lon"].median()), float(osm.nodes["lat"].median()), profile.analysis_crs)
            coverage = analyse_coverage(osm, townships=townships, clusters=clusters, analysis_crs=crs,
                                        study_area=to_analysis(district, crs).geometry.union_all(), **dict(coverage_options or {}))
    result = analyse_indicators(
        profile=profile, coverage=coverage, osm=osm, waste=waste, townships=townships, clusters=clusters,
        rail_stations=rail_stations, boundary=boundary, definitions=definitions,
    )
    files = write_report(result, out_dir)
    return result.table, files
