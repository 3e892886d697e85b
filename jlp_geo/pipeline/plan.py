"""The plan layers of the build: every layer and plan table in memory, then the GeoPackage, tables and atlas."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import __version__
from ..config import Profile, load_profile
from ..io import table_from_layer, write_csv, write_geopackage
from ..layers import admin, agenda, parks, transport, waste
from ..layers import planned
from ..layers.shelters import shelters_from_osm
from ..layers.common import PRECISION_ZH
from ..sources.plausibility import check_in_study_area, tolerances
from ..sources.osm import read_osm
from ..sources.userfile import read_user_layer
from ..styles import style_for

GPKG_NAME = "jiulongpo.gpkg"
ATLAS_NAME = "atlas.html"


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
    district = admin.build_district(profile)  # user files are checked against it (sources.plausibility)
    outline = district.geometry.union_all()
    tol = tolerances(profile)

    def user(spec: str | Path | None, what: str, required: tuple[str, ...]) -> gpd.GeoDataFrame | None:
        if spec is None:
            return None
        gdf = read_user_layer(spec, what=what, required=required, input_crs=input_crs)
        check_in_study_area(gdf, outline, what=f"{what} {spec}", analysis_crs=profile.analysis_crs,
                            tolerance_km=tol["user_layer_tolerance_km"], area_name=profile.name_zh)
        notes.extend(gdf.attrs.get("repair_notes", []))
        notes.append(f"{what}: layer replaced by the user file {gdf.attrs.get('source_file')}")
        return gdf

    # read every user file first: a bad one stops the run before any work or writing
    official_towns = user(townships, "--townships", ())
    user_parks = user(parks_file, "--parks", ("name_zh",))
    user_waste = user(waste_file, "--waste-facilities", ("name_zh",))
    user_transport = user(transport_file, "--transport", ("name_zh",))

    towns = admin.build_townships(profile, district, official=official_towns)
    if towns.attrs.get("tiling"):
        notes.append(f"--townships: {towns.attrs['tiling']}")
    clusters = admin.build_clusters(profile, towns)
    layers: dict[str, gpd.GeoDataFrame] = {
        "district": district,
        "townships": towns,
        "clusters": clusters,
        "parks": parks.build_parks(profile, user=user_parks),
        "waste_facilities": waste.build_waste_facilities(profile, user=user_waste),
        "transport_projects": transport.build_transport_projects(profile, user=user_transport),
        "urban_rail_existing": transport.build_urban_rail_existing(profile),
        "planned_facilities": planned.build_planned_facilities(),  # 专栏21–23 etc. (issue 10)
    }
    layers.update(agenda.build_agenda_layers(profile))  # the plan's spatial agenda (issue 15)
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
        **{name: agenda.COLUMNS_ZH for name in agenda.AGENDA_LAYERS},
        "planned_facilities": planned.COLUMNS_ZH,
    }
    notes.append(
        "规划空间议程 The plan's spatial agenda (城市更新、绿地系统、生态格局、九龙新城、水利能源、应急避难): "
        + "; ".join(f"{n} {int(layers[n]['located'].sum())}/{len(layers[n])} located" for n in agenda.AGENDA_LAYERS)
        + " — items the gazetteer cannot place are listed without geometry."
    )
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


def write_plan_outputs(
    plan: PlanLayers,
    folder: str | Path,
    profile: Profile,
    *,
    tianditu_token: str | None = None,
) -> list[Path]:
    """Write the GeoPackage, the CSV tables and the atlas into *folder*.

    *folder* is normally a job's staging folder (:func:`jlp_geo.io.staged_outputs`).

    Returns
    -------
    list of Path
        The files written.
    """
    from ..viz.atlas import write_atlas  # folium is heavy: import only when writing maps

    staging, final = Path(folder), []
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
    final.append(write_atlas(plan.layers, staging / "maps" / ATLAS_NAME, tianditu_token=tianditu_token, notes=plan.notes))
    return final


def layer_counts(plan: PlanLayers) -> dict[str, dict[str, int]]:
    """Features and located features per layer (for the build summary)."""
    return {
        n: {"features": len(g), "located": int((g.geometry.notna() & ~g.geometry.is_empty).sum())}
        for n, g in plan.layers.items()
    }


def add_osm_shelters(plan: PlanLayers, osm: object, profile: Profile) -> int:
    """Append the OSM emergency shelters (``layers/shelter_tags.csv``) to ``emergency_shelters``.

    Parameters
    ----------
    plan
        The plan layers (changed in place).
    osm
        :class:`~jlp_geo.sources.osm.OsmData` or a path to an OSM file (read clipped to the district).
    profile
        Study-area profile (analysis CRS for the polygon areas).

    Returns
    -------
    int
        Number of OSM features added.
    """
    if not hasattr(osm, "nodes"):
        osm = read_osm(osm, polygon=plan.layers["district"].geometry.union_all())
    found = shelters_from_osm(osm, profile.analysis_crs)
    if len(found):
        plan.layers["emergency_shelters"] = agenda.build_agenda_layer(profile, "emergency_shelters", extra=found)
    plan.notes.append(f"应急避难场所 Emergency shelters in OSM ({osm.provenance}): {len(found)} features "
                      f"({int(found['area_m2'].notna().sum()) if len(found) else 0} mapped as areas).")
    return len(found)
