"""轨道通车里程 and 轨道站点800米覆盖人口: urban rail inside the district.

:func:`rail_route_length` measures operating urban rail from OSM (per line from route
relations, and as track length); without OSM data :func:`rail_rows` falls back to the
gazetteer's station-chord lower bound (``layers/metro_km_in_jiulongpo.csv``).
:func:`station_rows` gives the population within 800 m of a station.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ...config import Profile
from ...crs import metric_crs_for, to_analysis
from ...settings import get_settings
from ..accessibility import DEFAULT_MIN_COMPONENT, DEFAULT_SNAP_M
from ..coverage import CoverageWarning, nearest_by_category, snap_points
from .definitions import LEVEL_WHOLE, WHOLE_AREA, IndicatorDef
from .table import IndicatorRows
from .units import CoverageContext, add_shares, nan_to_inf

__all__ = ["RailLength", "rail_route_length", "rail_rows", "station_rows"]


@dataclass
class RailLength:
    """Urban rail length inside a boundary, from OSM.

    Attributes
    ----------
    track_km
        Every running track (service tracks excluded), clipped; double track mapped as
        two ways counts twice.
    route_km
        Sum over lines of the longer direction's member-track length (None without
        route relations).
    lines
        One row per line: ``line``, ``name``, ``route``, ``n_relations``, ``km``,
        ``km_directions``, ``ways_missing``.
    n_track_ways
        Rail ways counted for *track_km*.
    crs
        CRS the lengths were measured in.
    notes
        What was excluded and why.
    """

    track_km: float
    route_km: float | None
    lines: pd.DataFrame
    n_track_ways: int
    crs: str
    notes: list[str] = field(default_factory=list)


def _way_parts(refs: Sequence[int], ids: np.ndarray, xy: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive nodes present in the data (a missing node breaks the way)."""
    r = np.asarray(refs, dtype=np.int64)
    if r.size == 0 or ids.size == 0:
        return []
    pos = np.clip(np.searchsorted(ids, r), 0, ids.size - 1)
    found = ids[pos] == r
    parts, start = [], None
    for i, f in enumerate(found):
        if f and start is None:
            start = i
        if (not f or i == len(found) - 1) and start is not None:
            end = i + 1 if f else i
            if end - start >= 2:
                parts.append(xy[pos[start:end]])
            start = None
    return parts


def rail_route_length(
    osm: Any,
    boundary: shapely.Geometry | gpd.GeoDataFrame | None = None,
    crs: str | None = None,
    *,
    railway: Sequence[str] = ("subway", "light_rail", "monorail"),
    route: Sequence[str] = ("subway", "light_rail", "monorail"),
    excluded_status_keys: Sequence[str] = ("construction", "proposed", "disused", "abandoned", "razed"),
    excluded_service: Sequence[str] = ("yard", "siding", "spur", "crossover"),
) -> RailLength:
    """Operating urban-rail length inside *boundary*, per line and as track length.

    Parameters
    ----------
    osm
        :class:`~jlp_geo.sources.osm.OsmData`.
    boundary
        Polygon in *crs* (shapely) or a GeoDataFrame (any CRS); None = no clipping.
    crs
        Metric CRS to measure in; default the settings' analysis CRS, or the local UTM
        zone when the data lies outside it.
    railway
        ``railway=*`` values of urban rail tracks.
    route
        ``route=*`` values of line relations (``type=route``).
    excluded_status_keys
        A way or relation carrying any of these keys (``construction=*``, ``proposed=*`` …)
        or ``state``/``status``/``railway:status`` with one of them as value is not in
        operation and is skipped.
    excluded_service
        ``service=*`` values of tracks that are not running line (yards, sidings,
        crossovers): left out of the track length.

    Returns
    -------
    RailLength
    """
    if crs is None:
        lon = float(osm.nodes["lon"].median()) if len(osm.nodes) else 106.5
        lat = float(osm.nodes["lat"].median()) if len(osm.nodes) else 29.5
        crs, _ = metric_crs_for(lon, lat, get_settings().analysis_crs)
    poly = None
    if isinstance(boundary, gpd.GeoDataFrame):
        poly = to_analysis(boundary, crs).geometry.union_all()
    elif boundary is not None:
        poly = boundary
    status_keys = set(excluded_status_keys)

    def operating(tags: Mapping[str, str]) -> bool:
        if any(k in tags and tags[k] != "no" for k in status_keys):
            return False
        return not any(tags.get(k) in status_keys for k in ("state", "status", "railway:status", "operational_status"))

    ids = osm.nodes["id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    xy = osm.nodes[["lon", "lat"]].to_numpy(dtype=float)[order]
    rail_ids, geoms, service = [], [], []
    n_status = 0
    for wid, refs, tags in osm.ways[["id", "refs", "tags"]].itertuples(index=False):
        if tags.get("railway") not in railway:
            continue
        if not operating(tags):
            n_status += 1
            continue
        parts = _way_parts(refs, ids, xy)
        if not parts:
            continue
        rail_ids.append(int(wid))
        geoms.append(shapely.MultiLineString([p.tolist() for p in parts]))
        service.append(tags.get("service", ""))
    notes: list[str] = []
    if n_status:
        notes.append(f"{n_status} rail way(s) with construction/proposed/disused status not counted")
    if rail_ids:
        gdf = gpd.GeoDataFrame({"way": rail_ids, "service": service}, geometry=geoms, crs="EPSG:4326")
        gdf = to_analysis(gdf, crs)
        inside = gdf.geometry.intersection(poly) if poly is not None else gdf.geometry
        length = dict(zip(gdf["way"], inside.length.to_numpy()))
        svc = dict(zip(gdf["way"], gdf["service"]))
    else:
        length, svc = {}, {}
    running = [w for w in length if svc[w] not in excluded_service]
    n_service = len(length) - len(running)
    if n_service:
        notes.append(f"{n_service} service track(s) ({'/'.join(excluded_service)}) left out of the track length")
    track_km = sum(length[w] for w in running) / 1000.0

    # lines from route relations
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for rid, members, tags in osm.relations[["id", "members", "tags"]].itertuples(index=False):
        if tags.get("type") != "route" or tags.get("route") not in route or not operating(tags):
            continue
        key = (tags.get("route", ""), tags.get("ref") or tags.get("name") or f"relation {rid}")
        ways = {ref for kind, ref, role in members if kind == "way" and not role.startswith(("platform", "stop"))}
        rail_members = [w for w in ways if w in length]
        missing = [w for w in ways if w not in length and w not in svc]
        km = sum(length[w] for w in rail_members) / 1000.0
        line = lines.setdefault(key, {"line": key[1], "name": tags.get("name", ""), "route": key[0], "dirs": [], "missing": 0})
        line["dirs"].append(km)
        line["missing"] += len(missing)
    rows = [
        {
            "line": v["line"],
            "name": v["name"],
            "route": v["route"],
            "n_relations": len(v["dirs"]),
            "km": max(v["dirs"]),
            "km_directions": " / ".join(f"{x:.3f}" for x in v["dirs"]),
            "ways_missing": v["missing"],
        }
        for v in lines.values()
    ]
    table = pd.DataFrame(rows, columns=["line", "name", "route", "n_relations", "km", "km_directions", "ways_missing"])
    table = table[table["km"] > 0].sort_values("line").reset_index(drop=True) if len(table) else table
    route_km = float(table["km"].sum()) if len(table) else None
    if not len(table):
        notes.append("no urban-rail route relation with track inside the area: the per-line length is not available")
    return RailLength(track_km=track_km, route_km=route_km, lines=table, n_track_ways=len(running), crs=str(crs), notes=notes)


def _chord_table() -> pd.DataFrame:
    path = get_settings().layers_dir / "metro_km_in_jiulongpo.csv"
    if not path.is_file():
        return pd.DataFrame()
    df = pd.read_csv(path, encoding="utf-8-sig")
    return df


def rail_rows(rows: IndicatorRows, d: IndicatorDef, osm: Any, boundary: Any, crs: str, profile: Profile,
              extra: dict[str, pd.DataFrame], gaps: list[str], notes: list[str]) -> None:
    """Rows of 轨道通车里程: per line and track length from OSM, or the station-chord lower bound.

    Parameters
    ----------
    rows
        The row collector to add to.
    d
        The indicator's definition (``parameters`` passed to :func:`rail_route_length`).
    osm
        :class:`~jlp_geo.sources.osm.OsmData`, or None: then only the gazetteer's
        station-chord lower bound (``layers/metro_km_in_jiulongpo.csv``) is given.
    boundary
        District polygon (analysis CRS) or GeoDataFrame to clip to, or None.
    crs
        The metric CRS to measure in.
    profile
        The study-area profile (the gazetteer's date).
    extra
        Supporting tables; ``rail_lines`` or ``rail_chords`` is added.
    gaps, notes
        Data gaps and notes; appended to.
    """
    target = d.target
    chords = _chord_table() if osm is None else pd.DataFrame()  # the gazetteer's chords: the fallback without OSM
    gaz = next((s for s in profile.data_sources if s.get("id") == "gazetteer"), {})
    if len(chords):
        km = float(chords["chord_km_in_jiulongpo"].sum())
        extra["rail_chords"] = chords
        note = ("站间弦长下限（各线直线段之和，按线路计） lower bound from station chords, per line: "
                + "、".join(f"{n} {k:g}" for n, k in zip(chords["name"], chords["chord_km_in_jiulongpo"])))
        if target is not None:
            note += (f"。口径不同，不判定达标：规划的{target.value:g}公里要“建成轨道27号线”才达到（第三十章 第二节），"
                     "而现有线路按线路相加的弦长已超过它，故规划“通车里程”另有口径（如共线段只计一次）"
                     f" — definitions differ, not judged: the plan reaches {target.value:g} km only with line 27 built, "
                     "yet the existing lines' per-line chords already exceed it, so the plan counts 通车里程 differently")
        rows.add(d.id, "station_chord_lower_bound", "站间弦长下限（按线路）", LEVEL_WHOLE, WHOLE_AREA, km, status="lower_bound",
                 note=note, source="layers/metro_km_in_jiulongpo.csv (jlp_geo gazetteer)", date=str(gaz.get("date", "")))
        if target is not None and km >= target.value:
            notes.append(
                f"轨道里程：站间弦长下限按线路合计已达 {km:.2f} km，超过规划2030年目标 {target.value:g} km，"
                "说明规划“通车里程”的统计口径与按线路相加不同（如共线段只计一次、或只计部分线路）。"
                f" The per-line station-chord lower bound ({km:.2f} km) already exceeds the plan's {target.value:g} km target for 2030, "
                "so the plan must count 通车里程 differently (e.g. shared sections once)."
            )
    if osm is None:
        for m, mz in (("route_length", "按线路通车里程（OSM）"), ("track_length", "轨道长度（OSM）")):
            rows.add(d.id, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：无OSM数据 not computed: no OSM data (jlp-geo report --osm FILE)")
        gaps.append("轨道里程未按OSM计算：无OSM数据，仅有站间弦长下限 (rail length from OSM not computed: no OSM data; only the station-chord lower bound)")
        return
    p = d.parameters
    rl = rail_route_length(
        osm, boundary, crs,
        railway=p.get("railway", ("subway", "light_rail", "monorail")),
        route=p.get("route", ("subway", "light_rail", "monorail")),
        excluded_status_keys=p.get("excluded_status_keys", ("construction", "proposed", "disused", "abandoned", "razed")),
        excluded_service=p.get("excluded_service", ("yard", "siding", "spur", "crossover")),
    )
    src, date = osm.provenance, osm.date or "unknown"
    clip = "clipped to the district polygon" if boundary is not None else "not clipped (no boundary)"
    extra["rail_lines"] = rl.lines
    if rl.route_km is not None:
        rows.add(d.id, "route_length", "按线路通车里程（OSM线路关系，较长方向，各线相加）", LEVEL_WHOLE, WHOLE_AREA, rl.route_km,
                 note=f"{len(rl.lines)} 条线路 lines; {clip}; measured in {rl.crs}", source=src, date=date)
    else:
        rows.add(d.id, "route_length", "按线路通车里程（OSM线路关系）", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：OSM数据中无城市轨道线路关系 not computed: no urban-rail route relation in the OSM data", source=src, date=date)
        gaps.append("OSM中无轨道线路关系，按线路里程未计算，仅给出轨道长度 (no route relations: per-line length not computed)")
    rows.add(d.id, "track_length", "轨道长度（所有正线轨道，双线分别绘制时计两次）", LEVEL_WHOLE, WHOLE_AREA, rl.track_km,
             note=f"{rl.n_track_ways} 条轨道 ways; {clip}; measured in {rl.crs}; " + "; ".join(rl.notes), source=src, date=date)
    if rl.track_km == 0:
        gaps.append("区界内OSM无城市轨道（地铁/轻轨/单轨） (no urban rail track inside the boundary in the OSM data)")


def station_rows(rows: IndicatorRows, ctx: CoverageContext | None, d: IndicatorDef, rail_stations: gpd.GeoDataFrame | None, gaps: list[str],
                 reason: str = "") -> None:
    """Rows of 轨道站点800米覆盖人口: straight line and network distance to the nearest station.

    Parameters
    ----------
    rows
        The row collector to add to.
    ctx
        The coverage result with its weights and units, or None (a "not computed" row).
    d
        The indicator's definition (``parameters.radius_m``, default 800).
    rail_stations
        Station points replacing the coverage result's OSM stations, or None.
    gaps
        Data gaps; appended to.
    reason
        The note of the "not computed" row when *ctx* is None.
    """
    radius = float(d.parameters.get("radius_m", 800))
    if ctx is None:
        rows.add(d.id, "straight_line", f"直线{radius:g}米", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note=reason or "未计算：无OSM数据（无路网与人口分布） not computed: no OSM data (no walk network, no population on it)")
        return
    net = ctx.coverage.network
    if rail_stations is not None:
        st = to_analysis(rail_stations, net.crs)
        st = st[st.geometry.notna() & ~st.geometry.is_empty]
        pts = st.geometry.representative_point()
        sx, sy = pts.x.to_numpy(), pts.y.to_numpy()
        label = "用户提供的站点 stations given by the user"
    else:
        s = ctx.coverage.services
        s = s[s["category"] == "rail_station"]
        if "included" in s.columns:
            s = s[s["included"].astype(bool)]
        if s.crs is not None and s.crs != net.crs:
            s = to_analysis(s, net.crs)
        sx, sy = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
        label = "OSM站点 OSM stations"
    note = f"{len(sx)} 个站点 stations ({label})"
    if len(sx) == 0:
        gaps.append("无轨道站点数据，站点800米覆盖为0 (no station found: the 800 m catchment is empty)")
    line = np.zeros(net.n_nodes, dtype=bool)
    if len(sx):
        dd, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([net.x, net.y]))
        line = dd <= radius
    status = "computed" if len(sx) else "no_facility"
    add_shares(rows, ctx, d.id, "straight_line", f"直线{radius:g}米", line, status, note)
    if rail_stations is None:
        dist = nan_to_inf(ctx.coverage.nodes["dist_m_rail_station"])
    else:
        snapped = snap_points(net, sx, sy, DEFAULT_SNAP_M, min_component_size=DEFAULT_MIN_COMPONENT)
        src = np.unique(snapped.loc[~snapped["off_network"], "node"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            dist = nearest_by_category(net, {"s": src}, metric="length")["s"].to_numpy()
    add_shares(rows, ctx, d.id, "network", f"路网{radius:g}米", dist <= radius, status, note)
