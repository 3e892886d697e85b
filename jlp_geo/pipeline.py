"""The ``build`` job: every plan layer, the GeoPackage, the tables and the atlas.

All inputs are read and every layer is computed *before* anything is written;
outputs are then written into a staging folder inside ``out_dir`` and moved
into place file by file, so bad input loses nothing and a failed run leaves no
half-written output.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import __version__
from .config import Profile, load_profile
from .io import read_gpkg_info, staged_outputs, table_from_layer, write_csv, write_geopackage
from .layers import admin, parks, transport, waste
from .layers._common import PRECISION_ZH
from .sources.userfile import read_user_layer
from .styles import style_for

GPKG_NAME = "jiulongpo.gpkg"
ATLAS_NAME = "atlas.html"
COVERAGE_GPKG = "coverage.gpkg"
COVERAGE_MAP = "coverage.html"
CACHED_OSM_NAMES = ("jiulongpo.overpass.json", "chongqing-latest.osm.pbf")


@dataclass
class PlanLayers:
    """Everything the build computes before writing."""

    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    headers: dict[str, dict[str, str]]
    notes: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    """What a build wrote, for the CLI summary and the tests."""

    out_dir: Path
    files: list[Path]
    counts: dict[str, dict[str, int]]
    notes: list[str]


def build_plan_layers(
    profile: Profile | None = None,
    *,
    townships: str | Path | None = None,
    parks_file: str | Path | None = None,
    waste_file: str | Path | None = None,
    transport_file: str | Path | None = None,
    input_crs: str | None = None,
) -> PlanLayers:
    """Build all planning layers and plan tables in memory.

    Parameters
    ----------
    profile
        Study-area profile (default: ``layers/jiulongpo.yml``).
    townships, parks_file, waste_file, transport_file
        Optional user files replacing the defaults (GeoPackage, GeoJSON, Shapefile).
    input_crs
        ``"gcj02"`` / ``"bd09"`` when those files hold Chinese web-map coordinates.

    Returns
    -------
    PlanLayers
    """
    profile = profile or load_profile()
    notes: list[str] = []

    def user(spec: str | Path | None, what: str, required: tuple[str, ...]) -> gpd.GeoDataFrame | None:
        if spec is None:
            return None
        gdf = read_user_layer(spec, what=what, required=required, input_crs=input_crs)
        notes.extend(gdf.attrs.get("repair_notes", []))
        notes.append(f"{what}: layer replaced by the user file {gdf.attrs.get('source_file')}")
        return gdf

    # read every user file first: a bad one stops the run before any work or writing
    official_towns = user(townships, "--townships", ())
    user_parks = user(parks_file, "--parks", ("name_zh",))
    user_waste = user(waste_file, "--waste-facilities", ("name_zh",))
    user_transport = user(transport_file, "--transport", ("name_zh",))

    district = admin.build_district(profile)
    towns = admin.build_townships(profile, district, official=official_towns)
    clusters = admin.build_clusters(profile, towns)
    layers: dict[str, gpd.GeoDataFrame] = {
        "district": district,
        "townships": towns,
        "clusters": clusters,
        "parks": parks.build_parks(profile, user=user_parks),
        "waste_facilities": waste.build_waste_facilities(profile, user=user_waste),
        "transport_projects": transport.build_transport_projects(profile, user=user_transport),
        "urban_rail_existing": transport.build_urban_rail_existing(profile),
    }
    d = district.iloc[0]
    notes.append(
        f"区界 District polygon (cnmaps): {d['area_km2_ellipsoid']:.2f} km² on the ellipsoid "
        f"({d['area_km2']:.2f} km² in {profile.analysis_crs}) vs official {profile.official_area_km2} km²: "
        f"{d['area_diff_km2']:+.2f} km² ({d['area_diff_pct']:+.2f}%)."
    )
    if bool(towns["is_schematic"].any()):
        notes.append(
            "镇街边界为示意：no official 镇街 boundaries were given (--townships FILE); the polygons are an "
            "area-weighted approximation that gives each 镇街 its official area — NOT legal boundaries."
        )
    notes.append(
        "组团 membership other than 中梁山华岩 is a working assumption (no public definition found); "
        "the six 重庆高新区 towns are shown as their own unit."
    )
    conflicts = layers["waste_facilities"]
    if "conflict" in conflicts.columns and conflicts["conflict"].astype(bool).any():
        for _, row in conflicts[conflicts["conflict"].astype(bool)].iterrows():
            notes.append(f"规划内部矛盾 Plan conflict — {row['name_zh']}: {row.get('conflict_note', '')}")

    tables = {
        "waste_figures": waste.waste_figures_table(profile),
        "waste_forecast": waste.waste_forecast_table(profile),
        "waste_targets": waste.waste_targets_table(profile),
        "transport_items": transport.transport_items_table(profile),
    }
    headers = {
        "townships": getattr(admin, "COLUMNS_ZH", {}),
        "clusters": getattr(admin, "COLUMNS_ZH", {}),
        "district": getattr(admin, "COLUMNS_ZH", {}),
        "parks": getattr(parks, "COLUMNS_ZH", {}),
        "waste_facilities": getattr(waste, "COLUMNS_ZH", {}),
        "waste_figures": getattr(waste, "COLUMNS_ZH", {}),
        "waste_forecast": getattr(waste, "COLUMNS_ZH", {}),
        "waste_targets": getattr(waste, "COLUMNS_ZH", {}),
        "transport_projects": getattr(transport, "COLUMNS_ZH", {}),
        "urban_rail_existing": getattr(transport, "COLUMNS_ZH", {}),
        "transport_items": getattr(transport, "COLUMNS_ZH", {}),
    }
    return PlanLayers(layers=layers, tables=tables, headers=headers, notes=notes)


def _layer_metadata(name: str, gdf: gpd.GeoDataFrame) -> dict[str, str]:
    style = style_for(name)
    precisions = ", ".join(f"{p} {PRECISION_ZH.get(p, p)}: {n}" for p, n in gdf["precision"].value_counts().items())
    located = int((gdf.geometry.notna() & ~gdf.geometry.is_empty).sum())
    md = {
        "DESCRIPTION": f"{style.title_zh} / {style.title_en}",
        "features": str(len(gdf)),
        "located_features": str(located),
        "precision": precisions,
        "sources": " | ".join(sorted({str(s) for s in gdf["source"].dropna()}))[:4000],
    }
    if name in ("townships", "clusters") and "is_schematic" in gdf.columns and bool(gdf["is_schematic"].any()):
        md["schematic"] = "示意 — approximate boundaries, not official"
    elif name == "clusters" and (gdf["precision"] == "schematic").any():
        md["schematic"] = "示意 — unions of approximate 镇街 boundaries"
    return md


def _dataset_metadata(profile: Profile, notes: list[str]) -> dict[str, str]:
    md = {
        "title": f"{profile.name_zh} 规划图层 / {profile.name_en} planning layers",
        "generator": f"jlp_geo {__version__}",
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crs": f"storage {profile.storage_crs}; areas measured in {profile.analysis_crs}",
    }
    for key, doc in profile.documents.items():
        md[f"document_{key}"] = f"{doc['title']} ({doc['date']}; {doc.get('published_in', '')})"
    for src in profile.data_sources:
        md[f"data_source_{src['id']}"] = f"{src['name']} — licence: {src['licence']} — date: {src['date']}"
    md["precision_levels"] = "surveyed 实测 / indicative 示意（估计位置, see uncertainty_m） / schematic 示意（走向或示意边界）"
    for i, note in enumerate(notes, 1):
        md[f"note_{i:02d}"] = note
    return md


def write_outputs(
    plan: PlanLayers,
    out_dir: str | Path,
    profile: Profile,
    *,
    tianditu_token: str | None = None,
) -> BuildResult:
    """Write GeoPackage, CSV tables and atlas via a staging folder; return what was written."""
    from .viz.atlas import build_atlas  # folium is heavy: import only when writing maps

    out_dir = Path(out_dir)
    with staged_outputs(out_dir) as (staging, final):
        final.append(write_geopackage(
            staging / GPKG_NAME,
            plan.layers,
            dataset_metadata=_dataset_metadata(profile, plan.notes),
            layer_metadata={n: _layer_metadata(n, g) for n, g in plan.layers.items()},
        ))
        for name, gdf in plan.layers.items():
            final.append(write_csv(table_from_layer(gdf), staging / "tables" / f"{name}.csv", plan.headers.get(name)))
        for name, df in plan.tables.items():
            final.append(write_csv(df, staging / "tables" / f"{name}.csv", plan.headers.get(name)))
        final.append(build_atlas(plan.layers, staging / "maps" / ATLAS_NAME, tianditu_token=tianditu_token, notes=plan.notes))
    counts = {
        n: {"features": len(g), "located": int((g.geometry.notna() & ~g.geometry.is_empty).sum())}
        for n, g in plan.layers.items()
    }
    return BuildResult(out_dir=out_dir, files=final, counts=counts, notes=plan.notes)


def build(
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
    osm_path = Path(osm) if osm else (cached_osm() if use_cache else None)
    if osm_path is None:
        plan.notes.append(
            "15分钟生活圈覆盖分析未运行 Coverage not computed: no OSM data given (--osm FILE.osm.pbf) and none cached "
            "(jlp-geo fetch when online, or download Geofabrik's chongqing-latest.osm.pbf)."
        )
    coverage = None
    if osm_path is not None:  # computed before anything is written: bad OSM input loses nothing
        coverage = compute_coverage(
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
    from .waste import analyse_waste, write_waste_outputs

    facilities = plan.layers["waste_facilities"]
    raster = population if population and Path(str(population)).suffix.lower() in (".tif", ".tiff") else None
    waste_result = analyse_waste(
        profile,
        osm=osm_path,
        townships=plan.layers["townships"],
        facilities=facilities if "facility_id" in facilities.columns else None,
        population=raster or census,
    )
    from .indicators import compute_indicators
    from .report import write_report

    indicators = compute_indicators(
        profile=profile,
        coverage=coverage,
        osm=osm_path,
        waste=waste_result,
        townships=plan.layers["townships"],
        clusters=plan.layers["clusters"],
        boundary=plan.layers["district"],
    )
    result = write_outputs(plan, out_dir, profile, tianditu_token=tianditu_token)
    result.files.extend(write_waste_outputs(waste_result, out_dir, tianditu_token=tianditu_token))
    result.notes.extend(f"建筑垃圾 {line}" for line in waste_result.key_findings())
    if coverage is not None:
        result.files.extend(write_coverage_outputs(coverage, out_dir, tianditu_token=tianditu_token))
        result.notes.extend(coverage.notes)
        result.counts["coverage_nodes"] = {"features": coverage.network.n_nodes, "located": coverage.network.n_nodes}
    result.files.extend(write_report(indicators, out_dir))
    result.notes.extend(indicators.gaps)
    return result


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


# --------------------------------------------------------------------------- coverage (15分钟生活圈)


def cached_osm(cache_dir: str | Path | None = None) -> Path | None:
    """The OSM data ``jlp-geo fetch`` left in the cache, if any (Overpass JSON first, then Geofabrik PBF)."""
    from .settings import get_settings

    folder = Path(cache_dir) if cache_dir else get_settings().cache_dir / "osm"
    for name in CACHED_OSM_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def load_osm(path: str | Path, polygon: object | None = None):
    """Read OSM data from a ``.osm.pbf`` / ``.osm`` file or a saved Overpass JSON (``.json``)."""
    import json

    from .errors import InputDataError, MissingInputError
    from .sources.osm import from_overpass_json, read_osm_file

    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise MissingInputError("OSM file not found", where=str(path), fix="check --osm FILE or run jlp-geo fetch")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputDataError(f"not a readable Overpass JSON file: {exc}", where=str(path), fix="run jlp-geo fetch again") from exc
        return from_overpass_json(data, polygon=polygon, source=f"Overpass API (saved {path.name})")
    return read_osm_file(path, polygon=polygon)


def write_coverage_outputs(result, out_dir: str | Path, *, tianditu_token: str | None = None) -> list[Path]:
    """Write coverage.gpkg, coverage tables (CSV + Excel) and maps/coverage.html via a staging folder."""
    from .io import write_excel
    from .life_circle import HEADERS_ZH, long_table
    from .viz.coverage_map import build_coverage_map

    with staged_outputs(out_dir) as (staging, staged):
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
        staged.append(build_coverage_map(result, staging / "maps" / COVERAGE_MAP, tianditu_token=tianditu_token))
    return staged


def read_census(path: str | Path) -> tuple[dict[str, float], str]:
    """Read residents per 镇街 from a CSV (``name_zh``, ``population``, optional ``source``)."""
    from .errors import InputDataError, MissingInputError

    path = Path(path)
    if not path.is_file():
        raise MissingInputError("census file not found", where=f"--census {path}", fix="check the path")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError(f"cannot read the census CSV: {exc}", where=f"--census {path}", fix="save it as UTF-8 CSV") from exc
    missing = [c for c in ("name_zh", "population") if c not in df.columns]
    if missing:
        raise InputDataError(f"missing column(s) {missing}; the file has {list(df.columns)}", where=f"--census {path}",
                             fix="use the header: name_zh,population[,source]")
    pop = pd.to_numeric(df["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        rows = [int(i) + 2 for i in df.index[pop.isna() | (pop < 0)]][:10]
        raise InputDataError(f"population is not a non-negative number on line(s) {rows}", where=f"--census {path}")
    source = "; ".join(sorted(set(df["source"].dropna().astype(str)))) if "source" in df.columns else f"census file {path.name}"
    return dict(zip(df["name_zh"].astype(str), pop.astype(float))), source


def _resolve_online_raster(value: str | Path | None, keyword: str, bounds: tuple[float, float, float, float], notes: list[str]):
    """``--dem copernicus`` / ``--population worldpop``: read the online window into the cache (needs internet)."""
    if value is None or str(value).lower() != keyword:
        return value
    from .settings import get_settings
    from .sources import raster

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
    """Compute the 15-minute coverage (see :func:`compute_coverage`) and write its outputs.

    Returns
    -------
    tuple
        ``(CoverageResult, list of written files)``.
    """
    result = compute_coverage(**kwargs)
    return result, write_coverage_outputs(result, out_dir, tianditu_token=tianditu_token)


def compute_coverage(
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
    from .crs import metric_crs_for, to_storage
    from .life_circle import analyse_coverage
    from .network import DEFAULT_SPEED_M_PER_MIN
    from .settings import get_settings

    notes: list[str] = []
    polygon = None
    if boundary is not None:
        gdf = boundary if isinstance(boundary, gpd.GeoDataFrame) else read_user_layer(boundary, what="--boundary", required=(), input_crs=input_crs)
        notes.extend(gdf.attrs.get("repair_notes", []))
        polygon = to_storage(gdf).geometry.union_all()
    data = load_osm(osm, polygon=polygon)
    lon, lat = float(data.nodes["lon"].median()), float(data.nodes["lat"].median())
    crs, crs_note = metric_crs_for(lon, lat, analysis_crs or get_settings().analysis_crs)
    if crs_note:
        notes.append(crs_note)
    bounds = (float(data.nodes["lon"].min()), float(data.nodes["lat"].min()), float(data.nodes["lon"].max()), float(data.nodes["lat"].max()))
    dem = _resolve_online_raster(dem, "copernicus", bounds, notes)
    population = _resolve_online_raster(population, "worldpop", bounds, notes)
    study_area = None
    if polygon is not None:
        from .crs import to_analysis

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
