"""The network container: :class:`WalkNetwork`, a directed graph as flat arrays, and its layers.

Both builders (:func:`~jlp_geo.network.walk_network_from_osm` and
:func:`~jlp_geo.network.drive_network_from_osm`) return this container; the
coverage core in :mod:`jlp_geo.analysis.coverage` works on its arrays.
:func:`components` labels weakly connected parts by size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import to_storage
from ..layers.common import finish_layer
from .terrain import DEFAULT_SPEED_M_PER_MIN

__all__ = ["OSM_SOURCE", "WalkNetwork", "components"]

OSM_SOURCE: str = "OpenStreetMap contributors (ODbL)"
"""Default provenance text of a network built from OSM."""


@dataclass
class WalkNetwork:
    """A directed walk network as flat arrays (the coverage core works on these).

    Every walkable segment appears as two directed edges (``u -> v`` and
    ``v -> u``), each with its own ``time_s``; ``length_m`` is the horizontal
    length in the analysis CRS.

    Attributes
    ----------
    node_ids
        OSM node id per node (int64).
    x, y
        Node coordinates in :attr:`crs` (metres).
    z
        Node elevation (m) or None without a DEM; NaN where unknown.
    u, v
        Directed edge endpoints as node indices (int32).
    length_m
        Horizontal edge length (m).
    time_s
        Walking time for the direction ``u -> v`` (s).
    grade
        Grade used for ``time_s`` (rise/run in the direction ``u -> v``; 0 without DEM).
    way_id
        OSM way id per edge.
    highway
        ``highway`` tag per edge (object array).
    bridge, tunnel, elevator
        Structure flags per edge (bool).
    name, name_en
        ``name`` (or ``name:zh``) and ``name:en`` tags of the way per edge
        (object arrays; None where absent).
    component
        Weakly connected component per node, numbered by size (0 = largest).
    component_size
        Number of nodes in the node's component.
    crs
        The analysis CRS of ``x``/``y``.
    speed_m_per_min
        Base (level ground) walking speed.
    source
        Data source (``"OpenStreetMap contributors (ODbL)"`` plus the extract date if known).
    meta
        Build counts: ways kept / dropped by reason, segments dropped for missing
        nodes, nodes without elevation, and so on.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray | None
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    grade: np.ndarray
    way_id: np.ndarray
    highway: np.ndarray
    bridge: np.ndarray
    tunnel: np.ndarray
    elevator: np.ndarray
    name: np.ndarray
    name_en: np.ndarray
    component: np.ndarray
    component_size: np.ndarray
    crs: str
    speed_m_per_min: float = DEFAULT_SPEED_M_PER_MIN
    source: str = OSM_SOURCE
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.u.size)

    def weight(self, metric: str) -> np.ndarray:
        """Edge weights for ``metric``: ``"length"`` (m) or ``"time"`` (s)."""
        if metric in ("length", "length_m"):
            return self.length_m
        if metric in ("time", "time_s"):
            return self.time_s
        raise ValueError(f"metric must be 'length' or 'time', not {metric!r}")

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The walk network as a layer: one row per directed edge, EPSG:4490.

        (``coverage.gpkg`` writes its compact form instead, one row per OSM way with both
        directions' times: :func:`jlp_geo.pipeline.coverage_layers.walk_ways_layer`.)

        Columns: the provenance columns (``name_zh``/``name_en`` from the way's
        name, ``source``, ``precision="surveyed"``), ``u``, ``v``, ``u_osm``,
        ``v_osm``, ``way_id``, ``highway``, ``length_m``, ``time_s``, ``grade``,
        ``bridge``, ``tunnel``, ``elevator`` and a two-point LineString.
        """
        geoms = shapely.linestrings(
            np.stack(
                [np.column_stack([self.x[self.u], self.y[self.u]]), np.column_stack([self.x[self.v], self.y[self.v]])],
                axis=1,
            )
        )
        df = pd.DataFrame(
            {
                "name_zh": self.name,
                "name_en": self.name_en,
                "source": self.source,
                "precision": "surveyed",
                "uncertainty_m": np.nan,
                "u": self.u,
                "v": self.v,
                "u_osm": self.node_ids[self.u],
                "v_osm": self.node_ids[self.v],
                "way_id": self.way_id,
                "highway": self.highway,
                "length_m": self.length_m,
                "time_s": self.time_s,
                "grade": self.grade,
                "bridge": self.bridge,
                "tunnel": self.tunnel,
                "elevator": self.elevator,
            }
        )
        return finish_layer(gpd.GeoDataFrame(df, geometry=geoms, crs=self.crs), layer="walk_edges")

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """The network nodes as points in EPSG:4490.

        Columns: ``node`` (index), ``osm_id``, ``z`` (NaN without DEM),
        ``component``, ``component_size``, ``in_largest`` and the geometry.
        """
        gdf = gpd.GeoDataFrame(
            {
                "node": np.arange(self.n_nodes, dtype=np.int64),
                "osm_id": self.node_ids,
                "z": self.z if self.z is not None else np.full(self.n_nodes, np.nan),
                "component": self.component,
                "component_size": self.component_size,
                "in_largest": self.component == 0,
            },
            geometry=gpd.points_from_xy(self.x, self.y),
            crs=self.crs,
        )
        return to_storage(gdf)



def components(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Weakly connected components of a directed graph, numbered by size.

    Parameters
    ----------
    u, v
        Directed edge endpoints (node indices in ``[0, n)``).
    n
        Number of nodes.

    Returns
    -------
    component : numpy.ndarray
        Component per node (int32), 0 = largest (ties keep scipy's order).
    component_size : numpy.ndarray
        Number of nodes in the node's component (int64).
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    g = coo_array((np.ones(u.size), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=True, connection="weak")
    counts = np.bincount(labels)
    order = np.argsort(-counts, kind="stable")  # relabel: 0 = largest
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    comp = rank[labels].astype(np.int32)
    return comp, counts[labels].astype(np.int64)
