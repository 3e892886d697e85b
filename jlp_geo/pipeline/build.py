"""``run_build``: what ``jlp-geo build`` and ``make run`` do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.indicators import analyse_indicators
from ..analysis.waste import analyse_waste
from ..config import Profile, load_profile
from ..io import read_gpkg_info, staged_outputs
from ..reports.indicators import write_report
from ..sources.osm import cached_osm_path
from .coverage import coverage_from_inputs, write_coverage_outputs
from .plan import GPKG_NAME, BuildResult, build_plan_layers, layer_counts, write_plan_outputs
from .waste import write_waste_outputs


def run_build(
    out_dir: str | Path,
    *,
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
) -> BuildResult:
    """Build all default outputs into *out_dir* (what ``jlp-geo build`` and ``make run`` do).

    The 15-minute coverage analysis is included whenever OSM data is given
    (*osm*) or cached by ``jlp-geo fetch``; otherwise the result says plainly
    that it was skipped and why.

    Returns
    -------
    BuildResult
        Files written, feature counts per layer and the provenance notes.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile, analysis_crs=analysis_crs)
    plan = build_plan_layers(
        profile,
        townships=townships,
        parks_file=parks_file,
        waste_file=waste_file,
        transport_file=transport_file,
        input_crs=input_crs,
    )
    osm_path = Path(osm) if osm else (cached_osm_path() if use_cache else None)
    if osm_path is None:
        plan.notes.append(
            "15分钟生活圈覆盖分析未运行 Coverage not computed: no OSM data given (--osm FILE.osm.pbf) and none cached "
            "(jlp-geo fetch when online, or download Geofabrik's chongqing-latest.osm.pbf)."
        )
    coverage = None
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
        )
    facilities = plan.layers["waste_facilities"]
    raster = population if population and Path(str(population)).suffix.lower() in (".tif", ".tiff") else None
    waste_result = analyse_waste(
        profile,
        osm=osm_path,
        townships=plan.layers["townships"],
        facilities=facilities if "facility_id" in facilities.columns else None,
        population=raster or census,
    )
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
    # everything is computed; now one staging folder for the whole build, published together
    with staged_outputs(out_dir) as (staging, files):
        files.extend(write_plan_outputs(plan, staging, profile, tianditu_token=tianditu_token))
        files.extend(write_waste_outputs(waste_result, staging, tianditu_token=tianditu_token))
        if coverage is not None:
            files.extend(write_coverage_outputs(coverage, staging, tianditu_token=tianditu_token))
        files.extend(write_report(indicators, staging))
    if coverage is not None:
        notes.extend(coverage.notes)
        counts["coverage_nodes"] = {"features": coverage.network.n_nodes, "located": coverage.network.n_nodes}
    notes.extend(indicators.gaps)
    return BuildResult(out_dir=Path(out_dir), files=files, counts=counts, notes=notes)


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
