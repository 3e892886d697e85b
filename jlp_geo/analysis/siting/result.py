"""Result objects of the siting analysis: one :class:`CategorySiting` per category, gathered in :class:`SitingResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from ...layers.categories import Category
from ...layers.common import finish_layer
from .models import Solution

if TYPE_CHECKING:  # pragma: no cover
    from ..accessibility import CoverageResult

__all__ = ["DEMAND_STATUS_ZH", "HEADERS_ZH", "MODEL_ZH", "CategorySiting", "SitingResult", "site_layer"]

MODEL_ZH = {
    "mclp": "最大覆盖模型 MCLP（新增 p 处，覆盖人口最多）",
    "mclp_target": "最大覆盖模型 MCLP：达到目标覆盖率所需最少新增设施",
    "lscp": "集合覆盖模型 LSCP（覆盖全部可达人口的最少新增设施）",
    "pmedian": "p-中位模型 p-median（新增 p 处，居民总步行最少；截断于 2 倍阈值）",
}
DEMAND_STATUS_ZH = {"existing": "现有设施已覆盖", "new": "新增设施覆盖", "uncovered": "仍未覆盖"}

HEADERS_ZH = {
    "category": "服务类别 category",
    "category_zh": "服务类别",
    "rule": "标准",
    "threshold": "阈值",
    "model": "模型",
    "request": "要求",
    "p": "新增设施数 p",
    "method": "求解方法",
    "status": "求解状态",
    "population_covered": "覆盖人口",
    "share": "覆盖率",
    "gap": "最优性间隙 gap",
    "bound": "上界 bound",
    "n_existing": "现有设施数",
    "n_candidates": "候选点数",
    "population_total": "总人口",
    "covered_before": "现状覆盖人口",
    "share_before": "现状覆盖率",
    "covered_after": "新增后覆盖人口",
    "share_after": "新增后覆盖率",
    "n_sites": "建议新增设施数",
    "greedy_covered_after": "贪心法覆盖人口",
    "greedy_guarantee": "贪心法理论下限",
    "seconds": "求解时间 (秒)",
    "population_basis": "人口口径",
    "rank": "排序",
    "marginal_population": "新增覆盖人口",
    "cumulative_share": "累计覆盖率",
    "reason": "候选理由",
    "name": "名称",
    "mean_cost_before": "现状平均步行（截断）",
    "mean_cost_after": "新增后平均步行（截断）",
    "mean_cost": "平均步行（截断）",
}


@dataclass
class CategorySiting:
    """Siting of one service category.

    Attributes
    ----------
    category
        The service category.
    rule, threshold, unit
        ``time`` (minutes) or ``dist`` (metres), the limit and its unit.
    model, request
        ``mclp`` / ``mclp_target`` / ``lscp`` and what was asked (e.g. ``p = 5``, ``目标 95%``).
    solution, greedy
        The exact (HiGHS) answer and the lazy-greedy answer to the same question.
    existing_nodes
        Network nodes of the existing facilities (fixed, never proposed).
    candidates
        Every candidate (``node``, ``name``, ``reason``, ``origin``), in row order of the models.
    sites
        The proposed sites, ranked (layer, EPSG:4490).
    curve
        ``p`` → people covered (greedy and exact).
    covered_before, covered_after
        Boolean per network node (the category's rule).
    weights
        People per network node.
    n_pairs, n_groups, unreachable
        Candidate–demand pairs within the rule, merged demand groups, and people no candidate reaches.
    mean_cost
        p-median only: people-weighted mean walk (minutes or metres, capped) before and after.
    """

    category: Category
    rule: str
    threshold: float
    unit: str
    model: str
    request: str
    solution: Solution
    greedy: Solution
    existing_nodes: np.ndarray
    candidates: pd.DataFrame
    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    covered_before: np.ndarray
    covered_after: np.ndarray
    weights: np.ndarray
    n_pairs: int
    n_groups: int
    unreachable: float
    notes: list[str] = field(default_factory=list)
    mean_cost: tuple[float, float] | None = None

    @property
    def population_total(self) -> float:
        """People on the network (or node count when unweighted)."""
        return float(self.weights.sum())

    def covered(self, after: bool = True) -> float:
        """People covered before or after the proposed sites."""
        mask = self.covered_after if after else self.covered_before
        return float(self.weights[mask].sum())

    def share(self, after: bool = True) -> float:
        """Share covered (NaN without population)."""
        total = self.population_total
        return self.covered(after) / total if total > 0 else float("nan")

    def summary_row(self) -> dict:
        """One row of the summary table."""
        s = self.solution
        return {
            "category": self.category.id,
            "category_zh": self.category.name_zh,
            "rule": self.rule,
            "threshold": f"{self.threshold:g} {self.unit}",
            "model": self.model,
            "request": self.request,
            "n_existing": int(np.unique(self.existing_nodes).size),
            "n_candidates": len(self.candidates),
            "population_total": self.population_total,
            "covered_before": self.covered(False),
            "share_before": self.share(False),
            "n_sites": s.n_sites,
            "covered_after": self.covered(True),
            "share_after": self.share(True),
            "method": s.method,
            "status": s.status,
            "gap": s.gap,
            "seconds": round(s.seconds, 3),
            # p-median objectives are walks saved (person-seconds / -metres), not people
            "greedy_covered_after": float("nan") if self.model == "pmedian" else self.covered(False) + self.greedy.objective,
            "unreachable": self.unreachable,
            "n_pairs": self.n_pairs,
            "n_groups": self.n_groups,
            "mean_cost_before": self.mean_cost[0] if self.mean_cost else float("nan"),
            "mean_cost_after": self.mean_cost[1] if self.mean_cost else float("nan"),
        }


@dataclass
class SitingResult:
    """Everything ``jlp-geo site`` computed; layers in EPSG:4490, tables as DataFrames."""

    coverage: CoverageResult
    categories: list[CategorySiting]
    demand: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def population_label(self) -> str:
        """How population was counted (raster / census / unweighted)."""
        return self.coverage.population.label

    def summary(self) -> pd.DataFrame:
        """One row per category: before, after, model, solver status and gap."""
        df = pd.DataFrame([c.summary_row() for c in self.categories])
        df["population_basis"] = self.population_label
        return df

    def curves(self) -> pd.DataFrame:
        """The ``p`` → people covered curve of every category (long table)."""
        frames = [c.curve for c in self.categories]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def sites(self) -> gpd.GeoDataFrame:
        """The proposed sites of every category, ranked within each."""
        frames = [c.sites for c in self.categories if len(c.sites)]
        if not frames:
            return self.categories[0].sites if self.categories else gpd.GeoDataFrame()
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The GeoPackage layers, in order."""
        return {
            "siting_sites": self.sites(),
            "siting_existing": self.existing,
            "siting_candidates": self.candidates,
            "siting_demand": self.demand,
        }


def site_layer(coverage: CoverageResult, cs_nodes: np.ndarray, cands: pd.DataFrame, sol: Solution, cat: Category,
               before: float, total: float, model: str, rule_text: str, *, gains: np.ndarray | None = None,
               savings: np.ndarray | None = None, saving_unit: str = "") -> gpd.GeoDataFrame:
    """The proposed sites of one category as a layer, ranked; *gains* = people each adds (default ``sol.marginal``).

    For p-median, *savings* is the weighted walk each site saves (person-minutes or person-metres, *saving_unit*).
    """
    net = coverage.network
    rows, geoms = [], []
    cum = before
    gains = sol.marginal if gains is None else gains
    for rank, (row, gain) in enumerate(zip(sol.selected, gains), start=1):
        node = int(cs_nodes[row])
        cum += gain
        c = cands.iloc[int(row)]
        name = c["name"] or f"建议新增{cat.name_zh} #{rank}"
        rows.append({
            "name_zh": name,
            "name_en": f"Proposed {cat.name_en} #{rank}",
            "source": f"jlp_geo siting ({MODEL_ZH[model]}; {sol.method}, {sol.status}); {rule_text}; "
                      f"population: {coverage.population.label}; network: {net.source}",
            "precision": "indicative",
            "uncertainty_m": float("nan"),
            "category": cat.id, "category_zh": cat.name_zh, "rank": rank, "node": node,
            "osm_node_id": int(net.node_ids[node]), "marginal_population": float(gain),
            "cumulative_population": float(cum), "cumulative_share": cum / total if total > 0 else float("nan"),
            "reason": str(c["reason"]), "origin": str(c["origin"]), "model": model, "method": sol.method,
            "status": sol.status, "gap": sol.gap,
        } | ({f"saving_{saving_unit}": float(savings[rank - 1])} if savings is not None else {}))
        geoms.append(gpd.points_from_xy([net.x[node]], [net.y[node]])[0])
    if not rows:
        cols = ["name_zh", "name_en", "source", "precision", "category", "category_zh", "rank", "node",
                "marginal_population", "cumulative_population", "cumulative_share", "reason"]
        return finish_layer(gpd.GeoDataFrame(columns=cols, geometry=[], crs=net.crs), layer="siting_sites")
    return finish_layer(rows, geoms, crs=net.crs, layer="siting_sites")
