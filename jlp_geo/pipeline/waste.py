"""The construction-waste job: analyse, then write ``waste.gpkg``, tables, map and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import __version__
from ..analysis.waste import COLUMNS_ZH, GPKG_NAME, MAP_NAME, REPORT_NAME, WasteResult, analyse_waste
from ..config import Profile
from ..io import staged_outputs, write_csv, write_geopackage
from ..io.staging import check_output_folder
from ..reports.waste import write_waste_report


def write_waste_outputs(result: WasteResult, folder: str | Path, *, tianditu_token: str | None = None) -> list[Path]:
    """Write ``waste.gpkg``, ``tables/waste_*.csv``, ``maps/waste.html`` and ``waste_report.html`` into *folder*.

    *folder* is normally a job's staging folder (:func:`jlp_geo.io.staged_outputs`): the job publishes
    everything together once every output is complete.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..viz.waste_map import write_waste_map  # folium is heavy: import only when writing maps

    staging, staged = Path(folder), []
    metadata = {"title": "建筑垃圾产消平衡、运距与邻避筛查 construction-waste analysis", "generator": f"jlp_geo {__version__}",
                "haul_method": result.method["haul_label"], "generation_proxy": result.method["proxy_label"],
                "population": result.method["population"], "osm": result.method["osm"], "parameters": result.params.path}
    metadata.update({f"note_{i:02d}": n for i, n in enumerate(result.notes, 1)})
    metadata.update({f"finding_{i:02d}": n for i, n in enumerate(result.key_findings(), 1)})
    staged.append(write_geopackage(staging / GPKG_NAME, result.layers(), dataset_metadata=metadata))
    headers = dict(COLUMNS_ZH)
    headers["population_possible"] = "人口（含位置不确定）"
    for c in result.params.receptors:
        headers.update({
            f"n_{c.id}": f"{c.name_zh}（缓冲内）", f"n_{c.id}_possible": f"{c.name_zh}（含位置不确定）",
            f"nearest_m_{c.id}": f"最近{c.name_zh}（米）", f"names_{c.id}": f"{c.name_zh}名称",
        })
    headers["area_ha_residential"] = "缓冲内居住用地（公顷）"
    for name, df in result.tables().items():
        staged.append(write_csv(df, staging / "tables" / f"{name}.csv", headers))
    staged.append(write_waste_map(result, staging / "maps" / MAP_NAME, tianditu_token=tianditu_token))
    staged.append(write_waste_report(result, staging / REPORT_NAME))
    return staged


def run_waste(
    out_dir: str | Path,
    *,
    profile: Profile | str | Path | None = None,
    osm: Any = None,
    townships: str | Path | gpd.GeoDataFrame | None = None,
    generation_file: str | Path | None = None,
    sites_file: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    tianditu_token: str | None = None,
    **kwargs: Any,
) -> tuple[WasteResult, list[Path]]:
    """Compute the construction-waste analysis (``jlp-geo waste``), then write its outputs.

    Everything is computed before anything is written (bad input loses nothing); see
    :func:`analyse_waste` for the parameters (extra keyword arguments go there: ``params``, ``proxy``,
    ``facilities``, ``input_crs``) and :func:`write_waste_outputs` for the files.

    Returns
    -------
    tuple
        ``(WasteResult, list of written files)``.
    """
    check_output_folder(out_dir)  # an unusable --out stops the run before any work
    result = analyse_waste(
        profile, osm=osm, townships=townships, generation_file=generation_file, sites_file=sites_file,
        population=population, **kwargs,
    )
    with staged_outputs(out_dir, job="waste") as (staging, files):
        files.extend(write_waste_outputs(result, staging, tianditu_token=tianditu_token))
    return result, files
