"""Who lives where: population weights on the walk network's nodes.

Three methods, and every result says which one it used (``PopulationWeights.method``):

* ``raster`` — a gridded population GeoTIFF (WorldPop / GHSL, people per cell):
  each cell's people go to the walk-network node nearest the cell centre
  (cells farther than ``max_snap_m`` from any node are reported, not silently
  moved);
* ``census`` — totals per 镇街 spread over residential land (OSM
  ``landuse=residential`` or buildings) in proportion to area, then to nodes;
* ``unweighted`` — every node counts once: results are shares of *network nodes*
  (a rough proxy of where people can be), stated as such.

Online sources (documented, not fetched in tests): WorldPop constrained 100 m
``chn_ppp_2020_UNadj_constrained.tif`` from https://hub.worldpop.org, or GHSL
GHS-POP R2023A 100 m tiles from https://ghsl.jrc.ec.europa.eu.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..crs import to_analysis
from ..errors import InputDataError, MissingInputError
from ..notices import warn

METHODS = ("raster", "census", "unweighted")
METHOD_ZH = {"raster": "人口栅格加权", "census": "镇街人口按居住用地分摊", "unweighted": "不加权（按路网节点）"}


@dataclass
class PopulationWeights:
    """Population per network node and how it was obtained."""

    weights: np.ndarray
    method: str
    source: str
    total_input: float
    unallocated: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Chinese + English description of the method, for tables and maps."""
        return f"{METHOD_ZH[self.method]} ({self.method}; {self.source})"


def unweighted(n_nodes: int) -> PopulationWeights:
    """Every node weighs 1 — used when no population input is given."""
    return PopulationWeights(
        weights=np.ones(n_nodes),
        method="unweighted",
        source="no population data given: shares are of walk-network nodes, not of people",
        total_input=float(n_nodes),
        notes=["没有人口数据：覆盖率按路网节点计算，不代表人口比例 (no population input: shares of network nodes)."],
    )


def population_from_raster(
    path: str | Path,
    node_x: np.ndarray,
    node_y: np.ndarray,
    analysis_crs: str,
    *,
    max_snap_m: float = 500.0,
    area=None,
) -> PopulationWeights:
    """Allocate a population raster to the nearest network nodes.

    Parameters
    ----------
    path
        GeoTIFF of people per cell (WorldPop / GHSL); nodata and negative cells are ignored.
    node_x, node_y
        Node coordinates in *analysis_crs* (metres).
    analysis_crs
        CRS of the nodes.
    max_snap_m
        Cells whose centre is farther than this from every node are left unallocated and reported.
    area
        Optional shapely polygon (in *analysis_crs*) restricting the cells counted.

    Returns
    -------
    PopulationWeights
    """
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - rasterio is a dependency of the osm extra
        raise MissingInputError("rasterio is needed to read population rasters", fix="pip install 'jlp_geo[osm]'") from exc
    path = Path(path)
    if not path.is_file():
        raise MissingInputError("population raster not found", where=str(path), fix="check --population FILE")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputDataError("the population raster has no CRS", where=str(path), fix="use the GeoTIFF as published (WorldPop/GHSL carry their CRS)")
            data = src.read(1, masked=True).astype("float64")
            rows, cols = np.nonzero(~np.ma.getmaskarray(data) & (data.filled(0) > 0))
            values = data[rows, cols].filled(0)
            xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
            raster_crs = src.crs.to_string()
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(f"cannot read the population raster: {exc}", where=str(path)) from exc
    pts = gpd.GeoDataFrame({"pop": values}, geometry=gpd.points_from_xy(np.asarray(xs), np.asarray(ys)), crs=raster_crs)
    pts = to_analysis(pts, analysis_crs)
    if area is not None:
        pts = pts[pts.within(area)]
    total = float(pts["pop"].sum())
    weights = np.zeros(len(node_x))
    notes = []
    unallocated = 0.0
    if len(pts) and len(node_x):
        tree = cKDTree(np.column_stack([node_x, node_y]))
        dist, idx = tree.query(np.column_stack([pts.geometry.x, pts.geometry.y]))
        ok = dist <= max_snap_m
        np.add.at(weights, idx[ok], pts["pop"].to_numpy()[ok])
        unallocated = float(pts["pop"].to_numpy()[~ok].sum())
        if unallocated > 0:
            notes.append(
                f"{unallocated:,.0f} of {total:,.0f} people ({unallocated / total:.1%}) live in cells more than "
                f"{max_snap_m:.0f} m from the walk network and are counted as not covered by any category"
            )
    return PopulationWeights(weights, "raster", f"{path.name}", total, unallocated, notes)


def population_from_census(
    townships: gpd.GeoDataFrame,
    totals: dict[str, float],
    residential: gpd.GeoDataFrame,
    node_x: np.ndarray,
    node_y: np.ndarray,
    analysis_crs: str,
    *,
    source: str,
) -> PopulationWeights:
    """Spread census totals per 镇街 over residential areas, then onto nodes.

    Each 镇街's total is divided among the residential polygons inside it in
    proportion to their area; each polygon's share goes to the nodes nearest
    points sampled on it (its centroid when small).  镇街 without residential
    land fall back to their nodes evenly, and say so.

    Parameters
    ----------
    townships
        镇街 polygons with ``name_zh``.
    totals
        ``{name_zh: residents}``; 镇街 missing from it get no population and are reported.
    residential
        Residential polygons (OSM ``landuse=residential`` or buildings).
    node_x, node_y
        Node coordinates in *analysis_crs*.
    analysis_crs
        Metric CRS.
    source
        Citation of the census figures.
    """
    towns = to_analysis(townships[["name_zh", townships.geometry.name]], analysis_crs)
    res = to_analysis(residential[[residential.geometry.name]], analysis_crs)
    res = res[res.geom_type.isin(["Polygon", "MultiPolygon"])]
    tree = cKDTree(np.column_stack([node_x, node_y]))
    weights = np.zeros(len(node_x))
    notes: list[str] = []
    missing = [t for t in towns["name_zh"] if t not in totals]
    if missing:
        notes.append(warn(f"--census: {len(missing)}/{len(towns)} 个镇街没有普查人口（{'、'.join(missing[:6])}{'…' if len(missing) > 6 else ''}），"
                          f"其覆盖率为 无数据 no data — no census total for {len(missing)} 镇街: their shares are not computed "
                          "and whole-area shares cover only the 镇街 listed"))
    pieces = gpd.overlay(res, towns, how="intersection", keep_geom_type=True) if len(res) else res.assign(name_zh=[])
    pieces["a"] = pieces.area
    for name, total in totals.items():
        mine = pieces[pieces["name_zh"] == name]
        if len(mine) == 0 or mine["a"].sum() <= 0:
            poly = towns.loc[towns["name_zh"] == name].geometry
            if len(poly) == 0:
                notes.append(warn(f"--census: 未知镇街 {name}（{total:,.0f} 人）已忽略 — census total for a 镇街 not in the "
                                  "profile ignored; check the spelling against layers/jiulongpo.yml"))
                continue
            inside = np.asarray(gpd.GeoSeries(gpd.points_from_xy(node_x, node_y), crs=towns.crs).within(poly.iloc[0]))
            if inside.any():
                weights[inside] += total / inside.sum()
                notes.append(f"{name}: no residential land mapped; its {total:,.0f} residents spread evenly over its nodes")
            else:
                notes.append(f"{name}: neither residential land nor network nodes; {total:,.0f} residents not allocated")
            continue
        reps = mine.geometry.representative_point()
        _, idx = tree.query(np.column_stack([reps.x, reps.y]))
        np.add.at(weights, idx, total * mine["a"].to_numpy() / mine["a"].sum())
    return PopulationWeights(weights, "census", source, float(sum(totals.values())), 0.0, notes)


def coverage_shares(
    weights: np.ndarray, covered: np.ndarray, groups: np.ndarray | pd.Series | None = None
) -> pd.DataFrame:
    """Weighted share of covered nodes, per group and overall.

    Parameters
    ----------
    weights
        Population (or 1) per node.
    covered
        Boolean per node (or 2-D: nodes × categories).
    groups
        Group label per node (e.g. 镇街 name, H3 cell); ``None`` for the whole area.

    Returns
    -------
    DataFrame
        Index = group, columns ``population``, ``covered_population``, ``share``
        (NaN where a group has no population).
    """
    w = np.asarray(weights, dtype=float)
    c = np.asarray(covered, dtype=bool)
    g = pd.Series(np.zeros(len(w), dtype=int) if groups is None else np.asarray(groups), name="group")
    df = pd.DataFrame({"group": g, "population": w, "covered_population": w * c})
    out = df.groupby("group", dropna=True)[["population", "covered_population"]].sum()
    out["share"] = np.where(out["population"] > 0, out["covered_population"] / out["population"].where(out["population"] > 0), np.nan)
    return out
