"""Centres of the units, their walk-compactness, and the names units take from OSM.

* **centre**: the unit's 社区服务中心 / 党群服务中心 / 街道办 (OSM ``community_service`` or
  ``government`` facilities inside it) that reaches the most of its residents within the compact
  reach; where a unit has none, the node that reaches the most of its residents among its growth
  centre (the node nearest its population centroid) and the nodes nearest 8 points on rings of
  400 m, then 200 m around the best so far (a local search that maximises compactness);
* **walk-compactness**: the share of the unit's residents who can walk to the centre within
  ``compact_minutes`` (15), along the real walk times (no barrier penalties);
* **name**: the OSM place (社区, neighbourhood, quarter …) inside the unit nearest the centre within ``max_m``;
  otherwise the 镇街 name and a number.  OSM names are untrusted text: kept as text, escaped on display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ...crs import transform_xy
from ...network import WalkNetwork
from ...sources.osm import OsmData
from ..coverage import build_csr
from .parameters import CircleParameters

__all__ = ["Centres", "choose_centres", "name_units", "osm_place_names"]

CENTRE_CATEGORIES = ("community_service", "government")
MAX_CANDIDATES = 5
#: local search of a growth centre: rings of these radii around the best centre so far
SEARCH_RADII_M = (400.0, 200.0)


@dataclass
class Centres:
    """Centre node per unit, what it is, and the unit's walk-compactness."""

    node: np.ndarray
    kind: list[str]
    name: list[str | None]
    compactness: np.ndarray


def _reach(g, centre: int, limit_s: float) -> np.ndarray:
    return dijkstra(g, directed=True, indices=int(centre), limit=limit_s)


def _share(g, centre: int, limit_s: float, w: np.ndarray, members: np.ndarray, pop: float) -> float:
    """Share of the unit's residents (*members*, *pop* in all) within *limit_s* of *centre*; NaN without residents."""
    if not pop > 0:
        return float("nan")
    t = _reach(g, centre, limit_s)
    return float(w[members & (t <= limit_s)].sum() / pop)


def _better(best, cand):
    """The candidate ``(node, kind, name, share)`` with the larger share (the first on ties; NaN loses)."""
    if best is None or (np.isfinite(cand[3]) and (not np.isfinite(best[3]) or cand[3] > best[3] + 1e-12)):
        return cand
    return best


def _ring_candidates(x: np.ndarray, y: np.ndarray, members: np.ndarray, cx: float, cy: float, radius: float) -> list[int]:
    """Member nodes nearest the centre point and 8 points on a ring of *radius* around it (deterministic)."""
    ang = np.arange(8) * np.pi / 4
    px = np.r_[cx, cx + radius * np.cos(ang)]
    py = np.r_[cy, cy + radius * np.sin(ang)]
    tree = cKDTree(np.column_stack([x[members], y[members]]))
    return list(dict.fromkeys(members[tree.query(np.column_stack([px, py]))[1]].tolist()))


def choose_centres(
    network: WalkNetwork,
    weights: np.ndarray,
    labels: np.ndarray,
    seeds: np.ndarray,
    candidates: list[tuple[int, str | None]],
    params: CircleParameters,
    eligible: np.ndarray | None = None,
) -> Centres:
    """Pick each unit's centre and compute its walk-compactness (see the module docstring).

    Parameters
    ----------
    network
        Walk network (real walk times ``time_s``).
    weights
        Residents per node.
    labels
        Unit per node (-1 = none).
    seeds
        Growth centre node per unit (the fallback centre).
    candidates
        ``(node, name)`` of the community service centres / sub-district offices on the network.
    params
        ``compact_minutes``.
    eligible
        Nodes that may be a growth centre (the main network); default all.

    Returns
    -------
    Centres
    """
    eligible = np.ones(network.n_nodes, dtype=bool) if eligible is None else np.asarray(eligible, bool)
    limit = params.compact_minutes * 60.0
    g = build_csr(network.u, network.v, network.time_s, network.n_nodes, reverse=True)
    w = np.asarray(weights, dtype=float)
    cand_nodes = np.asarray([c[0] for c in candidates], dtype=np.int64)
    cand_unit = labels[cand_nodes] if cand_nodes.size else np.empty(0, dtype=np.int64)
    nodes, kinds, names, compact = [], [], [], []
    for j, seed in enumerate(seeds.tolist()):
        members = labels == j
        pop = float(w[members].sum())
        options = [(int(seed), "growth", None)]
        mine = np.flatnonzero(cand_unit == j)
        if mine.size:
            d = np.hypot(network.x[cand_nodes[mine]] - network.x[seed], network.y[cand_nodes[mine]] - network.y[seed])
            picked = mine[np.argsort(d, kind="stable")[:MAX_CANDIDATES]]
            options = [(int(cand_nodes[i]), "service", candidates[int(i)][1]) for i in picked]
        best: tuple[int, str, str | None, float] | None = None
        for node, kind, name in options:
            best = _better(best, (node, kind, name, _share(g, node, limit, w, members, pop)))
        if options[0][1] == "growth" and pop > 0:
            # local search for the growth centre: rings of 400 m, then 200 m around the best so far
            pool = np.flatnonzero(members & eligible) if (members & eligible).any() else np.flatnonzero(members)
            for radius in SEARCH_RADII_M:
                for node in _ring_candidates(network.x, network.y, pool, network.x[best[0]], network.y[best[0]], radius):
                    best = _better(best, (node, "growth", None, _share(g, node, limit, w, members, pop)))
        nodes.append(best[0])
        kinds.append(best[1])
        names.append(best[2])
        compact.append(best[3])
    return Centres(np.asarray(nodes, dtype=np.int64), kinds, names, np.asarray(compact, dtype=float))


def osm_place_names(osm: OsmData, params: CircleParameters, crs: object) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """OSM nodes matching the naming rules: x, y (in *crs*) and name (``name:zh`` or ``name``)."""
    keys = frozenset().union(*(r.keys for r in params.naming_rules))
    lon, lat, names = [], [], []
    for lo, la, tags in zip(osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy(), osm.nodes["tags"]):
        if not tags or keys.isdisjoint(tags):
            continue
        name = tags.get("name:zh") or tags.get("name")
        if name and any(r.matches(tags) for r in params.naming_rules):
            lon.append(lo)
            lat.append(la)
            names.append(str(name))
    if not names:
        return np.empty(0), np.empty(0), []
    x, y = transform_xy(np.asarray(lon), np.asarray(lat), "EPSG:4326", crs)
    return x, y, names


def name_units(
    centre_x: np.ndarray,
    centre_y: np.ndarray,
    unit_township: list[str],
    centre_names: list[str | None],
    places: tuple[np.ndarray, np.ndarray, list[str]],
    max_m: float,
    territories: list[shapely.Geometry] | None = None,
) -> tuple[list[str], list[str]]:
    """Name per unit and where the name comes from.

    The OSM place nearest the centre within *max_m* (and inside the unit's territory when
    *territories* are given), then the centre's own name (a 社区服务中心 named in OSM), else
    ``<镇街>第N单元`` numbered within the 镇街.  Repeated names get ``（2）``, ``（3）``.
    """
    px, py, pnames = places
    names, basis, counter, seen = [], [], {}, {}
    for i, (cx, cy) in enumerate(zip(centre_x, centre_y)):
        town = unit_township[i]
        counter[town] = counter.get(town, 0) + 1
        name, why = None, ""
        if len(pnames):
            d = np.hypot(px - cx, py - cy)
            ok = d <= max_m
            if territories is not None:
                ok &= shapely.contains_xy(territories[i], px, py)
            if ok.any():
                k = int(np.flatnonzero(ok)[np.argmin(d[ok])])
                name, why = pnames[k], f"OSM 地名 (距中心 {d[k]:.0f} m)"
        if name is None and centre_names[i]:
            name, why = str(centre_names[i]), "中心设施名称 (OSM)"
        if name is None:
            name, why = f"{town}第{counter[town]}单元", "镇街名称 + 编号 (OSM 无地名)"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}（{seen[name]}）"
        names.append(name)
        basis.append(why)
    return names, basis
