"""The coverage tables: one long table of shares per unit x category x rule, and its Chinese headers."""

from __future__ import annotations

import pandas as pd

from .accessibility import BASIC, BASIC_ZH, RULES, CoverageResult

__all__ = ["HEADERS_ZH", "long_table"]


def long_table(result: CoverageResult) -> pd.DataFrame:
    """Long table: one row per unit × category × rule with population, covered population and share."""
    names = {c.id: c.name_zh for c in result.categories} | {BASIC: BASIC_ZH}
    limits = {c.id: (c.level_min, c.radius_m) for c in result.categories}
    frames = []
    units: list[tuple[str, pd.DataFrame]] = [("全域 whole area", result.whole_area)]
    if result.by_cluster is not None:
        units.append(("组团 cluster", pd.DataFrame(result.by_cluster.drop(columns="geometry")).set_index("name_zh")))
    if result.by_township is not None:
        units.append(("镇街 township", pd.DataFrame(result.by_township.drop(columns="geometry")).set_index("name_zh")))
    for level, table in units:
        for col in [c for c in table.columns if c.startswith("share_")]:
            _, rule, cat = col.split("_", 2)
            threshold = "" if cat == BASIC else (f"{limits[cat][0]} min" if rule == "time" else f"{limits[cat][1]:g} m")
            frames.append(pd.DataFrame({
                "unit_level": level,
                "unit": table.index,
                "category": cat,
                "category_zh": names.get(cat, cat),
                "rule": RULES[rule],
                "threshold": threshold,
                "population": table["population"].to_numpy(),
                "share": table[col].to_numpy(),
            }))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out["population_basis"] = result.population.label
    return out


HEADERS_ZH = {
    "unit_level": "统计单元层级",
    "unit": "统计单元",
    "category": "服务类别 category",
    "category_zh": "服务类别",
    "rule": "标准",
    "threshold": "阈值",
    "population": "人口(或节点数) population",
    "share": "覆盖率 share",
    "population_basis": "人口口径",
    "n_found": "设施数量",
}
