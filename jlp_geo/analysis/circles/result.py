"""What the life-circle analysis returns (:class:`CirclesResult`) and its one-row-per-unit table."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .parameters import CircleParameters
from .score import NO_DATA

__all__ = ["TABLE_HEADERS_ZH", "CirclesResult", "units_table"]

#: Chinese headers of the unit table (tables/life_circles.csv/.xlsx).
TABLE_HEADERS_ZH = {
    "unit_id": "单元编号",
    "name_zh": "单元名称",
    "township": "所属镇街",
    "population": "常住人口(估)",
    "population_flag": "人口规模",
    "area_km2": "面积(km²)",
    "residential_km2": "居住用地(km²)",
    "compactness": "15分钟步行可达中心的居民比例",
    "centre_zh": "中心",
    "n_basic_met": "基础保障达标项数",
    "n_basic": "基础保障项数",
    "score": "得分(基础保障达标比例)",
    "all_basic_met": "基础保障全部达标",
    "gaps_zh": "缺项",
    "pilot": "示范/试点",
    "precision": "精度",
    "source": "来源",
}


@dataclass
class CirclesResult:
    """Life-circle units, their checklist and how they were made.

    Attributes
    ----------
    units
        ``life_circles`` layer (EPSG:4490): one polygon per unit with id, name, 镇街, population,
        compactness, score, gaps, pilot, and per category ``share_time_<id>`` / ``met_<id>`` / ``n_<id>``.
    residential
        ``life_circle_residential``: the residential land of each unit (same ids).
    centres
        ``life_circle_centres``: the centre point of each unit.
    checklist
        Long table: one row per unit × category (see :func:`jlp_geo.analysis.circles.score.score_units`).
    pilots
        The 示范 communities and the unit each falls in (``unit_id`` empty where not located in the data).
    method
        ``"delineated"`` or ``"official"``.
    """

    units: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    centres: gpd.GeoDataFrame
    checklist: pd.DataFrame
    pilots: pd.DataFrame
    params: CircleParameters
    method: str
    population_basis: str
    population_known: bool
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The GeoPackage layers, in order."""
        return {"life_circles": self.units, "life_circle_residential": self.residential, "life_circle_centres": self.centres}

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.units)

    @property
    def share_all_basic(self) -> float:
        """Share of units (with residents) meeting every 基础保障 category; NaN without units."""
        scored = self.units["score"].notna()
        return float(self.units.loc[scored, "all_basic_met"].astype(bool).mean()) if scored.any() else float("nan")

    def largest_gaps(self, n: int = 10) -> pd.DataFrame:
        """The *n* units with the most unmet 基础保障 categories (ties: larger population first)."""
        df = pd.DataFrame(self.units.drop(columns="geometry"))
        df = df[df["score"].notna()].assign(n_gap=lambda d: d["n_basic"] - d["n_basic_met"])
        pop = df["population"].fillna(df["n_nodes"])
        return df.assign(_pop=pop).sort_values(["n_gap", "_pop", "unit_id"], ascending=[False, False, True], kind="stable").drop(columns="_pop").head(n)


def _cell(share: float, met: object) -> str:
    if share != share or met is None:
        return NO_DATA
    return f"{'✓' if met else '✗'} {share:.0%}"


def units_table(result: CirclesResult) -> pd.DataFrame:
    """One row per unit with the checklist as Chinese columns (``小学[基础保障]`` = ``✓ 95%`` / ``✗ 40%``)."""
    units = pd.DataFrame(result.units.drop(columns="geometry"))
    base = units[[c for c in TABLE_HEADERS_ZH if c in units.columns]].copy()
    base["population"] = base["population"].map(lambda v: NO_DATA if v != v else round(float(v)))
    base["compactness"] = base["compactness"].map(lambda v: NO_DATA if v != v else round(float(v), 3))
    ck = result.checklist
    for cat, rows in ck.groupby("category", sort=False):
        rows = rows.set_index("unit").reindex(np.arange(len(units)))
        head = f"{rows['category_zh'].iloc[0]}[{rows['level'].iloc[0]}]"
        base[head] = [_cell(s, m) for s, m in zip(rows["share_time"], rows["met"])]
        base[f"{rows['category_zh'].iloc[0]} 单元内设施数"] = rows["n_inside"].to_numpy()
        if rows["norm_per_10k"].notna().any():
            base[f"{rows['category_zh'].iloc[0]} 每万人设施数"] = rows["per_capita"].to_numpy()
    return base.rename(columns=TABLE_HEADERS_ZH)
