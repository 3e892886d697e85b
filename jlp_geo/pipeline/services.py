"""The coverage job's service inputs and their outputs: facility lists, POI exports, completeness, plan scenario.

Used by :mod:`jlp_geo.pipeline.coverage`:

* :func:`read_service_inputs` reads every ``--facilities`` / ``--pois`` file first,
  so a bad one stops the run before any analysis;
* :func:`add_service_analyses` adds the completeness table (per category and
  镇街) and, with ``--scenario plan``, the before/after coverage of the plan's
  located new facilities to a finished :class:`~jlp_geo.analysis.accessibility.CoverageResult`;
* :func:`service_layers` / :func:`write_service_tables` put them into
  ``coverage.gpkg`` and ``tables/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..analysis.accessibility import CoverageResult
from ..analysis.completeness import COMPLETENESS_HEADERS, NO_DATA, analyse_completeness
from ..analysis.scenario import SCENARIO_HEADERS, analyse_scenario
from ..analysis.service_inputs import ServiceInputs
from ..errors import InputDataError
from ..io import write_csv
from ..layers.common import finish_layer
from ..layers.planned import COLUMNS_ZH as PLANNED_ZH
from ..layers.planned import build_planned_facilities
from ..notices import warn
from ..sources.facilities import read_facilities
from ..sources.pois import POI_SOURCES, read_pois

__all__ = ["SCENARIOS", "add_service_analyses", "read_service_inputs", "service_layers", "write_service_tables"]

SCENARIOS = ("plan",)
#: margin (degrees) around the OSM data within which facility files must lie
BOUNDS_MARGIN_DEG = 0.1
#: the per-service table: every service with all its sources
LIST_HEADERS = {"category": "服务类别 category", "category_zh": "服务类别", "name": "名称", "source_kinds": "来源类型",
                "n_sources": "来源数", "sources": "全部来源 sources", "capacity": "规模", "capacity_unit": "规模单位",
                "status": "状态", "year": "年份", "off_network": "距路网过远未计入"}
UNKNOWN_HEADERS = {"provider": "来源", "typecode": "类型代码", "type": "类型", "count": "数量", "example": "示例名称",
                   "source_file": "文件"}


def read_service_inputs(
    facilities: Sequence[str | Path] | None,
    pois: Sequence[str | Path] | None,
    *,
    poi_source: str = "amap",
    input_crs: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> ServiceInputs | None:
    """Read the ``--facilities`` and ``--pois`` files (None when neither is given).

    Parameters
    ----------
    facilities
        ``FILE`` or ``FILE:category`` per list.
    pois
        POI export files.
    poi_source
        ``amap`` (GCJ-02) or ``baidu`` (BD-09).
    input_crs
        Datum of the facility lists' lon/lat (``wgs84`` / ``gcj02`` / ``bd09``);
        also overrides the POI provider's datum when given.
    bounds
        The OSM data's extent (lon/lat); files must lie within it (± 0.1°).
    """
    if not facilities and not pois:
        return None
    if poi_source not in POI_SOURCES:
        raise InputDataError(f"unknown --poi-source {poi_source!r}", where="--poi-source", fix="use amap or baidu")
    box = None if bounds is None else (bounds[0] - BOUNDS_MARGIN_DEG, bounds[1] - BOUNDS_MARGIN_DEG,
                                       bounds[2] + BOUNDS_MARGIN_DEG, bounds[3] + BOUNDS_MARGIN_DEG)
    fac = [read_facilities(f, input_crs=input_crs, bounds=box) for f in facilities or []]
    poi = [read_pois(p, source=poi_source, input_crs=input_crs, bounds=box) for p in pois or []]
    for gdf in fac + poi:
        for line in gdf.attrs.get("notes", []):
            warn(line)
    return ServiceInputs(facilities=fac, pois=poi)


def add_service_analyses(
    result: CoverageResult,
    *,
    townships: gpd.GeoDataFrame | None = None,
    scenario: str | None = None,
) -> None:
    """Attach the completeness table and, for ``scenario="plan"``, the before/after scenario to *result*.

    The scenario adds the plan's located facilities (``planned_facilities``) and the rows of the
    facility lists marked planned / under construction.
    """
    residents = total = None
    if result.population.method != "unweighted":
        total = float(np.nansum(result.population.weights))
        if result.by_township is not None:
            residents = result.by_township.set_index("name_zh")["population"]
    result.completeness = analyse_completeness(result.services, result.categories, townships=townships,
                                               residents=residents, total_residents=total)
    flagged = result.completeness[(result.completeness["unit_level"] == "全域 whole area") & (result.completeness["flag"] != "")]
    if len(flagged):
        result.notes.append(warn("数据完整性 completeness: " + "、".join(flagged["category_zh"]) +
                                 " — 设施数据疑似缺失 likely data gaps, not service gaps (table coverage_completeness)"))
    if scenario is None:
        return
    if scenario not in SCENARIOS:
        raise InputDataError(f"unknown scenario {scenario!r}", where="--scenario", fix="use --scenario plan")
    planned = build_planned_facilities()
    user = _planned_from_lists(result.services)
    if len(user):
        planned = pd.concat([planned, user.to_crs(planned.crs)], ignore_index=True)
    result.scenario = analyse_scenario(result, planned)
    result.notes.extend(warn(n) if n.startswith("警告") else n for n in result.scenario.notes)


def _planned_from_lists(services: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Facility-list rows marked planned / under construction: they join the plan scenario (not the existing services)."""
    if "status" not in services.columns or "included" not in services.columns:
        return services.iloc[0:0]
    rows = services[~services["included"].fillna(True).astype(bool) & services["status"].isin(("planned", "under_construction"))]
    return gpd.GeoDataFrame(
        {"name_zh": rows["name"].astype(str), "name_en": "", "source": rows["source"], "precision": rows["precision"],
         "uncertainty_m": np.nan, "plan_id": "", "category": rows["category"], "plan_clause": rows["source_ref"],
         "status": rows["status"], "location_basis": "facility list"},
        geometry=rows.geometry.values, crs=services.crs)


def service_layers(result: CoverageResult) -> dict[str, gpd.GeoDataFrame]:
    """Extra GeoPackage layers: the plan's facilities added in the scenario (``scenario_added``)."""
    sc = result.scenario
    if sc is None or len(sc.used) == 0:
        return {}
    keep = [c for c in ("name_zh", "name_en", "source", "precision", "uncertainty_m", "plan_id", "category", "category_zh",
                        "plan_clause", "status", "snap_dist_m") if c in sc.used.columns]
    return {"scenario_added": finish_layer(sc.used[keep + [sc.used.geometry.name]], layer="scenario_added")}


def _no_data(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    for col in columns:
        out[col] = out[col].astype(object).where(out[col].notna(), NO_DATA)
    return out


def write_service_tables(result: CoverageResult, folder: Path) -> tuple[dict[str, pd.DataFrame], list[Path]]:
    """Write ``coverage_service_list.csv`` (every service with all its sources), ``coverage_completeness.csv``,
    ``poi_unknown_types.csv`` and ``coverage_scenario*.csv`` into ``folder/tables``.

    Returns
    -------
    tables : dict
        The tables written (for the Excel workbook).
    files : list of Path
    """
    tables: dict[str, pd.DataFrame] = {}
    files = []
    svc = result.services
    cols = [c for c in LIST_HEADERS if c in svc.columns]
    tables["coverage_service_list"] = pd.DataFrame(svc[cols])
    files.append(write_csv(tables["coverage_service_list"], folder / "tables" / "coverage_service_list.csv", LIST_HEADERS))
    if result.completeness is not None:
        tables["coverage_completeness"] = _no_data(result.completeness, ("residents", "per_10k"))
        files.append(write_csv(tables["coverage_completeness"], folder / "tables" / "coverage_completeness.csv", COMPLETENESS_HEADERS))
    if result.poi_unknown is not None and len(result.poi_unknown):
        tables["poi_unknown_types"] = result.poi_unknown
        files.append(write_csv(result.poi_unknown, folder / "tables" / "poi_unknown_types.csv", UNKNOWN_HEADERS))
    if result.scenario is not None:
        tables["coverage_scenario"] = result.scenario.table
        files.append(write_csv(result.scenario.table, folder / "tables" / "coverage_scenario.csv", SCENARIO_HEADERS))
        skipped = result.scenario.skipped
        cols = [c for c in ("plan_id", "name_zh", "category", "plan_clause", "status", "location_basis", "reason") if c in skipped.columns]
        tables["coverage_scenario_skipped"] = skipped[cols]
        files.append(write_csv(skipped[cols], folder / "tables" / "coverage_scenario_skipped.csv", PLANNED_ZH | {"reason": "未计入原因"}))
    return tables, files
