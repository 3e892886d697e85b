"""The planner's inputs to the construction-waste analysis: generation figures and population.

:func:`read_generation_file` reads the per-镇街 generation CSV (figures per waste type in the plan's units,
or a construction-activity measure); :func:`read_population` reads a population GeoTIFF (people per cell,
projected to the analysis CRS) or a census CSV into :class:`PopulationData`.  Both check what they read
and name the file, line or column at fault; the analysis itself is :mod:`jlp_geo.analysis.waste`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputDataError, MissingInputError

__all__ = ["GENERATION_COLUMNS", "PopulationData", "read_generation_file", "read_population"]

#: Waste-type columns of the generation file, in the plan's units (spoil/slurry 万立方米/年, the others 万吨/年);
#: the keys of :data:`jlp_geo.analysis.waste.TYPES`.
GENERATION_COLUMNS: tuple[str, ...] = ("spoil", "slurry", "construction", "demolition", "decoration")


def read_generation_file(path: str | Path, scope: Sequence[str]) -> pd.DataFrame:
    """Read per-镇街 generation figures or construction activity from a CSV.

    The file has ``name_zh`` and any of ``spoil``, ``slurry`` (万立方米/年), ``construction``,
    ``demolition``, ``decoration`` (万吨/年) -- the plan's units -- and/or ``activity`` (a construction
    activity measure used as allocation proxy, e.g. 施工面积); optionally ``source``.

    Parameters
    ----------
    path
        The CSV (UTF-8, with or without BOM).
    scope
        ``name_zh`` of the 镇街 the plan covers; any other name is an error.

    Returns
    -------
    DataFrame
        Indexed by ``name_zh`` with the numeric columns found; ``attrs['source']``.

    Raises
    ------
    InputDataError
        Unknown 镇街, no usable column, or a value that is not a non-negative number (with line numbers).
    """
    path = Path(path)
    where = f"--generation {path}"
    if not path.is_file():
        raise MissingInputError("generation file not found", where=where, fix="check the path")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError(f"cannot read the CSV: {exc}", where=where, fix="save it as UTF-8 CSV") from exc
    df.columns = [c.strip() for c in df.columns]
    if "name_zh" not in df.columns:
        raise InputDataError(f"no name_zh column; the file has {list(df.columns)}", where=where,
                             fix="header: name_zh,spoil,slurry,construction,demolition,decoration[,activity][,source]")
    cols = [c for c in (*GENERATION_COLUMNS, "activity") if c in df.columns]
    if not cols:
        raise InputDataError(f"none of the columns {[*GENERATION_COLUMNS, 'activity']} is present", where=where,
                             fix="give figures per type in the plan's units (spoil/slurry 万立方米/年, others 万吨/年) or an activity column")
    df["name_zh"] = df["name_zh"].str.strip()
    unknown = sorted(set(df["name_zh"]) - set(scope))
    if unknown:
        raise InputDataError(f"unknown or out-of-scope 镇街 {unknown}", where=where,
                             fix=f"the plan covers (第二条): {'、'.join(scope)}")
    if df["name_zh"].duplicated().any():
        raise InputDataError(f"镇街 listed twice: {sorted(set(df.loc[df['name_zh'].duplicated(), 'name_zh']))}", where=where)
    out = pd.DataFrame(index=pd.Index(df["name_zh"], name="name_zh"))
    for c in cols:
        num = pd.to_numeric(df[c].str.strip().replace("", np.nan), errors="coerce")
        bad = (num.isna() & (df[c].str.strip() != "")) | (num < 0)
        if bad.any():
            lines = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())][:10]
            raise InputDataError(f"column {c}: not a non-negative number on line(s) {lines}", where=where)
        out[c] = num.to_numpy()
    out = out.dropna(axis=1, how="all")
    out.attrs["source"] = "; ".join(sorted({s for s in df.get("source", pd.Series(dtype=str)) if s})) or f"user file {path.name}"
    return out


@dataclass
class PopulationData:
    """Population input: a raster (cell centres in the analysis CRS, people per cell) or census totals per 镇街.

    Attributes
    ----------
    kind
        ``"raster"`` or ``"census"``.
    source
        File name or census citation.
    xs, ys, values, cell_km2
        Raster cell centres, people per cell and the cell area (raster only).
    totals
        ``{name_zh: residents}`` (census only).
    """

    kind: str  # 'raster' | 'census'
    source: str
    xs: np.ndarray | None = None
    ys: np.ndarray | None = None
    values: np.ndarray | None = None
    cell_km2: float = float("nan")
    totals: dict[str, float] | None = None

    @property
    def label(self) -> str:
        """What the population is, for tables and maps."""
        return {"raster": "人口栅格 population raster", "census": "镇街人口（按镇街平均密度估算）census per 镇街, spread at 镇街 average density"}[self.kind] + f" ({self.source})"


def read_population(path: str | Path, crs: str) -> PopulationData:
    """Read a population GeoTIFF (people per cell, any CRS) or a census CSV (``name_zh,population[,source]``).

    Parameters
    ----------
    path
        ``.tif`` / ``.tiff`` raster or ``.csv``.
    crs
        Metric analysis CRS the raster cell centres are projected to.

    Returns
    -------
    PopulationData
        ``kind="raster"`` with the populated cell centres in *crs*, or ``kind="census"`` with the totals.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        If the raster has no CRS or cannot be read, or the CSV lacks its columns.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from .census import read_census

        totals, source = read_census(path)
        return PopulationData("census", source, totals=totals)
    if not path.is_file():
        raise MissingInputError("population file not found", where=f"--population {path}", fix="give a GeoTIFF or a CSV (name_zh,population)")
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover
        raise MissingInputError("rasterio is needed to read population rasters", fix="pip install rasterio") from exc
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputDataError("the population raster has no CRS", where=f"--population {path}", fix="use the GeoTIFF as published")
            data = src.read(1, masked=True).astype("float64")
            rows, cols = np.nonzero(~np.ma.getmaskarray(data) & (data.filled(0) > 0))
            values = np.asarray(data[rows, cols].filled(0), dtype=float)
            xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
            corners = list(zip(*rasterio.transform.xy(src.transform, [0, 0, 1], [0, 1, 0], offset="ul")))
            raster_crs = src.crs.to_string()
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(f"cannot read the population raster: {exc}", where=f"--population {path}") from exc
    from ..crs import transform_xy

    x, y = transform_xy(np.asarray(xs, float), np.asarray(ys, float), raster_crs, crs)
    cx, cy = transform_xy(np.array([c[0] for c in corners]), np.array([c[1] for c in corners]), raster_crs, crs)
    cell_km2 = abs((cx[1] - cx[0]) * (cy[2] - cy[0]) - (cy[1] - cy[0]) * (cx[2] - cx[0])) / 1e6
    return PopulationData("raster", path.name, xs=x, ys=y, values=values, cell_km2=cell_km2)
