"""How far each origin is from each facility, and how the waste is best shared among the facilities.

Haul distances on the OSM drive network (:func:`network_costs`) or, without one, straight line × a stated
detour factor (:func:`straight_line_costs`, labelled by :func:`straight_line_label`); and the
capacity-respecting allocation that minimises quantity × distance (:func:`solve_transport`, a
transportation problem solved with ``scipy.optimize.linprog``/HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import LineString

from .figures import format_plan_number

__all__ = ["HaulCosts", "TransportSolution", "network_costs", "solve_transport", "straight_line_costs", "straight_line_label"]


@dataclass
class HaulCosts:
    """Haul distances from origins to facilities.

    Attributes
    ----------
    km
        ``(n_origins, n_facilities)`` haul distance in km (``inf`` where no route).
    method
        Same shape, object: ``"network"`` or ``"straight line × f"`` (with the reason for a fallback).
    routes
        ``routes[i][j]``: the route (analysis CRS) as a LineString.
    origin_snap_m, facility_snap_m
        Snap distances to the drive network (NaN without network).
    """

    km: np.ndarray
    method: np.ndarray
    routes: list[list[LineString | None]]
    origin_snap_m: np.ndarray
    facility_snap_m: np.ndarray


def straight_line_label(detour: float) -> str:
    """Label of the straight-line fallback, for tables, map and report.

    Parameters
    ----------
    detour
        Straight-line → road distance factor.

    Returns
    -------
    str
        Chinese and English label with the factor.
    """
    return f"直线距离×{format_plan_number(detour)}（估算，无路网）straight line × {format_plan_number(detour)} (estimate, no road network)"


def straight_line_costs(ox: np.ndarray, oy: np.ndarray, fx: np.ndarray, fy: np.ndarray, detour: float) -> HaulCosts:
    """Straight-line distance × *detour* between origins and facilities (metric coordinates).

    Parameters
    ----------
    ox, oy, fx, fy
        Origin and facility coordinates (metres).
    detour
        Straight-line → road distance factor.

    Returns
    -------
    HaulCosts
        ``km = hypot(dx, dy) / 1000 × detour``; routes are the straight segments.
    """
    ox, oy, fx, fy = (np.asarray(a, dtype=float) for a in (ox, oy, fx, fy))
    d = np.hypot(ox[:, None] - fx[None, :], oy[:, None] - fy[None, :]) / 1000.0 * detour
    label = straight_line_label(detour)
    method = np.full(d.shape, label, dtype=object)
    routes = [[LineString([(ox[i], oy[i]), (fx[j], fy[j])]) for j in range(fx.size)] for i in range(ox.size)]
    return HaulCosts(d, method, routes, np.full(ox.size, np.nan), np.full(fx.size, np.nan))


def network_costs(
    network: Any,
    ox: np.ndarray,
    oy: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    *,
    detour: float,
    snap_max_m: float,
) -> HaulCosts:
    """Shortest drive-network distances from every origin to every facility.

    Origins and facilities are snapped to the nearest node of the network's largest connected part;
    the snap legs are added as straight lines.  One Dijkstra per facility on the reversed graph
    (origin → facility along one-way streets).  A pair whose end lies more than *snap_max_m* from the
    network, or that has no route, falls back to straight line × *detour* and says so in ``method``.

    Parameters
    ----------
    network
        A :class:`jlp_geo.network.WalkNetwork`-shaped drive network (:func:`jlp_geo.network.drive_network_from_osm`).
    ox, oy, fx, fy
        Origin and facility coordinates in ``network.crs``.
    detour, snap_max_m
        Fallback factor and largest snap distance.

    Returns
    -------
    HaulCosts
        Distances, methods and routes (analysis CRS) of every origin × facility pair.
    """
    from scipy.sparse.csgraph import dijkstra

    from ..coverage import build_csr, snap_points

    ox, oy, fx, fy = (np.asarray(a, dtype=float) for a in (ox, oy, fx, fy))
    fallback = straight_line_costs(ox, oy, fx, fy, detour)
    biggest = int(network.component_size.max()) if network.n_nodes else 1
    so = snap_points(network, ox, oy, snap_max_m, min_component_size=biggest)
    sf = snap_points(network, fx, fy, snap_max_m, min_component_size=biggest)
    km = fallback.km.copy()
    method = fallback.method.copy()
    routes = [row[:] for row in fallback.routes]
    g = build_csr(network.u, network.v, network.length_m, network.n_nodes, reverse=True)
    label_off = straight_line_label(detour) + "；离路网过远 off the network"
    label_none = straight_line_label(detour) + "；路网不连通 no route"
    for j in range(fx.size):
        fnode = int(sf["node"].iloc[j])
        if fnode < 0:
            method[:, j] = label_off
            continue
        dist, pred = dijkstra(g, directed=True, indices=fnode, return_predecessors=True)
        for i in range(ox.size):
            onode = int(so["node"].iloc[i])
            if onode < 0:
                method[i, j] = label_off
                continue
            if not np.isfinite(dist[onode]):
                method[i, j] = label_none
                continue
            km[i, j] = (dist[onode] + so["dist_m"].iloc[i] + sf["dist_m"].iloc[j]) / 1000.0
            method[i, j] = "network"
            path = [onode]
            while path[-1] != fnode:
                path.append(int(pred[path[-1]]))
            coords = [(ox[i], oy[i])] + [(network.x[n], network.y[n]) for n in path] + [(fx[j], fy[j])]
            routes[i][j] = LineString(coords)
    return HaulCosts(km, method, routes, so["dist_m"].to_numpy(float), sf["dist_m"].to_numpy(float))


@dataclass
class TransportSolution:
    """Optimal allocation of supplies to capacities.

    Attributes
    ----------
    flow
        ``(n, m)`` quantity from origin *i* to facility *j*.
    unserved
        ``(n,)`` supply no facility could take (capacity exhausted or no route).
    cost
        Σ flow × cost (the penalty of unserved supply is not included).
    status
        Solver message.
    """

    flow: np.ndarray
    unserved: np.ndarray
    cost: float
    status: str


def solve_transport(supply: np.ndarray, capacity: np.ndarray, cost: np.ndarray) -> TransportSolution:
    """Minimum-cost allocation of *supply* to facilities with *capacity* (a transportation problem).

    minimise Σ c_ij x_ij + M Σ u_i  subject to  Σ_j x_ij + u_i = s_i,  Σ_i x_ij ≤ K_j,  x, u ≥ 0,

    solved with ``scipy.optimize.linprog`` (HiGHS).  ``u_i`` is supply left unserved; its penalty
    ``M`` exceeds the cost of any exchange of allocations, so as much as possible is served first and
    the cost is minimised among those allocations.  Pairs with infinite cost are not allowed.

    Parameters
    ----------
    supply
        ``(n,)`` non-negative quantities per origin.
    capacity
        ``(m,)`` non-negative capacities (same unit as *supply*).
    cost
        ``(n, m)`` cost per unit (e.g. km); ``inf`` = no route.

    Returns
    -------
    TransportSolution

    Raises
    ------
    ValueError
        On shape mismatches or negative / NaN inputs.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    s = np.asarray(supply, dtype=float)
    k = np.asarray(capacity, dtype=float)
    c = np.asarray(cost, dtype=float)
    n, m = s.size, k.size
    if c.shape != (n, m):
        raise ValueError(f"cost must have shape ({n}, {m}), got {c.shape}")
    if np.isnan(s).any() or np.isnan(k).any() or np.isnan(c).any() or (s < 0).any() or (k < 0).any() or (c < 0).any():
        raise ValueError("supply, capacity and cost must be non-negative numbers (inf allowed in cost)")
    ii, jj = np.nonzero(np.isfinite(c))
    nv = ii.size
    finite = c[ii, jj]
    penalty = (n + m + 1) * (float(finite.max()) if nv else 1.0) + 1.0
    obj = np.concatenate([finite, np.full(n, penalty)])
    # equality: each origin's flows + unserved = supply
    rows = np.concatenate([ii, np.arange(n)])
    cols = np.concatenate([np.arange(nv), nv + np.arange(n)])
    a_eq = coo_array((np.ones(rows.size), (rows, cols)), shape=(n, nv + n)).tocsr()
    a_ub = coo_array((np.ones(nv), (jj, np.arange(nv))), shape=(m, nv + n)).tocsr()
    res = linprog(obj, A_ub=a_ub, b_ub=k, A_eq=a_eq, b_eq=s, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - the problem is always feasible (u absorbs everything)
        raise RuntimeError(f"transportation problem not solved: {res.message}")
    x = np.clip(res.x, 0.0, None)
    flow = np.zeros((n, m))
    flow[ii, jj] = x[:nv]
    unserved = x[nv:]
    return TransportSolution(flow, unserved, float((flow[ii, jj] * finite).sum()), str(res.message))
