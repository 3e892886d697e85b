"""15分钟高品质生活服务圈: who can walk to which everyday service, and who cannot.

This module runs the whole coverage analysis on top of the stage modules:
OSM data (:mod:`jlp_geo.sources.osm`) → walk network (:mod:`jlp_geo.network`) →
services by category (:mod:`jlp_geo.layers.services`) → one multi-source
shortest-path run per category and metric (:mod:`jlp_geo.coverage`) →
population weights (:mod:`jlp_geo.population`) → shares per 镇街, 组团, H3 hex
and for the whole area, and service areas.

Two rules are reported for every category:

* **distance rule** — network metres to the nearest service ≤ the category's
  radius (``radius_m`` in ``layers/service_categories.csv``; categories without
  a radius report distances only);
* **time rule** — walking minutes ≤ the category's life-circle level (5/10/15),
  at the stated speed, hill-aware when a DEM is given.

A node is *covered for all basic categories* when it is covered for every
category flagged ``basic`` in the table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Profile
from .coverage import CoverageWarning, nearest_by_category, snap_points
from .background import Background
from .isochrones import isochrone_layer
from ..crs import to_analysis, transform_xy
from ..layers.common import finish_layer
from ..errors import InputDataError
from ..layers.categories import Category, load_categories, parse_tag_rules
from ..layers.services import (
    services_from_osm,
    service_access_points,
    service_summary,
)
from ..network import DEFAULT_SPEED_M_PER_MIN, WalkNetwork, walk_network_from_osm
from .population import PopulationWeights, population_from_census, population_from_raster, unweighted
from .service_inputs import ServiceInputs, services_from_sources
from ..progress import step
from ..settings import get_settings
from ..sources.osm import OsmData, read_osm_file

#: residential land from OSM, over which census totals per 镇街 are spread
RESIDENTIAL_LAND = Category(
    id="residential_land",
    name_zh="居住用地",
    name_en="Residential land",
    level_min=15,
    radius_m=None,
    rule_source="population allocation (not a service)",
    verified="none",
    osm_rule="landuse=residential ; building=residential|apartments|house|detached|dormitory|terrace",
    rules=parse_tag_rules("landuse=residential ; building=residential|apartments|house|detached|dormitory|terrace"),
    geometry="polygon",
    min_area_m2=None,
    basic=False,
)

BASIC = "basic_all"
BASIC_ZH = "全部基本服务"
RULES = {"time": "时间标准 (分钟)", "dist": "距离标准 (米)"}
DEFAULT_H3_RESOLUTION = 9
DEFAULT_SNAP_M = 200.0
DEFAULT_MIN_COMPONENT = 50


@dataclass
class CoverageResult:
    """Everything the coverage analysis computed (layers in EPSG:4490, tables as DataFrames)."""

    network: WalkNetwork
    categories: list[Category]
    services: gpd.GeoDataFrame
    service_summary: pd.DataFrame
    nodes: gpd.GeoDataFrame
    population: PopulationWeights
    by_township: gpd.GeoDataFrame | None
    by_cluster: gpd.GeoDataFrame | None
    by_hex: gpd.GeoDataFrame
    whole_area: pd.DataFrame
    service_areas: Any  # the isochrones layer, or the Background job drawing it (see `isochrones`)
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)
    poi_unknown: pd.DataFrame | None = None
    completeness: pd.DataFrame | None = None
    data_coverage: Any = None  # analysis.data_coverage.DataCoverage: share of each unit the inputs cover
    scenario: Any = None

    @property
    def isochrones(self) -> gpd.GeoDataFrame:
        """The service-area layer (the first access waits for the process drawing it)."""
        if isinstance(self.service_areas, Background):
            self.service_areas = self.service_areas.result()
        return self.service_areas

    def __getstate__(self) -> dict[str, Any]:  # a pickled result (Dask) carries the finished layer
        self.isochrones  # noqa: B018
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:  # results pickled before the layer was deferred
        if "isochrones" in state:
            state = {**state, "service_areas": state["isochrones"]}
            del state["isochrones"]
        self.__dict__.update(state)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The GeoPackage layers, in order."""
        out = {
            "walk_edges": self.network.edges_gdf(),
            "services": finish_layer(self.services, layer="services"),
            "access_nodes": self.nodes,
            "coverage_hex": self.by_hex,
        }
        if self.by_township is not None:
            out["coverage_townships"] = self.by_township
        if self.by_cluster is not None:
            out["coverage_clusters"] = self.by_cluster
        out["isochrones"] = self.isochrones
        return out


def _covered(costs: pd.DataFrame, limits: dict[str, float | None]) -> pd.DataFrame:
    """Boolean coverage per node and category; NaN-free (unreachable = not covered)."""
    out = {}
    for cat, limit in limits.items():
        if limit is None:
            continue
        out[cat] = costs[cat].to_numpy() <= limit
    return pd.DataFrame(out, index=costs.index)


def _share_table(
    weights: np.ndarray,
    covered: dict[str, pd.DataFrame],
    groups: np.ndarray | None,
) -> pd.DataFrame:
    """Wide table: population and share per rule and category for each group.

    The group labels are factorised once (sorted, missing labels dropped, as ``groupby`` does) and each
    column is one weighted ``bincount``: memory stays one node-length array, not one per column.
    """
    keys = [(rule, cat) for rule, cov in covered.items() for cat in cov.columns]
    if not keys:
        return pd.DataFrame()
    w = np.asarray(weights, dtype=float)
    if groups is None:
        codes, labels = np.zeros(len(w), dtype=np.intp), pd.Index([0])
    else:
        g = np.asarray(groups)
        codes, labels = pd.factorize(g if g.dtype.kind in "iu" else pd.Series(g, dtype=object), sort=True)
    k = len(labels)
    valid = codes >= 0
    pop = np.bincount(codes[valid], weights=w[valid], minlength=k)
    positive = pop > 0
    out = {"population": pop}
    for rule, cat in keys:
        sel = valid & np.asarray(covered[rule][cat].to_numpy(), dtype=bool)
        covered_pop = np.bincount(codes[sel], weights=w[sel], minlength=k)
        out[f"share_{rule}_{cat}"] = np.where(positive, covered_pop / np.where(positive, pop, 1.0), np.nan)
    return pd.DataFrame(out, index=pd.Index(labels, name="group"))


def _lonlat(network: WalkNetwork) -> tuple[np.ndarray, np.ndarray]:
    return transform_xy(network.x, network.y, network.crs, get_settings().storage_crs)


def _hex_layer(lon: np.ndarray, lat: np.ndarray, weights: np.ndarray, covered: dict[str, pd.DataFrame], resolution: int) -> gpd.GeoDataFrame:
    import h3

    from h3.api import numpy_int as h3_int

    # cells as 64-bit integers (one array, not a string per node); equal-length hex strings sort as the integers
    cells = np.fromiter((h3_int.latlng_to_cell(la, lo, resolution) for lo, la in zip(lon, lat)), dtype=np.uint64, count=lon.size)
    table = _share_table(weights, covered, cells)
    table["n_nodes"] = pd.Series(cells).value_counts().reindex(table.index).to_numpy()
    del cells
    table.index = pd.Index([h3.int_to_str(int(c)) for c in table.index], name="group")
    polys = [shapely.Polygon([(lng, la) for la, lng in h3.cell_to_boundary(c)]) for c in table.index]
    table = table.reset_index().rename(columns={"group": "h3_cell"})
    table.insert(0, "name_zh", [f"H3 {c}" for c in table["h3_cell"]])
    table.insert(1, "name_en", table["h3_cell"])
    table.insert(2, "source", f"H3 resolution {resolution} hexagons over the walk network")
    table.insert(3, "precision", "surveyed")
    return finish_layer(table, polys, crs=get_settings().storage_crs, layer="coverage_hex")


def group_nodes(network: WalkNetwork, polygons: gpd.GeoDataFrame, key: str) -> np.ndarray:
    """Label each node with the *key* of the polygon containing it (None outside all)."""
    poly = to_analysis(polygons[[key, polygons.geometry.name]], network.crs).reset_index(drop=True)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(network.x, network.y), crs=network.crs)
    joined = gpd.sjoin(pts, poly, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined[key].to_numpy(dtype=object)


def _polygon_layer(
    polygons: gpd.GeoDataFrame,
    key: str,
    table: pd.DataFrame,
    layer: str,
    keep: list[str],
    note: str,
) -> gpd.GeoDataFrame:
    table = table.reset_index().rename(columns={"group": key})
    base = polygons[[c for c in keep if c in polygons.columns] + [polygons.geometry.name]].copy()
    merged = base.merge(table, on=key, how="left")
    merged["population"] = merged["population"].fillna(0.0)
    for col, default in (("name_en", ""), ("source", "polygons given by the caller"), ("precision", "surveyed")):
        if col not in merged.columns:
            merged[col] = default
    merged["coverage_note"] = note
    return finish_layer(merged, layer=layer)


def analyse_coverage(
    osm: OsmData,
    *,
    categories: list[Category] | None = None,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    dem: str | Path | None = None,
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN,
    analysis_crs: str | None = None,
    h3_resolution: int = DEFAULT_H3_RESOLUTION,
    snap_max_m: float = DEFAULT_SNAP_M,
    min_component_size: int = DEFAULT_MIN_COMPONENT,
    study_area: shapely.Geometry | None = None,
    census: dict[str, float] | None = None,
    census_source: str = "census totals per 镇街 (user file)",
    service_inputs: ServiceInputs | None = None,
    release_osm: bool = False,
) -> CoverageResult:
    """Run the 15-minute coverage analysis on OSM data already read (any channel).

    Parameters
    ----------
    osm
        Canonical OSM data (from a PBF/XML file or Overpass).
    categories
        Service categories (default: ``layers/service_categories.csv``).
    townships, clusters
        Optional 镇街 / 组团 polygons (``name_zh``) for the per-unit tables.
    population
        Population GeoTIFF (WorldPop/GHSL); without it, shares are of network nodes.
    dem
        Elevation GeoTIFF for hill-aware (Tobler) walking times.
    speed_m_per_min
        Level-ground walking speed (default 60 m/min).
    analysis_crs
        Metric CRS (default: settings, EPSG:4544).
    h3_resolution
        H3 resolution of the hex layer (9 ≈ 0.1 km² cells).
    snap_max_m
        Services farther than this from the network are flagged and not used.
    min_component_size
        Services snap only to network parts with at least this many nodes, so a
        service on an isolated footway fragment does not serve nobody.
    study_area
        Polygon (analysis CRS) restricting population cells; None = the data's extent.
    census
        ``{镇街 name_zh: residents}``: spread over OSM residential land (``landuse=residential``,
        residential buildings) of each 镇街, then onto nodes (needs *townships*; a
        raster *population* takes precedence).
    census_source
        Citation of the census figures.
    service_inputs
        The planners' facility lists and POI exports, merged with the OSM services
        (:func:`jlp_geo.analysis.service_inputs.services_from_sources`).
    release_osm
        Drop *osm*'s tables (:meth:`~jlp_geo.sources.osm.OsmData.release`) once the network,
        the services and the residential land are built from them: for callers that do not
        need them afterwards, so that large extracts leave memory early.

    Returns
    -------
    CoverageResult
    """
    crs = analysis_crs or get_settings().analysis_crs
    categories = categories or load_categories()
    notes: list[str] = []
    step("构建步行网络 building the walk network")
    network = walk_network_from_osm(
        osm.nodes, osm.ways, crs=crs, speed_m_per_min=speed_m_per_min, dem=dem, source=osm.provenance
    )
    notes.append(
        f"步行网络 Walk network: {network.n_nodes:,} nodes, {network.n_edges // 2:,} segments; "
        f"speed {speed_m_per_min:g} m/min on level ground"
        + ("; hill-aware (Tobler) times from the DEM" if dem else "; no DEM given: times ignore slopes")
    )
    small = int((network.component_size < min_component_size).sum())
    if small:
        notes.append(f"{small:,} nodes lie in network parts with < {min_component_size} nodes (disconnected fragments); they are kept and usually reach no service")

    step("提取服务设施 services from OSM, facility lists and POI exports")
    services, poi_unknown, service_notes = services_from_sources(osm, categories, crs, service_inputs)
    notes.extend(service_notes)
    summary = service_summary(services, categories)
    access = service_access_points(services)
    snapped = snap_points(network, access.geometry.x.to_numpy(), access.geometry.y.to_numpy(), snap_max_m, min_component_size=min_component_size)
    access = access.assign(node=snapped["node"].to_numpy(), snap_dist_m=snapped["dist_m"].to_numpy(), off_network=snapped["off_network"].to_numpy())
    off_services = access.groupby("service_index")["off_network"].all()
    services = services.assign(off_network=off_services.reindex(services.index).fillna(True).to_numpy() & services.get("included", True))
    n_off = int(services["off_network"].sum())
    if n_off:
        notes.append(f"{n_off} service(s) lie more than {snap_max_m:g} m from the walk network: flagged off_network and not used")

    residential = None
    if census and population is None:  # residential land to spread census totals over (read before the tables go)
        residential = services_from_osm(osm, [RESIDENTIAL_LAND], crs=crs)
        residential = residential[residential["included"].astype(bool)] if len(residential) else residential
    osm_provenance = osm.provenance
    if release_osm:
        osm.release()

    sources = {c.id: np.unique(access.loc[(access["category"] == c.id) & ~access["off_network"], "node"].to_numpy()) for c in categories}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        time_s = nearest_by_category(network, sources, metric="time")
        dist = nearest_by_category(network, sources, metric="length")
    empty = [c.name_zh + f" ({c.id})" for c in categories if sources[c.id].size == 0]
    if empty:
        notes.append("没有找到服务设施 No service found for: " + "、".join(empty) + " — every resident counts as not covered for them")
    del caught
    # one block of per-node costs, metres and minutes per category side by side (NaN = unreachable): the
    # node layer's columns, and what the rules read (no further copy of 2 x 21 columns per node)
    ids = [c.id for c in categories]
    costs = np.empty((network.n_nodes, 2 * len(ids)))
    for j, cid in enumerate(ids):
        costs[:, 2 * j] = dist[cid].to_numpy(dtype=float)
    del dist
    for j, cid in enumerate(ids):
        costs[:, 2 * j + 1] = time_s[cid].to_numpy(dtype=float) / 60.0
    del time_s
    costs[~np.isfinite(costs)] = np.nan
    dist = pd.DataFrame(costs[:, 0::2], columns=ids, copy=False)
    time_min = pd.DataFrame(costs[:, 1::2], columns=ids, copy=False)
    # service areas (isochrones) by the time rule: drawn in a second process while this one goes on; forked
    # now that only the cost block is held (it stays shared with the child: no copy of what the parent frees)
    kinds = "+".join(sorted(set(services["source_kind"]))) if "source_kind" in services.columns else "OSM"
    iso_minutes = {cid: costs[:, 2 * j + 1] for j, cid in enumerate(ids) if sources[cid].size}
    isochrones = Background(isochrone_layer, network, categories, iso_minutes, kinds, cost_unit="min")
    del iso_minutes

    dist_limits = {c.id: c.radius_m for c in categories}
    time_limits = {c.id: float(c.level_min) for c in categories}
    covered = {"time": _covered(time_min, time_limits), "dist": _covered(dist, dist_limits)}
    basic = [c.id for c in categories if c.basic]
    for rule, cov in covered.items():
        cols = [b for b in basic if b in cov.columns]
        cov[BASIC] = cov[cols].all(axis=1) if cols else False

    # population
    if population is not None:
        pop = population_from_raster(population, network.x, network.y, crs, area=study_area)
    elif census:
        if townships is None:
            raise InputDataError(
                "census totals per 镇街 need 镇街 polygons to spread them over",
                where="--census",
                fix="run it through jlp-geo build (which has the 镇街 layer), or give --population FILE instead",
            )
        pop = population_from_census(townships, census, residential, network.x, network.y, crs, source=census_source)
        notes.append(f"人口按镇街普查数分摊到 {len(residential):,} 处居住用地/住宅建筑 (OSM) — census totals spread by residential area")
    else:
        pop = unweighted(network.n_nodes)
    notes.extend(pop.notes)

    # per-node layer, built in the storage CRS and final column order on the cost block (not copied)
    lon, lat = _lonlat(network)
    node_cols: dict[str, Any] = {
        "name_zh": None, "name_en": None, "source": network.source, "precision": "surveyed", "uncertainty_m": np.nan,
        "node": np.arange(network.n_nodes),
        "osm_node_id": network.node_ids,
        "component": network.component,
        "component_size": network.component_size,
        "population": pop.weights,
    }
    names = [prefix + cid for cid in ids for prefix in ("dist_m_", "time_min_")]
    del dist, time_min
    tail = {f"covered_time_{BASIC}": covered["time"][BASIC].to_numpy(), f"covered_dist_{BASIC}": covered["dist"][BASIC].to_numpy()}
    frame = pd.concat([pd.DataFrame(node_cols), pd.DataFrame(costs, columns=names, copy=False), pd.DataFrame(tail)], axis=1, copy=False)
    nodes = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=get_settings().storage_crs)
    del node_cols, costs, frame
    nodes = finish_layer(nodes, layer="access_nodes", copy=False)

    # aggregation
    whole = _share_table(pop.weights, covered, None)
    whole.index = ["全域 whole area"]
    by_hex = _hex_layer(lon, lat, pop.weights, covered, h3_resolution)
    by_town = by_cluster = None
    if townships is not None:
        labels = group_nodes(network, townships, "name_zh")
        table = _share_table(pop.weights, covered, labels)
        schematic = bool(townships.get("is_schematic", pd.Series([False])).any())
        note = "镇街边界为示意 (approximate boundaries)" if schematic else "镇街 boundaries as given"
        by_town = _polygon_layer(townships, "name_zh", table, "coverage_townships", ["name_zh", "name_en", "code", "cluster", "precision", "source", "uncertainty_m"], note)
        if clusters is not None and "cluster" in townships.columns:
            cl_of = dict(zip(townships["name_zh"], townships["cluster"].fillna(clusters["name_zh"].iloc[-1])))
            cl_labels = np.array([cl_of.get(x) if x is not None else None for x in labels], dtype=object)
            ctable = _share_table(pop.weights, covered, cl_labels)
            by_cluster = _polygon_layer(clusters, "name_zh", ctable, "coverage_clusters", ["name_zh", "name_en", "precision", "source", "uncertainty_m"], note)
        outside = int(sum(x is None or (isinstance(x, float) and np.isnan(x)) for x in labels))
        if outside:
            notes.append(f"{outside:,} network nodes lie outside every 镇街 polygon (extract beyond the district): in the hex and whole-area figures only")

    services_out = services.copy()
    provenance = {
        "osm": osm_provenance,
        "population": pop.label,
        "speed_m_per_min": f"{speed_m_per_min:g}",
        "dem": str(dem) if dem else "none (flat)",
        "categories": "layers/service_categories.csv (GB 50180-2018 radii where verified; see column verified)",
    }
    return CoverageResult(
        network=network,
        categories=categories,
        services=services_out,
        service_summary=summary,
        nodes=nodes,
        population=pop,
        by_township=by_town,
        by_cluster=by_cluster,
        by_hex=by_hex,
        whole_area=whole,
        service_areas=isochrones,
        notes=notes,
        provenance=provenance,
        poi_unknown=poi_unknown,
    )


def coverage_from_file(
    osm_path: str | Path,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    profile: Profile | None = None,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    **kwargs: Any,
) -> CoverageResult:
    """Read an ``.osm.pbf`` / ``.osm`` file (clipped to *boundary* if given) and run :func:`analyse_coverage`."""
    polygon = None
    study_area = None
    if boundary is not None:
        from ..crs import to_storage

        polygon = to_storage(boundary).geometry.union_all()
        study_area = to_analysis(boundary, kwargs.get("analysis_crs")).geometry.union_all()
    osm = read_osm_file(osm_path, polygon=polygon)
    return analyse_coverage(osm, townships=townships, clusters=clusters, study_area=study_area, **kwargs)
