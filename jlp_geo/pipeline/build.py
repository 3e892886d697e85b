"""``run_build``: what ``jlp-geo build`` and ``make run`` do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.indicators import analyse_indicators
from ..analysis.waste import analyse_waste
from ..config import Profile, load_profile
from ..io import read_gpkg_info, staged_outputs
from ..progress import step
from ..io.staging import check_output_folder
from ..notices import collect_warnings, warn
from ..reports.indicators import write_report
from ..sources.census import read_census
from ..sources.osm import cached_osm_path
from .circles import circles_from_coverage, write_circles_outputs
from .coverage import check_coverage_options, coverage_from_inputs, write_coverage_outputs
from .plan import GPKG_NAME, BuildResult, add_osm_shelters, build_plan_layers, layer_counts, write_plan_outputs
from .waste import write_waste_outputs


def run_build(out_dir: str | Path, **options: Any) -> BuildResult:
    """Build all default outputs into *out_dir* (what ``jlp-geo build`` and ``make run`` do).

    *options* are those of :func:`build_outputs`.  Every ``警告`` line printed meanwhile
    (:func:`jlp_geo.notices.warn`) also goes into the notes: atlas, GeoPackage metadata, report and summary.

    Returns
    -------
    BuildResult
        Files written, feature counts per layer and the provenance notes.
    """
    with collect_warnings() as warned:
        return build_outputs(out_dir, warned=warned, **options)


def build_outputs(
    out_dir: str | Path,
    *,
    warned: list[str] | None = None,
    profile: Profile | str | Path | None = None,
    analysis_crs: str | None = None,
    townships: str | Path | None = None,
    parks_file: str | Path | None = None,
    waste_file: str | Path | None = None,
    transport_file: str | Path | None = None,
    input_crs: str | None = None,
    tianditu_token: str | None = None,
    osm: str | Path | None = None,
    population: str | Path | None = None,
    dem: str | Path | None = None,
    speed_m_per_min: float | None = None,
    census: str | Path | None = None,
    use_cache: bool = True,
    service_options: dict[str, Any] | None = None,
    fetch: bool = False,
) -> BuildResult:
    """Compute everything, then write and publish the build into *out_dir* (see :func:`run_build`).

    *warned* collects the ``警告`` lines of the run (:func:`run_build` passes it); they join the notes.
    The 15-minute coverage analysis is included whenever OSM data is given
    (*osm*) or cached by ``jlp-geo fetch``; otherwise the result says plainly
    that it was skipped and why.

    Returns
    -------
    BuildResult
        Files written, feature counts per layer and the provenance notes.
    """
    check_output_folder(out_dir)  # an unusable --out stops the run before any work
    check_coverage_options(population=population, census=census, speed_m_per_min=speed_m_per_min)
    if census is not None:
        read_census(census)  # a bad census stops the run before any work, named as --census
    if not isinstance(profile, Profile):
        profile = load_profile(profile, analysis_crs=analysis_crs)
    step("规划图层 plan layers")
    plan = build_plan_layers(
        profile,
        townships=townships,
        parks_file=parks_file,
        waste_file=waste_file,
        transport_file=transport_file,
        input_crs=input_crs,
    )
    osm_path = Path(osm) if osm else (cached_osm_path() if use_cache else None)
    if osm_path is None and fetch:  # `make run` online: short connectivity check, then Overpass (issue 10 item 7)
        from .fetch import osm_for_build

        osm_path, line = osm_for_build(profile)
        plan.notes.append(line)  # printed with the summary
    if osm_path is None:
        plan.notes.append(
            "15分钟生活圈覆盖分析未运行 Coverage not computed: no OSM data given (--osm FILE.osm.pbf) and none cached "
            "(jlp-geo fetch when online, or download Geofabrik's chongqing-latest.osm.pbf)."
        )
        plan.notes.append("15分钟生活圈单元未生成 Life-circle units not computed: they need the walk network and services from OSM (--osm).")
        unused = [opt for opt, value in (("--dem", dem), ("--speed", speed_m_per_min)) if value is not None]
        if unused:  # given but unused: say so rather than let it look applied
            warn(f"{' '.join(unused)} 未使用：没有OSM数据，不计算步行覆盖 — {', '.join(unused)} not used: the walk coverage "
                 "needs OSM data (--osm FILE.osm.pbf)")
        if any((service_options or {}).get(k) for k in ("facilities", "pois", "scenario")):
            plan.notes.append(warn("--facilities / --pois / --scenario 未使用 not used: they need the coverage analysis, "
                                   "which needs OSM data (--osm FILE)"))
    coverage = circles = None
    if osm_path is not None:  # OSM emergency shelters join the plan's emergency_shelters layer
        add_osm_shelters(plan, osm_path, profile)
    if osm_path is not None:  # computed before anything is written: bad OSM input loses nothing
        coverage = coverage_from_inputs(
            osm=osm_path,
            boundary=plan.layers["district"],
            townships=plan.layers["townships"],
            clusters=plan.layers["clusters"],
            population=population,
            dem=dem,
            speed_m_per_min=speed_m_per_min,
            analysis_crs=profile.analysis_crs,
            census=census,
            **(service_options or {}),  # --facilities / --pois / --poi-source / --scenario (issue 10)
        )
        step("15分钟生活圈单元 life-circle units")  # issue 11: units nested in the build's 镇街, scored on the coverage
        circles = circles_from_coverage(coverage, osm_path, townships=plan.layers["townships"], boundary=plan.layers["district"])
    facilities = plan.layers["waste_facilities"]
    raster = population if population and Path(str(population)).suffix.lower() in (".tif", ".tiff") else None
    step("建筑垃圾分析 construction-waste analysis")
    waste_result = analyse_waste(
        profile,
        osm=osm_path,
        townships=plan.layers["townships"],
        facilities=facilities,  # the user's --waste-facilities too (matched to the plan's by facility_id or name)
        population=raster or census,
    )
    step("规划指标 plan indicators")
    indicators = analyse_indicators(
        profile=profile,
        coverage=coverage,
        osm=osm_path,
        waste=waste_result,
        townships=plan.layers["townships"],
        clusters=plan.layers["clusters"],
        boundary=plan.layers["district"],
    )
    notes = list(plan.notes)
    notes.extend(f"建筑垃圾 {line}" for line in waste_result.key_findings())
    counts = layer_counts(plan)
    for line in warned or []:  # every 警告 so far also goes into the atlas, GeoPackage metadata and report
        plan.notes.append(line)
        indicators.notes.append(line)
        notes.append(line)
    # everything is computed; now one staging folder for the whole build, published together
    step("写出 GeoPackage、表格、地图、报告 writing outputs")
    with staged_outputs(out_dir, job="build") as (staging, files):
        files.extend(write_plan_outputs(plan, staging, profile, tianditu_token=tianditu_token))
        files.extend(write_waste_outputs(waste_result, staging, tianditu_token=tianditu_token))
        if coverage is not None:
            files.extend(write_coverage_outputs(coverage, staging, tianditu_token=tianditu_token, circles=circles))
        if circles is not None:
            files.extend(write_circles_outputs(circles, staging, tianditu_token=tianditu_token))
        files.extend(write_report(indicators, staging))
    if coverage is not None:
        notes.extend(coverage.notes)
        counts["coverage_nodes"] = {"features": coverage.network.n_nodes, "located": coverage.network.n_nodes}
    if circles is not None:
        notes.extend(f"生活圈单元 {line}" for line in circles.notes)
        counts["life_circles"] = {"features": circles.n_units, "located": circles.n_units}
    notes.extend(indicators.gaps)
    return BuildResult(out_dir=Path(out_dir), files=files, counts=counts, notes=list(dict.fromkeys(notes)))


def summarise(result: BuildResult) -> dict[str, Any]:
    """A JSON-able summary (files with sizes, counts, GeoPackage facts)."""
    gpkg = next((f for f in result.files if f.name == GPKG_NAME), None)
    return {
        "out_dir": str(result.out_dir),
        "files": {str(f.relative_to(result.out_dir)): f.stat().st_size for f in result.files},
        "counts": result.counts,
        "geopackage": read_gpkg_info(gpkg) if gpkg else None,
        "notes": result.notes,
    }
