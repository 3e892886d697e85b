"""15分钟生活圈单元: delineate (or take) the units, score them against the checklist, mark the pilots.

:func:`analyse_circles` runs on a finished coverage analysis (:class:`~jlp_geo.analysis.accessibility.CoverageResult`:
walk network, per-node walk times per category, population per node) and the OSM data it came from.
Units are delineated (:mod:`.delineate`, barriers from :mod:`.barriers`) nested in the 镇街, or taken from
an official file; territories tile each 镇街 (:mod:`.territory`); centres, compactness and names come from
:mod:`.centres`; the checklist from :mod:`.score`; pilots from :mod:`.pilots`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...crs import to_analysis
from ...errors import InputDataError
from ...layers.common import finish_layer
from ...layers.services import services_from_osm
from ...notices import warn
from ...sources.osm import OsmData
from ..accessibility import DEFAULT_MIN_COMPONENT, RESIDENTIAL_LAND, CoverageResult
from ..coverage import snap_points
from .barriers import barrier_penalty
from .centres import CENTRE_CATEGORIES, choose_centres, name_units, osm_place_names
from .delineate import centre_nodes, delineate_nodes
from .parameters import CircleParameters, load_circle_parameters
from .pilots import locate_pilots
from .result import CirclesResult
from .score import gap_text, score_units
from .territory import make_contiguous, overlap_area, polygonal, residential_parts, territories

__all__ = ["STUDY_AREA_ZH", "analyse_circles"]

STUDY_AREA_ZH = "研究区"
OVERLAP_TOLERANCE_M2 = 1.0
MIN_COMPONENT = DEFAULT_MIN_COMPONENT  # seeds and centres only on network parts this large
METHOD_NOTE = (
    "单元划分 Delineation: seeded network-Voronoi growth on the walk network within each 镇街 (k seeds -- the count "
    "whose mean population is nearest the middle of the range -- from a weighted k-means; walk time + barrier "
    "penalties; seeds move to their unit's population centroid in 5 network-Lloyd rounds, then additive offsets "
    "balance population over up to 30 rounds; units below the floor merge into their smallest neighbour while within "
    "the range; enclaves join the unit around them). Boundaries are schematic (示意)."
)


def _residential_land(osm: OsmData, crs: object) -> shapely.Geometry | None:
    res = services_from_osm(osm, [RESIDENTIAL_LAND], crs=crs)
    if len(res) == 0:
        return None
    res = res[res["included"].astype(bool) & res.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(res) == 0:
        return None
    return polygonal(shapely.union_all(shapely.make_valid(res.geometry.to_numpy())))


def _nesting(network, townships: gpd.GeoDataFrame | None, study_area, residential):
    """Group code per node, polygons, names and codes of the nesting units."""
    if townships is not None and len(townships):
        towns = to_analysis(townships, network.crs).reset_index(drop=True)
        polys = [polygonal(g) for g in towns.geometry]
        names = [str(n) for n in towns["name_zh"]]
        codes = [str(c) if c == c and c not in (None, "") else f"T{i + 1:02d}" for i, c in enumerate(towns.get("code", pd.Series([None] * len(towns))))]
    else:
        area = study_area
        if area is None:
            pts = shapely.multipoints(np.column_stack([network.x, network.y]))
            area = shapely.convex_hull(pts if residential is None else shapely.union(pts, residential)).buffer(50.0)
        polys, names, codes = [area], [STUDY_AREA_ZH], ["SA"]
    pts = shapely.points(np.column_stack([network.x, network.y]))
    tree = shapely.STRtree(np.asarray(polys, dtype=object))
    p_idx, g_idx = tree.query(pts, predicate="within")
    group = np.full(network.n_nodes, -1, dtype=np.int64)
    # a node on a shared boundary goes to the first polygon (stable)
    order = np.lexsort((g_idx, p_idx))
    p_idx, g_idx = p_idx[order], g_idx[order]
    first = np.r_[True, p_idx[1:] != p_idx[:-1]] if p_idx.size else np.zeros(0, bool)
    group[p_idx[first]] = g_idx[first]
    return group, polys, names, codes


def _official_units(circles: gpd.GeoDataFrame, network, weights, group_polys, eligible):
    """Node labels, territories and nesting of units from an official file (checked: overlaps, extent)."""
    units = to_analysis(circles, network.crs).reset_index(drop=True)
    geoms = [polygonal(g) for g in units.geometry]
    over = overlap_area(geoms)
    total = float(sum(g.area for g in geoms))
    if total <= 0:
        raise InputDataError("the life-circle file has no polygon area", where="--circles", fix="give 生活圈/社区 polygons")
    if over > max(OVERLAP_TOLERANCE_M2, 0.01 * total):
        raise InputDataError(
            f"the life-circle polygons overlap by {over:,.0f} m² ({over / total:.1%} of their area)",
            where="--circles", fix="give units that tile the area without overlaps (e.g. 社区 boundaries)")
    pts = shapely.points(np.column_stack([network.x, network.y]))
    p_idx, u_idx = shapely.STRtree(np.asarray(geoms, dtype=object)).query(pts, predicate="within")
    labels = np.full(network.n_nodes, -1, dtype=np.int64)
    labels[p_idx] = u_idx
    if (labels >= 0).sum() == 0:
        raise InputDataError("no walk-network node lies inside the life-circle polygons", where="--circles",
                             fix="check that the file covers the OSM extract (and its CRS / --input-crs)")
    notes = [f"{over:,.0f} m² of overlap between the given units (below 1%: kept)"] if over > OVERLAP_TOLERANCE_M2 else []
    unit_group = np.zeros(len(geoms), dtype=np.int64)
    outside = []
    for j, g in enumerate(geoms):
        shares = [g.intersection(p).area / g.area if g.area > 0 else 0.0 for p in group_polys]
        unit_group[j] = int(np.argmax(shares)) if shares else 0
        if shares and max(shares) < 0.99:
            outside.append(str(units.loc[j, "name_zh"]))
    if outside:
        notes.append(warn("生活圈单元未嵌套于单一镇街 units not nested in one 镇街 (assigned to the one holding most of their area): " + "、".join(outside[:10])))
    seeds = centre_nodes(labels, network.x, network.y, weights, len(geoms), eligible)
    empty = np.flatnonzero(seeds < 0)
    if empty.size:  # a unit without network nodes: its centre is the node nearest it; its figures are 无数据
        reps = shapely.points([geoms[int(j)].representative_point().coords[0] for j in empty])
        seeds[empty] = snap_points(network, shapely.get_x(reps), shapely.get_y(reps), np.inf)["nearest_node"].to_numpy()
        notes.append(warn("生活圈单元内无路网节点 units with no walk-network node inside (their figures are 无数据): "
                          + "、".join(str(units.loc[int(j), "name_zh"]) for j in empty[:10])))
    return labels, seeds, unit_group, geoms, list(units["name_zh"].astype(str)), notes


def _population_flag(pop: float, township: str, params: CircleParameters, known: bool) -> str:
    if not known or pop != pop:
        return "无数据"
    if pop < params.pop_min:
        return "低于下限（镇，允许）" if township.endswith(params.small_allowed_suffix) else "低于下限"
    return "高于上限" if pop > params.pop_max else "在范围内"


def analyse_circles(
    coverage: CoverageResult,
    osm: OsmData,
    *,
    townships: gpd.GeoDataFrame | None = None,
    circles: gpd.GeoDataFrame | None = None,
    study_area: shapely.Geometry | None = None,
    params: CircleParameters | None = None,
) -> CirclesResult:
    """Delineate (or take) the 15-minute life-circle units and score them against the checklist.

    Parameters
    ----------
    coverage
        A finished coverage analysis of *osm* (walk network, per-node times, population per node).
    osm
        The OSM data (barriers, residential land, place names, pilots located by name).
    townships
        镇街 polygons (``name_zh``, optional ``code``) the units nest in; None = one study area.
    circles
        Official 生活圈 / 社区 polygons (``name_zh``): scored as given (precision surveyed).
    study_area
        Polygon (analysis CRS) used as the one nesting unit when no *townships* are given.
    params
        Default :func:`load_circle_parameters`.

    Returns
    -------
    CirclesResult
    """
    params = params or load_circle_parameters()
    net = coverage.network
    pop = coverage.population
    known = pop.method != "unweighted"
    w = np.asarray(pop.weights, dtype=float)
    notes: list[str] = []
    if not known:
        notes.append(warn("没有人口数据 no population input: units are sized by walk-network nodes; their population is 无数据"))
    residential = _residential_land(osm, net.crs)
    if residential is None:
        notes.append(warn("OSM 中无居住用地 no residential land in OSM (landuse=residential / residential buildings): 居住用地 无数据"))
    group, group_polys, group_names, group_codes = _nesting(net, townships, study_area, residential)
    eligible = net.component_size >= MIN_COMPONENT
    node_pop_out = float(w[group < 0].sum())
    no_nodes = [n for i, n in enumerate(group_names) if not (group == i).any()]
    if no_nodes and circles is None:
        notes.append(f"{len(no_nodes)} 镇街 hold no walk-network node (outside the data): no unit drawn for " + "、".join(no_nodes))
    if (group < 0).any():
        notes.append(f"{int((group < 0).sum()):,} network nodes ({node_pop_out:,.0f} residents) lie outside every 镇街: not in any unit")
    if circles is not None:
        labels, seeds, unit_group, terr, given_names, extra = _official_units(circles, net, w, group_polys, eligible)
        notes.extend(extra)
        gap = (labels < 0) & (group >= 0)
        if gap.any():
            notes.append(warn(f"给定单元未覆盖全域 the given units leave {int(gap.sum()):,} network nodes ({float(w[gap].sum()):,.0f} residents) "
                              "of the 镇街 outside every unit: they are in no unit's figures"))
        method, precision, source = "official", "surveyed", f"official life-circle file ({circles.attrs.get('source_file', 'user file')})"
    else:
        barrier = barrier_penalty(net, osm, params)
        notes.append(barrier.note)
        deli = delineate_nodes(net.x, net.y, w, group, net.u, net.v, net.time_s + barrier.penalty_s,
                               pop_min=params.pop_min, pop_max=params.pop_max, eligible=eligible)
        labels, seeds, unit_group = deli.labels, deli.seeds, deli.group
        terr = territories(net.x, net.y, labels, group, unit_group, dict(enumerate(group_polys)))
        for _ in range(3):  # contiguity: enclaves (network fragments reached from another seed) join their surroundings
            labels, moved = make_contiguous(net.x, net.y, labels, seeds, terr)
            if not moved:
                break
            terr = territories(net.x, net.y, labels, group, unit_group, dict(enumerate(group_polys)))
        given_names = None
        method, precision = "delineated", "schematic"
        source = f"delineated from {coverage.provenance.get('osm', 'OSM')} and {pop.label}; {params.pop_source}"
        notes.append(METHOD_NOTE)
    n_units = int(unit_group.size)
    unit_town = [group_names[int(g)] for g in unit_group]
    res_parts = residential_parts(terr, residential)

    # centres, compactness, names
    svc = coverage.services
    svc_an = to_analysis(svc, net.crs) if len(svc) else svc
    rep = svc_an.geometry.representative_point() if len(svc_an) else gpd.GeoSeries([], crs=net.crs)
    service_xy = np.column_stack([rep.x.to_numpy(), rep.y.to_numpy()]) if len(svc_an) else np.empty((0, 2))
    usable = (svc["included"].astype(bool) & ~svc["off_network"].astype(bool)).to_numpy() if len(svc) else np.zeros(0, bool)
    cmask = usable & svc["category"].isin(CENTRE_CATEGORIES).to_numpy() if len(svc) else usable
    candidates: list[tuple[int, str | None]] = []
    if cmask.any():
        snapped = snap_points(net, service_xy[cmask, 0], service_xy[cmask, 1], 200.0)
        for node, name in zip(snapped["node"].to_numpy(), svc.loc[cmask, "name"].tolist()):
            if node >= 0:
                candidates.append((int(node), name if isinstance(name, str) and name else None))
    centres = choose_centres(net, w, labels, seeds, candidates, params, eligible)
    cx, cy = net.x[centres.node], net.y[centres.node]
    if given_names is None:
        names, name_basis = name_units(cx, cy, unit_town, centres.name, osm_place_names(osm, params, net.crs), params.naming_max_m, terr)
    else:
        names, name_basis = given_names, ["official file"] * n_units

    # checklist
    checklist = score_units(labels, w, coverage.nodes, coverage.categories, terr, svc, service_xy, params)
    inside = labels >= 0
    unit_pop = np.bincount(labels[inside], weights=w[inside], minlength=n_units)
    n_nodes = np.bincount(labels[inside], minlength=n_units)
    # pilots
    pilots = locate_pilots(params, osm, net.crs)
    pilot_of: dict[int, list[str]] = {}
    unit_ids = []
    counter: dict[int, int] = {}
    for g in unit_group:
        counter[int(g)] = counter.get(int(g), 0) + 1
        unit_ids.append(f"{group_codes[int(g)]}-{counter[int(g)]:02d}")
    tree = shapely.STRtree(np.asarray(terr, dtype=object))
    pilot_units = []
    for r in pilots.itertuples():
        hit = tree.query(shapely.Point(r.x, r.y), predicate="within") if np.isfinite(r.x) else np.empty(0, int)
        if hit.size:
            pilot_of.setdefault(int(hit[0]), []).append(r.name_zh)
            pilot_units.append(unit_ids[int(hit[0])])
        else:
            pilot_units.append("")
            notes.append(f"示范点 {r.name_zh}: " + ("未定位 (no point)" if not np.isfinite(r.x) else "its point lies outside the data — not marked"))
    pilots = pilots.assign(unit_id=pilot_units)

    records = []
    for j in range(n_units):
        rows = checklist[checklist["unit"] == j]
        basic = rows[rows["basic"].astype(bool)]
        scored = basic["met"].notna().all() and len(basic) > 0 and unit_pop[j] > 0
        n_met = int(basic["met"].eq(True).sum())
        rec = {
            "name_zh": names[j],
            "name_en": f"Life circle {unit_ids[j]}",
            "source": source,
            "precision": precision,
            "uncertainty_m": np.nan,
            "unit_id": unit_ids[j],
            "township": unit_town[j],
            "name_basis": name_basis[j],
            "population": float(unit_pop[j]) if known and n_nodes[j] > 0 else np.nan,
            "n_nodes": int(n_nodes[j]),
            "population_flag": _population_flag(float(unit_pop[j]), unit_town[j], params, known and n_nodes[j] > 0),
            "area_km2": round(terr[j].area / 1e6, 4),
            "residential_km2": round(res_parts[j].area / 1e6, 4) if residential is not None else np.nan,
            "compactness": centres.compactness[j],
            "centre_kind": centres.kind[j],
            "centre_zh": centres.name[j] or ("社区服务设施" if centres.kind[j] == "service" else "人口重心附近路网节点"),
            "n_basic": len(basic),
            "n_basic_met": n_met,
            "score": n_met / len(basic) if scored else np.nan,
            "all_basic_met": bool(scored and n_met == len(basic)),
            "gaps_zh": gap_text(rows),
            "pilot": "、".join(pilot_of.get(j, [])),
        }
        for r in rows.itertuples():
            rec[f"share_time_{r.category}"] = r.share_time
            rec[f"met_{r.category}"] = "" if r.met is None else ("有" if r.met else "缺")
            rec[f"n_{r.category}"] = int(r.n_inside)
        records.append(rec)
    units = finish_layer(pd.DataFrame(records), list(terr), crs=net.crs, layer="life_circles") if records else finish_layer(
        gpd.GeoDataFrame(columns=["name_zh", "name_en", "source", "precision", "unit_id", "score"], geometry=[], crs=net.crs), layer="life_circles")
    keep = ["name_zh", "name_en", "source", "precision", "uncertainty_m", "unit_id", "township"]
    base = pd.DataFrame(records)[keep] if records else pd.DataFrame(columns=keep)
    res_layer = finish_layer(base.assign(residential_km2=[round(g.area / 1e6, 4) for g in res_parts]),
                             [None if g.is_empty else g for g in res_parts], crs=net.crs, layer="life_circle_residential")
    cen_layer = finish_layer(base.assign(centre_zh=[r["centre_zh"] for r in records], compactness=centres.compactness),
                             list(shapely.points(np.column_stack([cx, cy]))) if n_units else [], crs=net.crs, layer="life_circle_centres")
    if circles is None and n_units:
        over = overlap_area(terr)
        notes.append(f"{n_units} units; overlap between units {over:.2f} m²")
    provenance = {
        "method": method,
        "population": pop.label,
        "parameters": "layers/life_circles.yml",
        "met_share": f"{params.met_share:g} ({params.met_source})",
        "levels": params.levels_source,
        "barriers": params.barrier_source,
    }
    return CirclesResult(units=units, residential=res_layer, centres=cen_layer, checklist=checklist, pilots=pilots,
                         params=params, method=method, population_basis=pop.label, population_known=known,
                         notes=notes, provenance=provenance)
