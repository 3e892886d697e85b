"""Is a user file plausible for *this* study area? Checks against the district polygon, not a municipality box.

Three checks, each stopping the run with a clear error where the file is clearly wrong and printing a
``警告`` line where it is only doubtful; the tolerances are data, in the profile's ``plausibility:`` block
(``layers/jiulongpo.yml``):

* :func:`check_in_study_area` — a user layer must lie in the district (within ``user_layer_tolerance_km``);
  features farther out are named in a warning;
* :func:`check_township_tiling` — 镇街 polygons must tile the district: the share of the district they leave
  uncovered (gap), the share covered twice (overlap), the share lying outside, and each 镇街's area against
  the profile's official area;
* :func:`check_datum_shift` — a polygon layer declared WGS84/CGCS2000 whose outline fits the district far
  better after the inverse GCJ-02 or BD-09 shift (≈ 480 m / ≈ 1 km near Chongqing) is an Amap/Baidu file
  declared wrongly: the error says to pass ``--input-crs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..crs import INPUT_DATUMS, from_chinese_datum, to_analysis
from ..errors import CRSError, InputDataError
from ..notices import warn

__all__ = [
    "DEFAULT_TOLERANCES",
    "TilingFit",
    "check_datum_shift",
    "check_in_study_area",
    "check_township_tiling",
    "tolerances",
]

#: used only when a profile has no ``plausibility:`` block; layers/jiulongpo.yml states the same values
DEFAULT_TOLERANCES: dict[str, float] = {
    "user_layer_tolerance_km": 2.0,
    "tiling_gap_warn": 0.02,
    "tiling_gap_error": 0.25,
    "tiling_overlap_warn": 0.02,
    "tiling_overlap_error": 0.25,
    "tiling_outside_warn": 0.02,
    "tiling_outside_error": 0.25,
    "township_area_warn": 0.25,
    "township_area_error": 1.0,
    "datum_shift_min_gain": 0.02,
}


def tolerances(profile: Any = None) -> dict[str, float]:
    """The plausibility tolerances of *profile* (its ``plausibility`` mapping), defaults for missing keys."""
    given = getattr(profile, "plausibility", None) or {}
    out = dict(DEFAULT_TOLERANCES)
    out.update({k: float(v) for k, v in dict(given).items() if k in DEFAULT_TOLERANCES})
    return out


def _metric(geom: BaseGeometry, crs: str, analysis_crs: str) -> BaseGeometry:
    return to_analysis(gpd.GeoDataFrame(geometry=[geom], crs=crs), analysis_crs).geometry.iloc[0]


def check_in_study_area(
    gdf: gpd.GeoDataFrame,
    study_area: BaseGeometry,
    *,
    what: str,
    analysis_crs: str,
    tolerance_km: float = DEFAULT_TOLERANCES["user_layer_tolerance_km"],
    area_name: str = "九龙坡区",
) -> gpd.GeoDataFrame:
    """Stop if no feature of *gdf* lies within *tolerance_km* of the study area; warn about the ones that don't.

    Parameters
    ----------
    gdf
        User layer in the storage CRS.
    study_area
        The district polygon in the same CRS.
    what
        The option the file came from (``--parks`` …), repeated in messages.
    analysis_crs
        Metric CRS for distances.
    tolerance_km
        Largest distance from the district at which a feature still counts as inside.

    Returns
    -------
    GeoDataFrame
        *gdf* unchanged (features outside are kept and named in the warning).
    """
    feats = to_analysis(gdf, analysis_crs)
    area = _metric(study_area, gdf.crs, analysis_crs)
    geoms = feats.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dist_km = np.full(len(feats), np.nan)
    dist_km[present] = shapely.distance(geoms[present], area) / 1000.0
    far = present & (dist_km > tolerance_km)
    if present.any() and far[present].all():
        raise CRSError(
            f"none of the {int(present.sum())} located feature(s) lies in {area_name} (nearest is "
            f"{np.nanmin(dist_km):.1f} km from the district; tolerance {tolerance_km:g} km): wrong file, or wrong CRS",
            where=what,
            fix="check that the file is for 九龙坡区 and that its CRS is right (QGIS: Layer Properties > Source); "
            "for Amap/Baidu coordinates pass --input-crs gcj02|bd09",
        )
    if far.any():
        names = gdf["name_zh"].astype(str).to_numpy()[far] if "name_zh" in gdf.columns else np.flatnonzero(far) + 1
        listed = "、".join(f"{n} ({d:.1f} km)" for n, d in zip(names[:8], dist_km[far][:8]))
        warn(f"{what}: {int(far.sum())} of {int(present.sum())} feature(s) lie more than {tolerance_km:g} km outside "
             f"{area_name}: {listed} — {what}: features outside the district (kept; check them)")
    return gdf


@dataclass(frozen=True)
class TilingFit:
    """How well 镇街 polygons tile the district (shares of the district's area)."""

    gap_share: float
    overlap_share: float
    outside_share: float
    area_ratio: dict[str, float]

    def summary(self) -> str:
        """One line, for notes."""
        return (f"镇街拼合 tiling: gap {self.gap_share:.1%}, overlap {self.overlap_share:.1%}, "
                f"outside {self.outside_share:.1%} of the district")


def check_township_tiling(
    towns: gpd.GeoDataFrame,
    district: BaseGeometry,
    official_km2: Mapping[str, float],
    *,
    analysis_crs: str,
    where: str,
    tol: Mapping[str, float] | None = None,
) -> TilingFit:
    """Check that 镇街 polygons tile the district and have about their official areas.

    Parameters
    ----------
    towns
        One (dissolved) polygon per 镇街 with ``name_zh``, any CRS.
    district
        District polygon in *towns*' CRS.
    official_km2
        Official area per ``name_zh`` (the profile's).
    analysis_crs
        Metric CRS.
    where
        The file, for messages.
    tol
        Tolerances (see :func:`tolerances`).

    Returns
    -------
    TilingFit

    Raises
    ------
    InputDataError
        Gap, overlap or outside share beyond the error tolerance, or a 镇街 area off by more than
        ``township_area_error`` (relative).
    """
    tol = dict(DEFAULT_TOLERANCES, **dict(tol or {}))
    t = to_analysis(towns, analysis_crs)
    d = _metric(district, towns.crs, analysis_crs)
    geoms = shapely.make_valid(t.geometry.values)
    union = shapely.union_all(geoms)
    d_area = d.area
    gap = shapely.difference(d, union).area / d_area
    outside = shapely.difference(union, d).area / d_area
    overlap = max(0.0, float(np.sum(shapely.area(geoms))) - union.area) / d_area
    ratio = {str(n): float(a / 1e6 / official_km2[n]) for n, a in zip(t["name_zh"], shapely.area(geoms)) if official_km2.get(n)}
    fit = TilingFit(float(gap), float(overlap), float(outside), ratio)
    problems, doubts = [], []
    for label, value, key in (("gap 空隙", gap, "gap"), ("overlap 重叠", overlap, "overlap"), ("outside 区界外", outside, "outside")):
        if value > tol[f"tiling_{key}_error"]:
            problems.append(f"{label} {value:.1%} of the district (tolerance {tol[f'tiling_{key}_error']:.0%})")
        elif value > tol[f"tiling_{key}_warn"]:
            doubts.append(f"{label} {value:.1%}")
    off = {n: r for n, r in ratio.items() if abs(r - 1) > tol["township_area_warn"]}
    bad = {n: r for n, r in off.items() if abs(r - 1) > tol["township_area_error"]}
    if bad:
        problems.append("area far from the official: " + "、".join(
            f"{n} {r * official_km2[n]:.1f} km² vs {official_km2[n]:g}" for n, r in list(bad.items())[:6]))
    if problems:
        raise InputDataError(
            "the 镇街 polygons do not tile 九龙坡区: " + "; ".join(problems),
            where=where,
            fix="give the official 镇街 boundaries of 九龙坡区 in their declared CRS (for Amap/Baidu files pass "
            "--input-crs gcj02|bd09); tolerances are in the profile's plausibility: block",
        )
    if off:
        doubts.append("area vs official " + "、".join(f"{n} {r:.0%}" for n, r in list(off.items())[:6]))
    if doubts:
        warn(f"--townships {where}: 镇街拼合不完全 the 镇街 polygons tile the district only roughly: " + "; ".join(doubts))
    return fit


def _iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = shapely.union(a, b).area
    return float(shapely.intersection(a, b).area / union) if union > 0 else 0.0


def check_datum_shift(
    gdf: gpd.GeoDataFrame,
    district: BaseGeometry,
    *,
    analysis_crs: str,
    where: str,
    min_gain: float = DEFAULT_TOLERANCES["datum_shift_min_gain"],
) -> dict[str, float]:
    """Stop when a polygon layer declared WGS84/CGCS2000 is most likely GCJ-02 or BD-09.

    The layer's union is compared with the district outline (intersection over union) as declared and after
    the exact inverse GCJ-02 and BD-09 shifts; if a shift raises the fit by more than *min_gain* the file
    was almost surely exported from Amap/Tencent or Baidu.

    Returns
    -------
    dict
        Fit (IoU) as declared and per datum, e.g. ``{"declared": 0.86, "gcj02": 0.97, "bd09": 0.71}``.
    """
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        return {}
    geo = polys.to_crs("EPSG:4326")
    union = shapely.union_all(shapely.make_valid(geo.geometry.values)).simplify(0.0003)
    if union.is_empty:
        return {}
    base = gpd.GeoDataFrame(geometry=[union], crs="EPSG:4326")
    d = _metric(district, gdf.crs, analysis_crs)
    fits = {"declared": _iou(to_analysis(base, analysis_crs).geometry.iloc[0], d)}
    for datum in INPUT_DATUMS:
        fits[datum] = _iou(to_analysis(from_chinese_datum(base, datum), analysis_crs).geometry.iloc[0], d)
    best = max(INPUT_DATUMS, key=lambda k: fits[k])
    if fits[best] - fits["declared"] > min_gain:
        name = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[best]
        raise CRSError(
            f"the file looks like {name} coordinates declared as {gdf.crs}: its outline fits the district "
            f"{fits['declared']:.1%} as declared but {fits[best]:.1%} after the inverse {best} shift",
            where=where,
            fix=f"run again with --input-crs {best}",
        )
    return fits
