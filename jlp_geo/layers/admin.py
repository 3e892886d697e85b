"""Administrative layers: the district, its 19 镇街 and the four 组团 (clusters).

镇街 boundaries are not openly published.  :func:`build_townships` takes an
official file when the user has one; otherwise it draws an **approximation**
(示意) that partitions the district polygon so that every 镇街 gets its
official area: an area-weighted power diagram seeded at the estimated label
points of ``layers/townships.csv`` (see :func:`partition_by_area`).  Such cells
show roughly *where* each 镇街 lies and *how big* it is; their boundaries are
not the real ones and every feature says so (``precision='schematic'``,
``is_schematic``, ``label_zh`` ending in （示意）).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from ..config import Profile
from ..crs import require_crs, to_analysis
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings
from ..sources.boundary import district_boundary
from .common import PRECISIONS, finish_layer

__all__ = [
    "ADMINISTERED_BY_ZH",
    "COLUMNS_ZH",
    "Partition",
    "build_clusters",
    "build_district",
    "build_townships",
    "partition_by_area",
]

ADMINISTERED_BY_ZH: dict[str, str] = {"district": "九龙坡区直管", "high_tech_zone": "重庆高新区直管"}

APPROXIMATION_SOURCE: str = (
    "approximation: area-weighted power diagram from estimated label points (layers/townships.csv), "
    "areas from 九龙坡区“十四五”节约用水规划 via xzqh.org; NOT an official boundary (示意)"
)

APPROXIMATION_NOTE: str = (
    "示意: cell of an area-weighted power diagram, not the real 镇街 boundary. Its area equals the official "
    "area scaled to the cnmaps district polygon; its position follows an estimated label point. "
    "uncertainty_m = the larger of the label point's uncertainty and the radius of a circle of the "
    "镇街's official area: the real boundary may lie that far from the drawn one."
)

#: Chinese column headers for CSV/Excel export of the district, 镇街 and 组团 layers.
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "资料来源",
    "precision": "边界精度",
    "uncertainty_m": "边界不确定度（米）",
    "code": "统计用区划代码",
    "note": "说明",
    "area_km2": "计算面积（平方公里）",
    "area_km2_ellipsoid": "椭球面积（平方公里）",
    "official_area_km2": "官方面积（平方公里）",
    "area_diff_km2": "面积差（平方公里）",
    "area_diff_pct": "面积差（%）",
    "official_area_source": "官方面积来源",
    "area_km2_official": "官方面积（平方公里）",
    "area_km2_target": "示意拟合面积（平方公里）",
    "administered_by": "管理主体",
    "administered_by_zh": "管理主体（中文）",
    "cluster": "所属组团",
    "method": "边界来源方式",
    "is_schematic": "是否示意",
    "label_zh": "标注",
    "label_offset_m": "标注点距本单元（米）",
    "kind": "类别",
    "function": "功能定位（规划原文）",
    "members": "包含镇街",
    "membership_status": "组成依据状态",
    "membership_note": "组成说明",
    "area_km2_official_sum": "镇街官方面积合计（平方公里）",
}

#: Label points file (gazetteer) read for the approximation.
LABELS_FILE: str = "townships.csv"

_PRECISION_RANK = {p: i for i, p in enumerate(PRECISIONS)}


# --------------------------------------------------------------------------- district


def build_district(profile: Profile) -> gpd.GeoDataFrame:
    """Build the district layer (one polygon) in EPSG:4490.

    Parameters
    ----------
    profile
        Study-area profile (its ``boundary`` block says cnmaps or a file).

    Returns
    -------
    GeoDataFrame
        One row; see :func:`jlp_geo.sources.boundary.district_boundary` for the columns.
    """
    return finish_layer(district_boundary(profile), layer="district")


# --------------------------------------------------------------------------- power diagram core


@dataclass
class Partition:
    """Result of :func:`partition_by_area`.

    Attributes
    ----------
    cells
        One geometry per site (Polygon, or MultiPolygon when a cell stays in pieces),
        in the coordinates of the domain.
    areas
        Area of each cell.
    targets
        Target areas (scaled so they sum to the domain's area).
    weights
        Final power weights (in squared units of the *internal* km frame).
    iterations
        Newton iterations used.
    max_rel_error
        ``max(|areas - targets| / targets)``.
    reassigned
        ``(from_site, to_site, area)`` for each stray fragment handed to a neighbour.
    connected
        Whether stray fragments were handed over (see ``connect`` of :func:`partition_by_area`).
    """

    cells: list[BaseGeometry]
    areas: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    iterations: int
    max_rel_error: float
    reassigned: list[tuple[int, int, float]] = field(default_factory=list)
    connected: bool = True


def _clip_convex(verts: np.ndarray, labels: list[int], a: np.ndarray, b: float, j: int) -> tuple[np.ndarray, list[int]]:
    """Clip a convex polygon by the half-plane ``a·x <= b`` (Sutherland–Hodgman), tracking edge labels.

    ``labels[k]`` names the constraint that made the edge ``verts[k] -> verts[k+1]``.
    """
    f = verts @ a - b
    out_v: list[np.ndarray] = []
    out_l: list[int] = []
    m = len(verts)
    for k in range(m):
        p, q = verts[k], verts[(k + 1) % m]
        fp, fq = f[k], f[(k + 1) % m]
        if fp <= 0:
            out_v.append(p)
            out_l.append(labels[k])
            if fq > 0:
                out_v.append(p + fp / (fp - fq) * (q - p))
                out_l.append(j)
        elif fq <= 0:
            out_v.append(p + fp / (fp - fq) * (q - p))
            out_l.append(labels[k])
    return np.asarray(out_v, dtype=float).reshape(-1, 2), out_l


def _power_cells(
    sites: np.ndarray, weights: np.ndarray, domain: BaseGeometry, box: np.ndarray, grid: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power cells clipped to *domain*, their areas and the Jacobian of the areas.

    The power cell of site *i* is ``{x : |x-s_i|² - w_i <= |x-s_j|² - w_j for all j}``,
    the intersection of n-1 half-planes; ``dA_i/dw_j = -L_ij / (2 |s_i - s_j|)`` where
    ``L_ij`` is the length of their common edge inside the domain.
    """
    n = len(sites)
    sq = (sites**2).sum(axis=1)
    polys, segs, pairs = [], [], []
    for i in range(n):
        verts, labels = box.copy(), [-1] * len(box)
        for j in range(n):
            if j == i:
                continue
            a = 2.0 * (sites[j] - sites[i])
            b = sq[j] - sq[i] - weights[j] + weights[i]
            verts, labels = _clip_convex(verts, labels, a, b, j)
            if len(verts) < 3:
                break
        polys.append(shapely.Polygon(verts) if len(verts) >= 3 else shapely.Polygon())
        for k in range(len(verts) if len(verts) >= 3 else 0):
            if labels[k] >= 0:
                segs.append(shapely.LineString([verts[k], verts[(k + 1) % len(verts)]]))
                pairs.append((i, labels[k]))
    cells = shapely.intersection(np.asarray(polys, dtype=object), domain, grid_size=grid)
    cells = np.asarray([_polygonal(c) for c in cells], dtype=object)
    areas = shapely.area(cells)
    jac = np.zeros((n, n))
    if segs:
        lengths = shapely.length(shapely.intersection(np.asarray(segs, dtype=object), domain))
        for (i, j), length in zip(pairs, lengths):
            c = 0.5 * length / (2.0 * np.linalg.norm(sites[i] - sites[j]))  # half from each side
            jac[i, j] -= c
            jac[j, i] -= c
            jac[i, i] += c
            jac[j, j] += c
    return cells, areas, jac


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """The non-empty polygons of *geom* (lines and points left by snapping are dropped)."""
    if geom.geom_type == "Polygon":
        return [] if geom.is_empty else [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _parts(g)]


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """*geom* reduced to its polygons: a Polygon, MultiPolygon or empty Polygon."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = _parts(geom)
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _reassign_fragments(
    cells: np.ndarray, anchors: np.ndarray, grid: float
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Keep each cell's main part; give every other piece to the neighbour it shares most border with.

    The main part is the one holding the site's anchor (label) point, else the largest.
    """
    n = len(cells)
    main: list[BaseGeometry] = []
    strays: list[tuple[int, BaseGeometry]] = []
    for i, c in enumerate(cells):
        parts = _parts(c)
        if len(parts) <= 1:
            main.append(c)
            continue
        pt = shapely.Point(anchors[i])
        holding = [p for p in parts if p.covers(pt)]
        keep = holding[0] if holding else max(parts, key=lambda g: g.area)
        main.append(keep)
        strays.extend((i, p) for p in parts if p is not keep)
    if not strays:
        return cells, []
    out = list(main)
    moved: list[tuple[int, int, float]] = []
    for i, frag in strays:
        ring = frag.boundary
        shared = [0.0 if k == i else shapely.intersection(ring, main[k].boundary.buffer(grid * 10)).length for k in range(n)]
        k = int(np.argmax(shared))
        if shared[k] <= 0:  # touches nobody (cannot happen inside a connected domain): keep it
            out[i] = _polygonal(shapely.union(out[i], frag, grid_size=grid))
            continue
        out[k] = _polygonal(shapely.union(out[k], frag, grid_size=grid))
        moved.append((i, k, float(frag.area)))
    return np.asarray(out, dtype=object), moved


@dataclass
class _State:
    """Weights and the cells, areas, Jacobian and hand-overs they give."""

    w: np.ndarray
    cells: np.ndarray
    areas: np.ndarray
    jac: np.ndarray
    moved: list


def _max_rel(state: _State, targets: np.ndarray) -> float:
    return float(np.max(np.abs(targets - state.areas) / targets))


def _newton(
    evaluate, state: _State, targets: np.ndarray, rtol: float, max_iter: int, floor: float
) -> tuple[_State, int]:
    """Damped Newton on the weights; returns the best state seen (smallest worst error) and the step count."""
    best = state
    it = 0
    while it < max_iter and _max_rel(state, targets) >= rtol:
        it += 1
        err = targets - state.areas
        step = np.zeros(len(err))
        step[1:] = np.linalg.lstsq(state.jac[1:, 1:], err[1:], rcond=None)[0]
        trial = None
        for tau in 0.5 ** np.arange(12):
            cand = evaluate(state.w + tau * step)
            if cand.areas.min() > floor and np.abs(targets - cand.areas).sum() < np.abs(err).sum():
                trial = cand
                break
        if trial is None:  # no descent direction left (areas jump with the hand-overs)
            break
        state = trial
        if _max_rel(state, targets) < _max_rel(best, targets):
            best = state
    return best, it


def partition_by_area(
    domain: BaseGeometry,
    sites: np.ndarray,
    targets: np.ndarray,
    *,
    rtol: float = 1e-4,
    max_iter: int = 100,
    connect: bool = True,
    max_error: float = 0.005,
) -> Partition:
    """Partition *domain* into power cells of prescribed areas (an area-weighted power diagram).

    Cell *i* is the set of points whose power distance ``|x - s_i|² - w_i`` to site *i*
    is smallest, clipped to *domain*.  The weights are found by damped Newton
    iterations on the areas (the areas are the gradient of a concave function of the
    weights, semi-discrete optimal transport; Kitagawa, Mérigot & Thibert 2019), which
    converge in a handful of steps.  Power cells are convex, so the cells partition the
    domain exactly (up to a snapping grid of ~1 mm).

    Parameters
    ----------
    domain
        (Multi)Polygon in a metric CRS (metres).
    sites
        ``(n, 2)`` site coordinates in the same CRS, n >= 2, distinct.
    targets
        ``(n,)`` positive target areas (any unit); rescaled to sum to the domain's area.
    rtol
        Stop when every cell is within this relative error of its target.
    max_iter
        Maximum Newton iterations (each evaluation costs n convex clips and n intersections).
    connect
        If True, a cell that the non-convex domain cuts into pieces keeps the piece holding
        its site (else its largest); each other piece goes to the neighbour it shares the
        longest border with, and the weights are re-fitted with these hand-overs in place.
        If that fit does not reach *max_error*, the plain diagram (pieces kept) is returned
        instead, with ``connected=False``.
    max_error
        Largest acceptable relative area error of any cell.

    Returns
    -------
    Partition
        Cells in the domain's coordinates.

    Raises
    ------
    ValueError
        On bad arguments (programming errors), or when even the plain diagram does not
        reach *max_error*.
    """
    sites = np.asarray(sites, dtype=float)
    targets = np.asarray(targets, dtype=float)
    n = len(sites)
    if sites.shape != (n, 2) or targets.shape != (n,) or n < 2:
        raise ValueError("sites must be (n, 2) and targets (n,), n >= 2")
    if not (targets > 0).all():
        raise ValueError("targets must be positive")
    if len(np.unique(np.round(sites, 6), axis=0)) != n:
        raise ValueError("sites must be distinct")
    # Work in a centred kilometre frame: weights stay O(10-1000) and well conditioned.
    origin = sites.mean(axis=0)
    scale = 1e-3
    s = (sites - origin) * scale
    dom = affinity.affine_transform(domain, [scale, 0, 0, scale, -origin[0] * scale, -origin[1] * scale])
    grid = 1e-6  # 1 mm in km
    t = targets * dom.area / targets.sum()
    minx, miny, maxx, maxy = dom.bounds
    r = 4.0 * max(maxx - minx, maxy - miny, np.ptp(s[:, 0]), np.ptp(s[:, 1]))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])

    def plain(w: np.ndarray) -> _State:
        cells, areas, jac = _power_cells(s, w, dom, box, grid)
        return _State(w, cells, areas, jac, [])

    def handed_over(w: np.ndarray) -> _State:
        st = plain(w)
        cells, moved = _reassign_fragments(st.cells, s, grid)
        return _State(w, cells, shapely.area(cells) if moved else st.areas, st.jac, moved)

    first = plain(np.zeros(n))
    floor = 0.5 * min(first.areas.min(), t.min())
    best, iterations = _newton(plain, first, t, rtol, max_iter, floor)
    connected = False
    if connect and any(len(_parts(c)) > 1 for c in best.cells):
        start_state = handed_over(best.w)
        linked, more = _newton(handed_over, start_state, t, rtol, max_iter, floor)
        iterations += more
        if _max_rel(linked, t) <= max_error:
            best, connected = linked, True
    rel = _max_rel(best, t)
    if rel > max_error:
        raise ValueError(f"power diagram did not converge: worst cell {rel:.2%} off its target area")
    w, cells, areas, moved = best.w, best.cells, best.areas, best.moved
    it = iterations
    back = [
        affinity.affine_transform(c, [1 / scale, 0, 0, 1 / scale, origin[0], origin[1]]) for c in cells
    ]
    k2 = 1 / scale**2
    return Partition(
        cells=back,
        areas=areas * k2,
        targets=t * k2,
        weights=w,
        iterations=it,
        max_rel_error=rel,
        reassigned=[(i, k, a * k2) for i, k, a in moved],
        connected=connected,
    )


# --------------------------------------------------------------------------- 镇街


def _label_points(profile: Profile) -> pd.DataFrame:
    path = Path(get_settings().layers_dir) / LABELS_FILE
    if not path.is_file():
        raise MissingInputError(
            "the 镇街 label-point file is missing",
            where=str(path),
            fix="restore layers/townships.csv from the repository, or pass an official 镇街 file",
        )
    df = pd.read_csv(path, dtype={"stat_code_12": str})
    need = {"name_zh", "lon_wgs84", "lat_wgs84", "uncertainty_m"}
    if not need <= set(df.columns):
        raise InputDataError(
            f"columns {sorted(need - set(df.columns))} are missing", where=str(path), fix="restore the file"
        )
    df = df.set_index("name_zh")
    missing = [t.name_zh for t in profile.townships if t.name_zh not in df.index]
    if missing:
        raise InputDataError(
            f"no label point for 镇街 {'、'.join(missing)}",
            where=str(path),
            fix="add a row with lon_wgs84, lat_wgs84 and uncertainty_m for each 镇街 of the profile",
        )
    return df.loc[[t.name_zh for t in profile.townships]]


def _base_records(profile: Profile) -> list[dict]:
    return [
        {
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "code": t.code,
            "area_km2_official": t.area_km2,
            "administered_by": t.administered_by,
            "administered_by_zh": ADMINISTERED_BY_ZH[t.administered_by],
            "cluster": t.cluster,
        }
        for t in profile.townships
    ]


def _strip_suffix(name: str) -> str:
    name = str(name).strip()
    for suffix in ("街道办事处", "街道", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _normalise_code(value: object) -> str:
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) == 9 and text.isdigit():  # 9-digit township code -> 12 digits
        text += "000"
    return text


def _match_official(profile: Profile, official: gpd.GeoDataFrame, where: str) -> list[BaseGeometry]:
    """One dissolved geometry per profile 镇街 (profile order), from a user file."""
    if "code" in official.columns:
        key = "code"
        lookup = {t.code: t.name_zh for t in profile.townships}
        found = [lookup.get(_normalise_code(v)) for v in official["code"]]
    elif "name_zh" in official.columns:
        key = "name_zh"
        lookup = {}
        for t in profile.townships:
            lookup[t.name_zh] = t.name_zh
            lookup[_strip_suffix(t.name_zh)] = t.name_zh
        found = [lookup.get(str(v).strip(), lookup.get(_strip_suffix(v))) for v in official["name_zh"]]
    else:
        raise InputDataError(
            f"the 镇街 file has neither a 'code' nor a 'name_zh' column (columns: {', '.join(map(str, official.columns))})",
            where=where,
            fix="add a 'code' column with the 12-digit statistical codes, or a 'name_zh' column with the 镇街 names",
        )
    unknown = [str(v) for v, f in zip(official[key], found) if f is None]
    got = {f for f in found if f is not None}
    missing = [f"{t.name_zh} ({t.code})" for t in profile.townships if t.name_zh not in got]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing 镇街: {'、'.join(missing)}")
        if unknown:
            parts.append(f"rows not in the profile ({key}): {'、'.join(unknown)}")
        raise InputDataError(
            "the 镇街 file must cover exactly the profile's 19 镇街; " + "; ".join(parts),
            where=where,
            fix=f"correct the '{key}' values so that each 镇街 of layers/jiulongpo.yml appears (several rows per 镇街 are merged)",
        )
    geoms = official.geometry.values
    bad = [str(v) for v, g in zip(official[key], geoms) if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        raise InputDataError(
            f"rows without a polygon geometry: {'、'.join(bad)}", where=where, fix="give every 镇街 a polygon"
        )
    out = []
    for t in profile.townships:
        mine = [shapely.make_valid(g) for g, f in zip(geoms, found) if f == t.name_zh]
        out.append(shapely.union_all(mine))
    return out


def build_townships(
    profile: Profile, district: gpd.GeoDataFrame, official: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Build the 19 镇街: from an official file if given, else a labelled approximation (示意).

    Parameters
    ----------
    profile
        Study-area profile (names, codes, official areas, administration, cluster).
    district
        District layer from :func:`build_district` (its polygon is partitioned).
    official
        镇街 polygons already read from a user file, with a CRS and a ``code``
        (12-digit, 9-digit accepted) or ``name_zh`` column (``杨家坪`` and
        ``杨家坪街道`` both match); several rows of one 镇街 are merged.  The file
        name may be given in ``official.attrs['source']`` (or ``['source_file']``, as
        :func:`jlp_geo.sources.userfile.read_user_layer` sets it).

    Returns
    -------
    GeoDataFrame
        19 rows in profile order, EPSG:4490, with ``name_zh``, ``name_en``, ``code``,
        ``area_km2_official``, ``area_km2`` (computed in the analysis CRS),
        ``administered_by`` (``district``/``high_tech_zone``), ``administered_by_zh``,
        ``cluster``, ``method`` (``official file``/``approximation``), ``is_schematic``,
        ``label_zh``, ``area_km2_target`` and ``label_offset_m`` (approximation only:
        the area the cell was fitted to, and how far the label point lies outside its
        cell, 0 when inside), ``note`` and the provenance columns.

    Raises
    ------
    InputDataError
        If *official* does not cover exactly the profile's 19 镇街 (the message names
        those missing or unknown), lacks a key column or has rows without polygons.
    CRSError
        If *official* has no CRS.
    """
    records = _base_records(profile)
    if official is not None:
        named = official.attrs.get("source") or official.attrs.get("source_file")
        where = str(named or "user 镇街 file")
        require_crs(official, where)
        geoms = _match_official(profile, official, where)
        gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=official.crs)
        source = str(named or "user file")
        gdf["source"] = source
        gdf["precision"] = "surveyed"
        gdf["uncertainty_m"] = np.nan
        gdf["method"] = "official file"
        gdf["is_schematic"] = False
        gdf["label_zh"] = gdf["name_zh"]
        gdf["area_km2_target"] = np.nan
        gdf["label_offset_m"] = np.nan
        gdf["note"] = "official 镇街 boundary supplied by the user"
        gdf["area_km2"] = (to_analysis(gdf, profile.analysis_crs).area / 1e6).round(3).values
        return finish_layer(gdf, layer="townships")

    labels = _label_points(profile)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(labels["lon_wgs84"].astype(float), labels["lat_wgs84"].astype(float)),
        crs="EPSG:4326",
    )
    pts_a = to_analysis(pts, profile.analysis_crs).geometry
    sites = np.column_stack([pts_a.x.values, pts_a.y.values])
    dom_a = to_analysis(district, profile.analysis_crs)
    domain = shapely.union_all(dom_a.geometry.values)
    targets = np.array([t.area_km2 for t in profile.townships])
    part = partition_by_area(domain, sites, targets)
    gdf = gpd.GeoDataFrame(records, geometry=part.cells, crs=dom_a.crs)
    offsets = np.array([c.distance(shapely.Point(p)) for c, p in zip(part.cells, sites)])
    label_unc = labels["uncertainty_m"].astype(float).to_numpy()
    eq_radius = np.sqrt(targets * 1e6 / np.pi)
    gdf["source"] = APPROXIMATION_SOURCE
    gdf["precision"] = "schematic"
    gdf["uncertainty_m"] = np.round(np.maximum(label_unc, eq_radius), -2)
    gdf["method"] = "approximation"
    gdf["is_schematic"] = True
    gdf["label_zh"] = [f"{t.name_zh}（示意）" for t in profile.townships]
    gdf["area_km2"] = np.round(shapely.area(np.asarray(part.cells, dtype=object)) / 1e6, 3)
    gdf["area_km2_target"] = np.round(part.targets / 1e6, 3)
    gdf["label_offset_m"] = np.round(offsets, 0)
    gdf["note"] = APPROXIMATION_NOTE
    gdf.attrs["partition"] = {
        "iterations": part.iterations,
        "connected": part.connected,
        "max_rel_error": part.max_rel_error,
        "reassigned": [(profile.townships[i].name_zh, profile.townships[k].name_zh, a / 1e6) for i, k, a in part.reassigned],
    }
    out = finish_layer(gdf, layer="townships")
    out.attrs.update(gdf.attrs)
    return out


# --------------------------------------------------------------------------- 组团


def _least_precise(values: pd.Series) -> str:
    return max(values, key=lambda p: _PRECISION_RANK[p])


def build_clusters(profile: Profile, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build the four 组团 of 第三十章 第一节 and the 重庆高新区 unit, dissolved from the 镇街.

    Parameters
    ----------
    profile
        Study-area profile (cluster names, functions quoted from the plan, members).
    townships
        Layer from :func:`build_townships`; its precision is inherited.

    Returns
    -------
    GeoDataFrame
        5 rows (the four clusters, then the 高新区 unit), EPSG:4490, with ``name_zh``,
        ``name_en``, ``kind``, ``function``, ``members`` (、-joined), ``membership_status``,
        ``membership_note``, ``area_km2`` (analysis CRS), ``area_km2_official_sum``,
        ``is_schematic``, ``label_zh`` and the provenance columns.

    Raises
    ------
    InputDataError
        If *townships* lacks a member 镇街 named by the profile.
    """
    require_crs(townships, "townships layer")
    ta = to_analysis(townships, profile.analysis_crs).set_index("name_zh")
    plan = profile.document("plan")
    htz = profile.high_tech_zone_unit
    units = []
    for c in profile.clusters:
        note = c.membership_note
        if c.membership_status != "supported":
            note = f"Working assumption (membership not defined in the plan): {note}"
        units.append(
            {
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "kind": "组团 cluster",
                "function": c.function,
                "members": list(c.members),
                "membership_status": c.membership_status,
                "membership_note": note,
                "source": f"{plan} 第三十章 第一节 (name, function); membership: {c.membership_status}, see membership_note",
            }
        )
    htz_members = [t.name_zh for t in profile.townships if t.administered_by == "high_tech_zone"]
    units.append(
        {
            "name_zh": htz.get("name_zh", "重庆高新区直管镇"),
            "name_en": htz.get("name_en", "Towns administered by Chongqing High-tech Zone"),
            "kind": "高新区直管 administrative unit (not a cluster)",
            "function": (
                "Not one of the four clusters: 第三十章 第一节 names only 九龙新城、杨谢石黄九、东三街、中梁山华岩. "
                "These six towns are administered by 重庆高新区; the plan asks to “强化与重庆高新区协同联动” (第五章) "
                "and names “西部（重庆）科学城九龙坡片区” in its innovation layout (第十章 第一节) without defining its extent."
            ),
            "members": htz_members,
            "membership_status": "administrative",
            "membership_note": htz.get("note", ""),
            "source": f"{plan} 第三十章 第一节 (the four clusters); administration: {profile.townships_source}",
        }
    )
    official_area = {t.name_zh: t.area_km2 for t in profile.townships}
    geoms, rows = [], []
    for u in units:
        absent = [m for m in u["members"] if m not in ta.index]
        if absent:
            raise InputDataError(
                f"the 镇街 layer lacks {'、'.join(absent)}, a member of {u['name_zh']}",
                where="townships layer",
                fix="build the 镇街 layer with build_townships() for the same profile",
            )
        sub = ta.loc[u["members"]]
        geom = shapely.union_all(sub.geometry.values, grid_size=1e-3)
        precision = _least_precise(sub["precision"])
        schematic = precision != "surveyed"
        u = dict(u)
        u["members"] = "、".join(u["members"])
        u.update(
            precision=precision,
            uncertainty_m=float(sub["uncertainty_m"].max()) if sub["uncertainty_m"].notna().any() else np.nan,
            area_km2=round(geom.area / 1e6, 3),
            area_km2_official_sum=round(sum(official_area[m] for m in sub.index), 2),
            is_schematic=schematic,
            label_zh=f"{u['name_zh']}（示意）" if schematic else u["name_zh"],
        )
        geoms.append(geom)
        rows.append(u)
    return finish_layer(rows, geometry=geoms, crs=ta.crs, layer="clusters")
