"""How complete are the service data?  Counts per source, density per 10,000 residents, sparse flags.

In Chinese cities OSM is thin exactly for the basic services (幼儿园, 社区卫生服务站,
养老服务站, 托育): a map that shows "0 % covered" where the data simply has no
kindergartens paints a data gap as a service gap.  :func:`analyse_completeness`
reports, per category and 镇街 (and for the whole area):

* how many services were found, and how many of them each source contributed
  (``n_osm``, ``n_file``, ``n_poi``, ``n_plan``; a merged service counts for every
  source it came from);
* residents and services per 10,000 residents where residents are known
  (population raster or census; otherwise ``无数据`` -- never 0);
* the norm per 10,000 residents where the standards give one
  (``layers/service_norms.csv``: one facility per life circle, GB 50180-2018
  Table 3.0.4 / Appendix B, marked ``verified``), and a **sparse flag** where the
  density is below the table's plausibility floor (e.g. fewer kindergartens than
  one per 15,000 residents) -- or where a category has no service at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import to_analysis
from ..errors import InputDataError
from ..layers.categories import Category
from ..layers.common import read_plan_table

__all__ = ["COMPLETENESS_HEADERS", "NO_DATA", "SOURCE_KINDS", "analyse_completeness", "load_norms", "sparse_categories"]

NO_DATA = "无数据"
SOURCE_KINDS = ("osm", "file", "poi", "plan")
SPARSE_FLAG = "疑似数据缺失 likely data gap"
COMPLETENESS_HEADERS = {
    "unit_level": "统计单元层级",
    "unit": "统计单元",
    "category": "服务类别 category",
    "category_zh": "服务类别",
    "clause": "类别依据 clause",
    "n_services": "设施数量",
    "n_osm": "来自OSM",
    "n_file": "来自设施清单",
    "n_poi": "来自POI导出",
    "n_plan": "来自规划",
    "residents": "常住人口 residents",
    "per_10k": "每万人设施数",
    "norm_per_10k": "标准 每万人",
    "norm_basis": "标准依据",
    "sparse_below_per_10k": "稀疏阈值 每万人",
    "verified": "核实程度",
    "flag": "提示",
}


def load_norms() -> pd.DataFrame:
    """``layers/service_norms.csv`` indexed by category (numbers as floats)."""
    df = read_plan_table(
        "service_norms.csv", ("category", "norm_per_10k", "norm_basis", "sparse_below_per_10k", "sparse_basis", "verified")
    )
    for col in ("norm_per_10k", "sparse_below_per_10k"):
        num = pd.to_numeric(df[col], errors="coerce")
        if num.isna().any() or (num <= 0).any():
            raise InputDataError(f"column {col} must hold positive numbers", where="layers/service_norms.csv",
                                 fix="restore the file from the repository")
        df[col] = num
    return df.set_index("category")


def _kind_counts(services: pd.DataFrame) -> pd.DataFrame:
    kinds = services["source_kinds"].fillna("osm").astype(str) if "source_kinds" in services.columns else pd.Series("osm", index=services.index)
    return pd.DataFrame({f"n_{k}": kinds.str.split("+").map(lambda ks, k=k: k in ks).astype(int) for k in SOURCE_KINDS}, index=services.index)


def analyse_completeness(
    services: gpd.GeoDataFrame,
    categories: Sequence[Category],
    *,
    townships: gpd.GeoDataFrame | None = None,
    residents: pd.Series | None = None,
    total_residents: float | None = None,
    norms: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The completeness table (see the module docstring).

    Parameters
    ----------
    services
        Merged services (metric CRS) with ``source_kinds``; rows with ``included``
        False are not counted.
    categories
        Every category gets rows, found or not.
    townships
        镇街 polygons with ``name_zh`` (None: whole area only).
    residents
        Residents per 镇街 ``name_zh`` (None: unknown, densities ``无数据``).
    total_residents
        Residents of the whole area (None: unknown).
    norms
        Default :func:`load_norms`.

    Returns
    -------
    DataFrame
        One row per unit × category: the columns of :data:`COMPLETENESS_HEADERS`;
        ``per_10k`` is NaN where residents are unknown (written as ``无数据``).
    """
    norms = load_norms() if norms is None else norms
    svc = services
    if "included" in svc.columns:
        svc = svc[svc["included"].fillna(True).astype(bool)]
    svc = svc[~(svc.geometry.isna() | svc.geometry.is_empty)]
    counts = pd.concat([svc[["category"]], _kind_counts(svc)], axis=1)
    counts["unit"] = "全域 whole area"
    frames = [("全域 whole area", counts)]
    pop: dict[str, float] = {"全域 whole area": np.nan if total_residents is None else float(total_residents)}
    units = ["全域 whole area"]
    if townships is not None and len(svc):
        poly = to_analysis(townships[["name_zh", townships.geometry.name]], svc.crs).reset_index(drop=True)
        pts = gpd.GeoDataFrame(svc[["category"]], geometry=svc.geometry.representative_point(), crs=svc.crs)
        joined = gpd.sjoin(pts, poly, how="left", predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        by_town = counts.assign(unit=joined["name_zh"].reindex(counts.index))
        frames.append(("镇街 township", by_town[by_town["unit"].notna()]))
    if townships is not None:
        units += list(townships["name_zh"])
        for name in townships["name_zh"]:
            pop[name] = float(residents.get(name, np.nan)) if residents is not None else np.nan
    rows = []
    for unit in units:
        level = "全域 whole area" if unit == "全域 whole area" else "镇街 township"
        data = next((f for lv, f in frames if lv == level), counts.iloc[0:0])
        sub = data[data["unit"] == unit]
        for cat in categories:
            c = sub[sub["category"] == cat.id]
            n = len(c)
            res = pop.get(unit, np.nan)
            per = n / res * 10_000 if res and np.isfinite(res) and res > 0 else np.nan
            norm = norms.loc[cat.id] if cat.id in norms.index else None
            flag = ""
            if n == 0:
                flag = f"{SPARSE_FLAG}: 未找到 none found"
            elif norm is not None and np.isfinite(per) and per < norm["sparse_below_per_10k"]:
                flag = f"{SPARSE_FLAG}: {per:.2f} < {norm['sparse_below_per_10k']:g} 每万人 per 10k"
            rows.append({
                "unit_level": level,
                "unit": unit,
                "category": cat.id,
                "category_zh": cat.name_zh,
                "clause": cat.rule_source,
                "n_services": n,
                **{f"n_{k}": int(c[f"n_{k}"].sum()) for k in SOURCE_KINDS},
                "residents": res,
                "per_10k": per,
                "norm_per_10k": np.nan if norm is None else float(norm["norm_per_10k"]),
                "norm_basis": "" if norm is None else str(norm["norm_basis"]),
                "sparse_below_per_10k": np.nan if norm is None else float(norm["sparse_below_per_10k"]),
                "verified": "" if norm is None else str(norm["verified"]),
                "flag": flag,
            })
    return pd.DataFrame(rows)


def sparse_categories(table: pd.DataFrame) -> dict[str, str]:
    """Whole-area sparse flags per category (``{category: flag text}``, only flagged ones)."""
    if table is None or len(table) == 0:
        return {}
    whole = table[table["unit_level"] == "全域 whole area"]
    return {c: f for c, f in zip(whole["category"], whole["flag"]) if f}
