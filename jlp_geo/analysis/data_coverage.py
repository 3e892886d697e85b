"""What share of the district, and of each 镇街 / 组团, each input covers — so no figure claims more than its data.

An input that covers space — the OSM extract, a DEM, a population raster, census totals, a user's facility
file — has a *footprint*; :func:`analyse_data_coverage` intersects each footprint with the district and every
unit and returns a :class:`DataCoverage`: one row per unit, one share per input, and a ``data_coverage`` label
(``完整 full`` or ``部分数据 partial: OSM 23 %…``) that the outputs carry into their tables, maps and report.
A unit below the *full* share (profile ``plausibility.data_coverage_full``, default 0.98) is *partial*: its
figures are marked, whole-district values from partial data are never judged against a target, and counts
where there is no data are ``无数据 no data``, never 0.

Footprints: OSM = the convex hull of the extract's nodes after clipping to the district (an extract never
reaches beyond its nodes); rasters = the outline of their cells with data
(:func:`jlp_geo.sources.raster.check_raster`); census = the 镇街 it lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..crs import to_analysis

__all__ = [
    "DEFAULT_FULL_SHARE",
    "INPUT_ZH",
    "NO_DATA",
    "WHOLE",
    "DataCoverage",
    "analyse_data_coverage",
    "census_footprint",
    "footprint_from_lonlat",
    "mark_coverage_result",
]

#: a unit whose share covered is below this is partial (profile ``plausibility.data_coverage_full`` overrides)
DEFAULT_FULL_SHARE = 0.98
#: the text of a count or share that the data does not reach
NO_DATA = "无数据 no data"
#: the row of the whole district (the same label as the coverage and indicator tables)
WHOLE = "全域 whole area"
INPUT_ZH = {"osm": "OSM", "dem": "DEM 高程", "population": "人口栅格 population raster", "census": "普查 census",
            "facilities": "设施文件 facilities file"}


def footprint_from_lonlat(lon: np.ndarray, lat: np.ndarray, crs: str = "EPSG:4490") -> BaseGeometry | None:
    """The convex hull of points (an extract's nodes), in *crs*; None without points."""
    pts = shapely.points(np.column_stack([np.asarray(lon, float), np.asarray(lat, float)]))
    if len(pts) == 0:
        return None
    return shapely.convex_hull(shapely.multipoints(pts))


@dataclass
class DataCoverage:
    """Shares of each unit covered by each input.

    Attributes
    ----------
    table
        Index = unit (``全域 whole area``, then 组团 and 镇街 names), columns ``level`` and ``share_<input>``
        per input, ``data_coverage`` (label) and ``partial`` (bool).
    full_share
        The share from which a unit counts as fully covered.
    inputs
        The inputs measured, in order.
    """

    table: pd.DataFrame
    full_share: float = DEFAULT_FULL_SHARE
    inputs: list[str] = field(default_factory=list)

    def share(self, unit: str, source: str = "osm") -> float:
        """Share of *unit* covered by *source* (NaN when not measured)."""
        col = f"share_{source}"
        if col not in self.table.columns or unit not in self.table.index:
            return float("nan")
        return float(self.table.at[unit, col])

    def label(self, unit: str) -> str:
        """``完整 full`` or ``部分数据 partial: …`` for *unit* (empty when unknown)."""
        return str(self.table.at[unit, "data_coverage"]) if unit in self.table.index else ""

    def partial_units(self) -> dict[str, str]:
        """``{unit: label}`` of every partial unit (the whole district included when partial)."""
        part = self.table[self.table["partial"]]
        return dict(zip(part.index, part["data_coverage"]))

    def notes(self) -> list[str]:
        """One sentence per input that covers less than the whole district."""
        out = []
        for src in self.inputs:
            whole = self.share(WHOLE, src)
            if np.isfinite(whole) and whole < self.full_share:
                towns = self.table[self.table["level"] == "镇街 township"]
                units = towns[towns[f"share_{src}"] < self.full_share]
                zh = f"，{len(units)}/{len(towns)} 个镇街不完整" if len(towns) else ""
                en = f" and for {len(units)} of {len(towns)} 镇街" if len(towns) else ""
                out.append(
                    f"数据覆盖不全 {INPUT_ZH.get(src, src)} 只覆盖研究范围 {whole:.1%}{zh} — {src} covers {whole:.1%} of the "
                    f"study area: figures for the whole area{en} are marked 部分数据 partial"
                )
        return out


def _share(footprint: BaseGeometry | None, unit: BaseGeometry) -> float:
    if unit is None or unit.is_empty or unit.area <= 0:
        return float("nan")
    if footprint is None or footprint.is_empty:
        return 0.0
    return float(min(1.0, shapely.intersection(footprint, unit).area / unit.area))


def analyse_data_coverage(
    district: gpd.GeoDataFrame,
    footprints: Mapping[str, BaseGeometry | None],
    *,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    analysis_crs: str,
    footprint_crs: str = "EPSG:4490",
    full_share: float = DEFAULT_FULL_SHARE,
) -> DataCoverage:
    """Measure the share of the district and of each 组团 / 镇街 that each input covers.

    Parameters
    ----------
    district
        The district layer.
    footprints
        ``{input: polygon in footprint_crs, or None (covers nothing)}``; inputs not given are not measured.
    townships, clusters
        Unit layers with ``name_zh``.
    analysis_crs
        Metric CRS for areas.
    footprint_crs
        CRS of the footprints.
    full_share
        From this share a unit counts as fully covered.

    Returns
    -------
    DataCoverage
    """
    def metric(geom: BaseGeometry | None) -> BaseGeometry | None:
        if geom is None:
            return None
        return to_analysis(gpd.GeoDataFrame(geometry=[geom], crs=footprint_crs), analysis_crs).geometry.iloc[0]

    prints = {k: metric(v) for k, v in footprints.items()}
    units: list[tuple[str, str, BaseGeometry]] = [(WHOLE, "全域 whole area", to_analysis(district, analysis_crs).geometry.union_all())]
    for level, layer in (("组团 cluster", clusters), ("镇街 township", townships)):
        if layer is not None:
            la = to_analysis(layer, analysis_crs)
            units.extend((str(n), level, g) for n, g in zip(la["name_zh"], la.geometry))
    rows = []
    for name, level, geom in units:
        row = {"unit": name, "level": level}
        for src, fp in prints.items():
            row[f"share_{src}"] = _share(fp, geom)
        lacking = [f"{INPUT_ZH.get(s, s)} {row[f'share_{s}']:.0%}" for s in prints
                   if np.isfinite(row[f"share_{s}"]) and row[f"share_{s}"] < full_share]
        row["partial"] = bool(lacking)
        row["data_coverage"] = ("部分数据 partial: " + ", ".join(lacking)) if lacking else "完整 full"
        rows.append(row)
    table = pd.DataFrame(rows).drop_duplicates("unit").set_index("unit")
    return DataCoverage(table=table, full_share=full_share, inputs=list(prints))


def census_footprint(townships: gpd.GeoDataFrame, totals: Mapping[str, float]) -> BaseGeometry | None:
    """The 镇街 that census *totals* give a figure for (their union, in *townships*' CRS)."""
    given = townships[townships["name_zh"].astype(str).isin([n for n, v in totals.items() if v is not None])]
    return shapely.union_all(given.geometry.values) if len(given) else None


def mark_coverage_result(result: object, dc: DataCoverage) -> list[str]:
    """Carry *dc* into a coverage result: a ``data_coverage`` column per unit row, and notes.

    Adds ``data_coverage`` (label) and ``data_coverage_osm`` (share the OSM data covers) to the result's
    ``by_township`` / ``by_cluster`` layers (and the label of partial units to their ``coverage_note``, which the
    coverage map's popups show) and ``whole_area`` table, sets ``result.data_coverage``, and
    returns the sentences for the partial inputs (the caller prints them as ``警告``).
    """
    for attr in ("by_township", "by_cluster"):
        layer = getattr(result, attr, None)
        if layer is None or "name_zh" not in layer.columns:
            continue
        names = layer["name_zh"].astype(str)
        layer["data_coverage"] = [dc.label(n) for n in names]
        layer["data_coverage_osm"] = [round(dc.share(n, "osm"), 4) for n in names]
        if "coverage_note" in layer.columns:  # the note every map popup and table shows: partial units say so there too
            partial = dc.partial_units()
            layer["coverage_note"] = [f"{note}；{partial[n]}" if n in partial else note for note, n in zip(layer["coverage_note"], names)]
    whole = getattr(result, "whole_area", None)
    if whole is not None and len(whole):
        whole["data_coverage"] = [dc.label(WHOLE)] * len(whole)
        whole["data_coverage_osm"] = [round(dc.share(WHOLE, "osm"), 4)] * len(whole)
    result.data_coverage = dc
    return dc.notes()
