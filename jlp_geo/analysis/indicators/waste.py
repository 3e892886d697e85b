"""建筑垃圾 indicators: resource-recovery and comprehensive-use rates, landfill life.

Read from the construction-waste analysis (:mod:`jlp_geo.analysis.waste`, or any
object with a ``.balance`` table); what it does not give is a "not computed" row with
the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .definitions import LEVEL_FACILITY, LEVEL_WHOLE, WHOLE_AREA, IndicatorDef
from .table import IndicatorRows, date_of

__all__ = ["plan_recovery_from_balance", "waste_rows"]


def _as_percent(v: float) -> float:
    v = float(v)
    return v * 100.0 if 0 <= v <= 1.0 else v


def _is_text(column: pd.Series) -> bool:
    """A text column under every pandas string storage (object on pandas 2, ``str`` on pandas >= 3)."""
    return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)


def _waste_rate(waste: Any, keys: Sequence[str]) -> float | None:
    rates = getattr(waste, "rates", None)
    if isinstance(rates, Mapping):
        for k, v in rates.items():
            if any(key in str(k) for key in keys) and v is not None:
                try:
                    return _as_percent(v)
                except (TypeError, ValueError):
                    continue
    targets = getattr(waste, "targets", None)
    if isinstance(targets, pd.DataFrame) and len(targets):
        text_cols = [c for c in targets.columns if _is_text(targets[c])]
        num_cols = [c for c in ("achieved", "value_pct", "computed", "forecast", "value", "rate") if c in targets.columns]
        for _, row in targets.iterrows():
            if any(any(key in str(row[c]) for key in keys) for c in text_cols):
                for c in num_cols:
                    try:
                        v = float(row[c])
                    except (TypeError, ValueError):
                        continue
                    if math.isfinite(v):
                        return _as_percent(v)
    return None


def plan_recovery_from_balance(balance: pd.DataFrame) -> tuple[float, str] | None:
    """资源化利用率 implied by the plan's own figures: (total − plan landfill) ÷ total × 100.

    Uses the balance rows ``tgt_solid_total`` (工程+拆除+装修垃圾总量, 第七条) and
    ``tgt_landfill_solid`` (its ``plan_value``: 第八条（三）填埋场处理量 20.27).

    Returns
    -------
    tuple or None
        ``(percent, formula)``, or None when the balance lacks those rows.
    """
    if "check_id" not in balance.columns or "plan_value" not in balance.columns:
        return None
    b = balance.set_index("check_id")
    if "tgt_solid_total" not in b.index or "tgt_landfill_solid" not in b.index:
        return None
    total, landfill = float(b.loc["tgt_solid_total", "value"]), float(b.loc["tgt_landfill_solid", "plan_value"])
    if not (math.isfinite(total) and math.isfinite(landfill)) or total <= 0:
        return None
    return 100.0 * (total - landfill) / total, f"({total:g} − {landfill:g}) ÷ {total:g} × 100"


def _landfill_life(waste: Any) -> pd.DataFrame | float | None:
    life = getattr(waste, "landfill_life", None)
    if isinstance(life, (int, float)) and not isinstance(life, bool):
        return float(life)
    if isinstance(life, Mapping):
        return pd.DataFrame({"name_zh": [str(k) for k in life], "life_years": [float(v) for v in life.values()]})
    if isinstance(life, pd.Series):
        return pd.DataFrame({"name_zh": [str(k) for k in life.index], "life_years": life.astype(float).to_numpy()})
    frame = life if isinstance(life, pd.DataFrame) else getattr(waste, "balance", None)
    if not isinstance(frame, pd.DataFrame) or not len(frame):
        return None
    if "scenario" in frame.columns and (frame["scenario"] == "plan").any():
        frame = frame[frame["scenario"] == "plan"]  # jlp_geo.analysis.waste: the plan's own assumption (第八条（四）)
    value_col = next((c for c in frame.columns if re.search(r"life|years|年限|寿命", str(c), re.IGNORECASE) and pd.api.types.is_numeric_dtype(frame[c])), None)
    if value_col is None:
        return None
    label_col = next((c for c in frame.columns if _is_text(frame[c])), None)
    labels = frame[label_col].astype(str) if label_col is not None else frame.index.astype(str)
    if labels.duplicated().any() and "fill_wm3" in frame.columns:  # 岩洞湾 312 vs 326 万m³: say which row is which
        labels = labels.where(~labels.duplicated(keep=False), labels + "（" + frame["fill_wm3"].map("{:g}".format) + " 万立方米）")
    out = pd.DataFrame({"name_zh": list(labels), "life_years": frame[value_col].astype(float).to_numpy()})
    return out[out["life_years"].notna()].reset_index(drop=True)


def waste_rows(rows: IndicatorRows, defs: Mapping[str, IndicatorDef], waste: Any, extra: dict[str, pd.DataFrame],
               gaps: list[str], notes: list[str]) -> None:
    """Rows of the construction-waste indicators (70% / 73% rates, landfill life).

    Parameters
    ----------
    rows
        The row collector to add to.
    defs
        All indicator definitions (only the waste ones present are written).
    waste
        The construction-waste analysis (see
        :func:`~jlp_geo.analysis.indicators.analyse_indicators`), or None.
    extra
        Supporting tables; ``waste_balance`` and (per landfill) ``waste_landfill_life``
        are added.
    gaps, notes
        Data gaps and notes; appended to.
    """
    ids = [i for i in ("waste_resource_recovery", "waste_comprehensive_use", "waste_landfill_life") if i in defs]
    balance = getattr(waste, "balance", None) if waste is not None else None
    if waste is None or not isinstance(balance, pd.DataFrame):
        reason = ("未计算：未提供建筑垃圾分析结果（jlp_geo.waste） not computed: no construction-waste analysis result given"
                  if waste is None else "未计算：建筑垃圾分析结果没有 balance 表 not computed: the waste result has no .balance table")
        for i in ids:
            m, mz = ("life", "填埋场使用年限") if i == "waste_landfill_life" else ("plan_scope", "九龙坡区直管范围 directly administered area")
            rows.add(i, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=reason)
        gaps.append("建筑垃圾收支平衡、填埋场年限与70%/73%目标未计算：无建筑垃圾分析结果 (construction-waste balance, landfill life and rates: no waste analysis given)")
        return
    source = str(getattr(waste, "source", "") or "jlp_geo.waste — 建筑垃圾规划 forecasts and facilities (layers/waste_plan_*.csv)")
    date = date_of(source) if date_of(source) != "unknown" else ""
    extra["waste_balance"] = balance.copy()
    notes.extend(str(n) for n in getattr(waste, "notes", []) or [])
    for ind, keys in (("waste_resource_recovery", ("resource", "资源化")), ("waste_comprehensive_use", ("comprehensive", "综合"))):
        if ind not in defs:
            continue
        v = _waste_rate(waste, keys)
        implied = plan_recovery_from_balance(balance) if ind == "waste_resource_recovery" and v is None else None
        if implied is not None:
            pct, formula = implied
            rows.add(ind, "plan_arithmetic", "规划自身测算：第八条（三）填埋量反推 the plan's own arithmetic", LEVEL_WHOLE, WHOLE_AREA, pct,
                     status="plan_arithmetic", source=source, date=date,
                     note=(f"{formula} = {pct:.2f}%：第八条（三）填埋场处理量 20.27 万吨/年正是70%目标的余量（30% × 67.57）；"
                           "这是规划的设计值，不是现状测量 — the plan's landfill figure is exactly the 30 % remainder: "
                           "a design value, not a measurement"))
        elif v is None:
            rows.add(ind, "plan_scope", "九龙坡区直管范围 directly administered area", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：建筑垃圾分析未给出该比率 not computed: the waste analysis gives no value for this rate", source=source, date=date)
            gaps.append(f"{defs[ind].name_zh}：建筑垃圾分析未给出现状/预测值 (no value in the waste analysis)")
        else:
            rates = getattr(waste, "rates", None)
            label = next((str(k) for k in (rates if isinstance(rates, Mapping) else {}) if any(key in str(k) for key in keys)), "")
            if "第八条" in label:  # a rate from the plan's own figures (jlp_geo.analysis.waste), not a measurement
                rows.add(ind, "plan_scope", "九龙坡区直管范围 directly administered area", LEVEL_WHOLE, WHOLE_AREA, v, source=source, date=date,
                         status="plan_arithmetic", note=f"{label}：规划自身数字推算，非现状测量 (the plan's own figures, not a measurement)")
            else:
                rows.add(ind, "plan_scope", "九龙坡区直管范围 directly administered area", LEVEL_WHOLE, WHOLE_AREA, v, source=source, date=date)
    if "waste_landfill_life" in defs:
        life = _landfill_life(waste)
        if life is None:
            rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                     note="未计算：建筑垃圾分析未给出填埋场年限 not computed: no landfill life in the waste analysis", source=source, date=date)
            gaps.append("填埋场使用年限：建筑垃圾分析未给出 (landfill life not in the waste analysis)")
        elif isinstance(life, float):
            rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_WHOLE, WHOLE_AREA, life, source=source, date=date)
        else:
            extra["waste_landfill_life"] = life
            for name, years in zip(life["name_zh"], life["life_years"]):
                rows.add("waste_landfill_life", "life", "填埋场使用年限", LEVEL_FACILITY, str(name), float(years), source=source, date=date)
