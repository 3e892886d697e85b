"""The contract every planning layer meets, and the helper that enforces it.

Every feature carries ``name_zh``, ``name_en``, ``source`` (document + clause, or
dataset + date), ``precision`` (one of :data:`PRECISIONS`) and ``uncertainty_m``
(metres; NaN where the geometry is surveyed or absent).  Layers are returned in
the storage CRS (EPSG:4490).  A feature the evidence cannot place has an empty
geometry (None) rather than an invented one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import to_storage

PRECISIONS: tuple[str, ...] = ("surveyed", "indicative", "schematic")
PRECISION_ZH: dict[str, str] = {"surveyed": "实测", "indicative": "示意（估计位置）", "schematic": "示意（线路走向）"}
BASE_COLUMNS: tuple[str, ...] = ("name_zh", "name_en", "source", "precision", "uncertainty_m")


def finish_layer(
    records: pd.DataFrame | Sequence[Mapping[str, Any]],
    geometry: Iterable[Any] | None = None,
    crs: object = "EPSG:4326",
    layer: str = "layer",
) -> gpd.GeoDataFrame:
    """Build a layer that meets the provenance contract, in the storage CRS.

    Parameters
    ----------
    records
        Attribute rows; must contain :data:`BASE_COLUMNS` (``uncertainty_m`` may be missing
        and is then NaN).
    geometry
        One shapely geometry (or None) per row; omitted when *records* is already a
        GeoDataFrame.
    crs
        CRS of *geometry* (WGS84 for the gazetteer).
    layer
        Layer name used in error messages.

    Returns
    -------
    GeoDataFrame
        With the base columns first, ``uncertainty_m`` as float, CRS EPSG:4490.

    Raises
    ------
    ValueError
        If a base column is missing or a precision value is not one of :data:`PRECISIONS`
        (a programming error in a builder, not a user error).
    """
    if isinstance(records, gpd.GeoDataFrame) and geometry is None:
        gdf = records.copy()
    else:
        df = pd.DataFrame(list(records) if not isinstance(records, pd.DataFrame) else records).reset_index(drop=True)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geometry or [None] * len(df)), crs=crs), crs=crs)
    if "uncertainty_m" not in gdf.columns:
        gdf["uncertainty_m"] = np.nan
    missing = [c for c in BASE_COLUMNS if c not in gdf.columns]
    if missing:
        raise ValueError(f"layer {layer!r} lacks provenance columns {missing}")
    bad = sorted(set(gdf["precision"]) - set(PRECISIONS))
    if bad:
        raise ValueError(f"layer {layer!r} has precision values {bad}; allowed: {PRECISIONS}")
    gdf["uncertainty_m"] = pd.to_numeric(gdf["uncertainty_m"], errors="coerce").astype(float)
    geom_col = gdf.geometry.name
    order = list(BASE_COLUMNS) + [c for c in gdf.columns if c not in BASE_COLUMNS and c != geom_col] + [geom_col]
    return to_storage(gdf[order])
