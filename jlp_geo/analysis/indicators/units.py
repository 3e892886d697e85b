"""Statistical units: which 镇街 / 组团 each walk-network node lies in, and shares per unit.

Coverage-based indicators are population-weighted shares of walk-network nodes;
:func:`add_shares` writes one such share for the whole area and for every 组团 and
镇街 (:func:`node_units`), using the weights and sources bundled in a
:class:`CoverageContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from ...crs import to_analysis
from ...settings import get_settings
from ..population import coverage_shares
from .definitions import LEVEL_CLUSTER, LEVEL_TOWNSHIP, LEVEL_WHOLE, WHOLE_AREA
from .table import IndicatorRows

__all__ = ["CoverageContext", "NodeUnits", "add_shares", "nan_to_inf", "node_units", "township_of"]


@dataclass
class NodeUnits:
    """Node labels per unit level and the list of units per level.

    Attributes
    ----------
    labels
        Unit level -> the unit name of each node (object array, None outside every unit).
    names
        Unit level -> unit names, in the order of the polygons.
    polygons
        Unit level -> polygons in the analysis CRS (column ``name_zh``; 镇街 also ``cluster``).
    schematic
        True when the 镇街 boundaries are schematic (approximate), not legal ones.
    """

    labels: dict[str, np.ndarray]
    names: dict[str, list[str]]
    polygons: dict[str, gpd.GeoDataFrame]  # analysis CRS, column name_zh
    schematic: bool


def _geometry_named(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf if gdf.geometry.name == "geometry" else gdf.rename_geometry("geometry")


def node_units(x: np.ndarray, y: np.ndarray, crs: str, townships: gpd.GeoDataFrame | None, clusters: gpd.GeoDataFrame | None) -> NodeUnits:
    """The 镇街 and 组团 each node lies in.

    Parameters
    ----------
    x, y
        Node coordinates in *crs*.
    crs
        The nodes' (analysis) CRS.
    townships
        镇街 polygons (``name_zh``, optional ``cluster`` and ``is_schematic``), or None.
    clusters
        组团 polygons (``name_zh``), or None.

    Returns
    -------
    NodeUnits
        A 镇街 naming its cluster puts its nodes in that 组团 (the coverage tables' rule);
        镇街 without one go to the one 组团 no 镇街 names.  Without a ``cluster``
        column the 组团 is found by point-in-polygon.
    """
    labels: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    polys: dict[str, gpd.GeoDataFrame] = {}
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs)

    def within(polygons: gpd.GeoDataFrame) -> np.ndarray:
        joined = gpd.sjoin(pts, polygons[["name_zh", "geometry"]], how="left", predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        return joined["name_zh"].reindex(pts.index).to_numpy(dtype=object)

    schematic = False
    if townships is not None and len(townships):
        tw = to_analysis(townships, crs)
        tw = _geometry_named(tw[["name_zh"] + (["cluster"] if "cluster" in tw.columns else []) + [tw.geometry.name]])
        polys[LEVEL_TOWNSHIP] = tw
        labels[LEVEL_TOWNSHIP] = within(tw)
        names[LEVEL_TOWNSHIP] = [str(n) for n in tw["name_zh"]]
        schematic = bool(townships["is_schematic"].astype(bool).any()) if "is_schematic" in townships.columns else False
    if clusters is not None and len(clusters):
        cl = to_analysis(clusters, crs)
        cl = _geometry_named(cl[["name_zh", cl.geometry.name]])
        polys[LEVEL_CLUSTER] = cl
        names[LEVEL_CLUSTER] = [str(n) for n in cl["name_zh"]]
        tw = polys.get(LEVEL_TOWNSHIP)
        if tw is not None and "cluster" in tw.columns:
            # same rule as the coverage tables: a 镇街 belongs to its profile cluster; 镇街 without one
            # (the 重庆高新区 towns) to the one cluster no 镇街 names
            named = set(tw["cluster"].dropna())
            spare = [c for c in names[LEVEL_CLUSTER] if c not in named]
            fill = spare[0] if len(spare) == 1 else None
            of = {t: (c if isinstance(c, str) and c else fill) for t, c in zip(tw["name_zh"], tw["cluster"])}
            labels[LEVEL_CLUSTER] = np.array([of.get(t) if isinstance(t, str) else None for t in labels[LEVEL_TOWNSHIP]], dtype=object)
        else:
            labels[LEVEL_CLUSTER] = within(cl)
    return NodeUnits(labels, names, polys, schematic)


def township_of(lon: np.ndarray, lat: np.ndarray, units: NodeUnits) -> list[str]:
    """The 镇街 each storage-CRS (lon, lat) point lies in.

    Parameters
    ----------
    lon, lat
        Coordinates in the storage CRS.
    units
        The units of :func:`node_units`.

    Returns
    -------
    list of str
        The 镇街 name per point; ``""`` outside every 镇街 or without 镇街 polygons.
    """
    tw = units.polygons.get(LEVEL_TOWNSHIP)
    if tw is None or len(lon) == 0:
        return [""] * len(lon)
    pts = to_analysis(gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=get_settings().storage_crs), tw.crs)
    joined = gpd.sjoin(pts, tw[["name_zh", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return [str(v) if isinstance(v, str) else "" for v in joined["name_zh"].reindex(pts.index)]


@dataclass
class CoverageContext:
    """What the coverage-based indicator rows read.

    Attributes
    ----------
    coverage
        The :class:`~jlp_geo.analysis.accessibility.CoverageResult`.
    weights
        People (or 1) per walk-network node.
    basis
        The population basis, as the ``population_basis`` column states it.
    source, date
        Data source and date of the coverage result's OSM data.
    units
        The 镇街 / 组团 of every node (:func:`node_units`).
    crs
        The analysis CRS of the walk network.
    """

    coverage: Any  # CoverageResult
    weights: np.ndarray
    basis: str
    source: str
    date: str
    units: NodeUnits
    crs: str


def nan_to_inf(a: np.ndarray) -> np.ndarray:
    """*a* as floats with NaN (unreachable) replaced by +inf, so that ``<=`` comparisons are False.

    Parameters
    ----------
    a
        Times or distances per node.

    Returns
    -------
    numpy.ndarray
    """
    return np.nan_to_num(np.asarray(a, dtype=float), nan=np.inf)


def add_shares(rows: IndicatorRows, ctx: CoverageContext, indicator: str, measure: str, measure_zh: str, covered: np.ndarray,
               status: str = "computed", note: str = "") -> None:
    """Whole-area, 组团 and 镇街 rows of a population-weighted share (in %).

    Parameters
    ----------
    rows
        The row collector to add to.
    ctx
        Weights, units and sources of the coverage result.
    indicator, measure, measure_zh
        Indicator id and measure (code and Chinese text) of the rows.
    covered
        Per node: whether it is covered.
    status, note
        Status key (:data:`~jlp_geo.analysis.indicators.definitions.STATUS`) and note of
        every row; a unit without nodes (or people) gets ``no_nodes`` instead.
    """
    w = ctx.weights
    c = np.asarray(covered, dtype=bool)
    common = {"basis": ctx.basis, "source": ctx.source, "date": ctx.date}
    whole = coverage_shares(w, c, None).iloc[0]
    rows.add(indicator, measure, measure_zh, LEVEL_WHOLE, WHOLE_AREA, 100.0 * whole["share"], status=status, note=note,
             covered=whole["covered_population"], population=whole["population"], **common)
    for level in (LEVEL_CLUSTER, LEVEL_TOWNSHIP):
        if level not in ctx.units.labels:
            continue
        table = coverage_shares(w, c, ctx.units.labels[level])
        unit_note = "镇街边界为示意 approximate boundaries" if ctx.units.schematic else ""
        for name in ctx.units.names[level]:
            if name in table.index and table.loc[name, "population"] > 0:
                r = table.loc[name]
                rows.add(indicator, measure, measure_zh, level, name, 100.0 * r["share"], status=status,
                         note="; ".join(x for x in (note, unit_note) if x),
                         covered=r["covered_population"], population=r["population"], **common)
            else:
                rows.add(indicator, measure, measure_zh, level, name, np.nan, status="no_nodes",
                         note="单元内无路网节点或人口 no walk-network node (or no population) inside", **common)
