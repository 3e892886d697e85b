"""Barriers between life circles: arterials, railways, rivers and water (OSM) and, with a DEM, steep slopes.

A barrier does not cut the walk network (people do cross arterials, at a cost): the delineation adds
``crossing_penalty_s`` to every walk segment that *enters* a barrier (steps from a side street onto an
arterial or a level crossing), *crosses* one (a crosswalk or a bridge over a river) or is steeper than
``max_grade``.  The growth of units from their seeds then tends to stop at barriers.  Only the
delineation uses the penalised times; walk times and compactness use the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ...crs import transform_xy
from ...network import WalkNetwork
from ...sources.osm import OsmData
from .parameters import CircleParameters

__all__ = ["BarrierPenalty", "barrier_penalty"]


@dataclass
class BarrierPenalty:
    """Extra seconds per directed walk edge, and what caused them."""

    penalty_s: np.ndarray
    n_barrier_ways: int
    n_entering: int
    n_crossing: int
    n_steep: int
    lines: np.ndarray  # shapely LineStrings of the barrier ways (analysis CRS)

    @property
    def note(self) -> str:
        """One line for the notes."""
        return (
            f"障碍 Barriers: {self.n_barrier_ways:,} OSM ways (arterials, railways, rivers, water); "
            f"{self.n_entering:,} walk segments enter and {self.n_crossing:,} cross a barrier, "
            f"{self.n_steep:,} are steeper than the stated grade"
        )


def _barrier_ways(osm: OsmData, params: CircleParameters) -> tuple[list[int], list[list[int]]]:
    keys = frozenset().union(*(r.keys for r in params.barrier_rules))
    ids, refs = [], []
    for wid, wrefs, tags in zip(osm.ways["id"].to_numpy(), osm.ways["refs"], osm.ways["tags"]):
        if not tags or keys.isdisjoint(tags):
            continue
        if any(r.matches(tags) for r in params.barrier_rules):
            ids.append(int(wid))
            refs.append(list(wrefs))
    return ids, refs


def barrier_penalty(network: WalkNetwork, osm: OsmData, params: CircleParameters) -> BarrierPenalty:
    """Penalty in seconds per directed edge of *network* (see the module docstring).

    Parameters
    ----------
    network
        The walk network (analysis CRS).
    osm
        The OSM data the network was built from.
    params
        Barrier rules, crossing penalty and maximum grade.

    Returns
    -------
    BarrierPenalty
    """
    ids, refs = _barrier_ways(osm, params)
    node_ids = osm.nodes["id"].to_numpy()
    lon = osm.nodes["lon"].to_numpy(dtype=float)
    lat = osm.nodes["lat"].to_numpy(dtype=float)
    lines = []
    barrier_nodes: set[int] = set()
    for wrefs in refs:
        barrier_nodes.update(wrefs)
    used = np.fromiter(barrier_nodes, dtype=np.int64, count=len(barrier_nodes))
    pos_all = np.clip(np.searchsorted(node_ids, used), 0, max(len(node_ids) - 1, 0))
    found = node_ids[pos_all] == used if len(node_ids) else np.zeros(used.size, bool)
    bx, by = transform_xy(lon[pos_all[found]], lat[pos_all[found]], "EPSG:4326", network.crs)
    known = dict(zip(used[found].tolist(), zip(bx.tolist(), by.tolist())))
    for wrefs in refs:
        xy = [known[r] for r in wrefs if r in known]
        if len(xy) >= 2:
            lines.append(shapely.linestrings(xy))
    on_barrier = np.isin(network.node_ids, used)
    entering = on_barrier[network.v] & ~on_barrier[network.u]
    crossing = np.zeros(network.n_edges, dtype=bool)
    if lines:
        segs = shapely.linestrings(
            np.stack([np.column_stack([network.x[network.u], network.y[network.u]]),
                      np.column_stack([network.x[network.v], network.y[network.v]])], axis=1)
        )
        tree = shapely.STRtree(lines)
        hit = tree.query(segs, predicate="crosses")
        crossing[np.unique(hit[0])] = True
        crossing &= ~entering
    steep = np.zeros(network.n_edges, dtype=bool)
    if network.z is not None:
        steep = np.abs(np.nan_to_num(network.grade)) > params.max_grade
    penalty = np.where(entering | crossing | steep, params.crossing_penalty_s, 0.0)
    return BarrierPenalty(
        penalty_s=penalty,
        n_barrier_ways=len(ids),
        n_entering=int(entering.sum()),
        n_crossing=int(crossing.sum()),
        n_steep=int(steep.sum()),
        lines=np.asarray(lines, dtype=object),
    )
