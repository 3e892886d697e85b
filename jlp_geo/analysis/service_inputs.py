"""The services of a coverage run: OSM + the planners' facility lists + POI exports, merged.

:func:`services_from_sources` is the one place where the three channels meet:
OSM features (:func:`jlp_geo.layers.services.services_from_osm`), facility lists
(:func:`jlp_geo.layers.external.services_from_facilities`) and POI exports
(:func:`jlp_geo.layers.external.services_from_pois`) become one table per
category through :func:`jlp_geo.layers.merge.merge_services`, keeping every
source of every service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from ..layers.categories import Category
from ..layers.external import services_from_facilities, services_from_pois
from ..layers.merge import DEFAULT_MERGE_DISTANCE_M, DEFAULT_NAME_SIMILARITY, merge_services
from ..layers.services import services_from_osm
from ..sources.osm import OsmData

__all__ = ["ServiceInputs", "services_from_sources"]


@dataclass
class ServiceInputs:
    """The planners' own service data for a coverage run (all optional).

    Attributes
    ----------
    facilities
        Facility lists read by :func:`jlp_geo.sources.facilities.read_facilities`.
    pois
        POI exports read by :func:`jlp_geo.sources.pois.read_pois`.
    merge_distance_m, name_similarity
        The de-duplication parameters of :func:`jlp_geo.layers.merge.merge_services`.
    """

    facilities: list[gpd.GeoDataFrame] = field(default_factory=list)
    pois: list[gpd.GeoDataFrame] = field(default_factory=list)
    merge_distance_m: float = DEFAULT_MERGE_DISTANCE_M
    name_similarity: float = DEFAULT_NAME_SIMILARITY


def services_from_sources(
    osm: OsmData,
    categories: Sequence[Category],
    crs: object,
    inputs: ServiceInputs | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """All services of a coverage run, merged across sources.

    Returns
    -------
    services : GeoDataFrame
        In *crs*; the columns of ``services_from_osm`` plus ``source_kind``,
        ``source_ref``, ``sources``, ``source_kinds``, ``n_sources``, capacity,
        status and year (empty for OSM rows).
    unknown_types : DataFrame
        POI types no row of ``layers/poi_categories.csv`` matched, with counts.
    notes : list of str
        What was merged (with the parameters) and the readers' ``警告`` lines.
    """
    inputs = inputs or ServiceInputs()
    frames = [services_from_osm(osm, categories, crs=crs)]
    frames[0]["source_kind"] = "osm"
    frames[0]["source_ref"] = [f"{t}/{i}" for t, i in zip(frames[0]["osm_type"], frames[0]["osm_id"])]
    notes: list[str] = []
    unknown = []
    for fac in inputs.facilities:
        frames.append(services_from_facilities(fac, categories, crs=crs))
        notes.extend(fac.attrs.get("notes", []))
        notes.append(f"设施清单 facility list {fac.attrs.get('source_file', '')}: {len(fac)} facilities "
                     f"(coordinates {fac.attrs.get('datum', 'wgs84')})")
    for poi in inputs.pois:
        svc, unk = services_from_pois(poi, categories, crs=crs)
        frames.append(svc)
        unknown.append(unk.assign(source_file=poi.attrs.get("source_file", "")))
        notes.extend(poi.attrs.get("notes", []))
        n_unknown = int(unk["count"].sum()) if len(unk) else 0
        notes.append(f"POI 导出 POI export {poi.attrs.get('source_file', '')}: {len(poi)} POIs, {len(svc)} service rows; "
                     f"{n_unknown} POIs of {len(unk)} type(s) not in layers/poi_categories.csv (table poi_unknown_types)")
    merged = merge_services(frames, max_distance_m=inputs.merge_distance_m, min_name_similarity=inputs.name_similarity)
    if len(frames) > 1:
        m = merged.attrs["merge"]
        notes.append(f"合并 merged {m['merged_rows']} duplicate row(s) across sources: same category, ≤ {m['max_distance_m']:g} m "
                     f"apart and name similarity ≥ {m['min_name_similarity']:g}; every service keeps all its sources")
    unknown_df = pd.concat(unknown, ignore_index=True) if unknown else pd.DataFrame(
        columns=["provider", "typecode", "type", "count", "example", "source_file"])
    return merged, unknown_df, notes
