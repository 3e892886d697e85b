"""Indicator definitions and the vocabulary of the indicator table.

What each plan indicator is -- its names, target (comparison, value, year, the plan's
own words and clause), parameters, method and caveats -- is data, in
``layers/indicators.yml``; :func:`load_indicator_definitions` reads and validates it
into :class:`IndicatorDef` / :class:`Target`.  This module also holds the words the
table is written in: the unit levels, the status texts, the column order
(:data:`INDICATOR_COLUMNS`) and the Chinese headers (:data:`HEADERS_ZH`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ...errors import InputDataError, MissingInputError
from ...settings import get_settings

__all__ = [
    "HEADERS_ZH",
    "INDICATOR_COLUMNS",
    "LEVEL_CLUSTER",
    "LEVEL_FACILITY",
    "LEVEL_TOWNSHIP",
    "LEVEL_WHOLE",
    "NO_VERDICT",
    "STATUS",
    "WHOLE_AREA",
    "IndicatorDef",
    "Target",
    "load_indicator_definitions",
]

LEVEL_WHOLE = "全域 whole area"
LEVEL_CLUSTER = "组团 cluster"
LEVEL_TOWNSHIP = "镇街 township"
LEVEL_FACILITY = "设施 facility"
WHOLE_AREA = "全域 whole area"

STATUS = {
    "computed": "已计算 computed",
    "no_facility": "已计算：路网上无此类设施 computed: no such facility on the walk network",
    "no_nodes": "未计算：单元内无路网节点 not computed: no walk-network node in the unit",
    "lower_bound": "下限：站间弦长 lower bound from station chords",
    "not_computed": "未计算 not computed",
    "partial": "部分数据，不判定达标 partial data: not judged against the target",
    "definition_differs": "口径与规划不同，不判定达标 definition differs from the plan's: not judged",
    "plan_arithmetic": "规划自身测算（非现状） the plan's own arithmetic, not a measurement",
    "not_computable": "无法计算 not computable from the data",
}

#: Statuses whose value is never judged "met / not met" against the target: a whole-district
#: value from partial data, another definition, or the plan's own arithmetic.
NO_VERDICT: frozenset[str] = frozenset({"lower_bound", "partial", "definition_differs", "plan_arithmetic"})

#: Columns of the indicator table, in order.
INDICATOR_COLUMNS: tuple[str, ...] = (
    "indicator",
    "indicator_zh",
    "indicator_en",
    "measure",
    "measure_zh",
    "unit_level",
    "unit",
    "value",
    "value_unit",
    "target",
    "target_text",
    "gap",
    "meets",
    "rank",
    "status",
    "note",
    "covered",
    "population",
    "population_basis",
    "data_source",
    "data_date",
    "method",
    "target_clause",
    "caveats",
)

#: Chinese (and English) headers for CSV / Excel.
HEADERS_ZH: dict[str, str] = {
    "indicator": "指标代码 indicator",
    "indicator_zh": "指标",
    "indicator_en": "indicator (English)",
    "measure": "口径代码 measure",
    "measure_zh": "口径",
    "unit_level": "统计单元层级",
    "unit": "统计单元",
    "value": "现状值 value",
    "value_unit": "单位 unit",
    "target": "目标值 target",
    "target_text": "规划目标 target (plan)",
    "gap": "差距 gap (value − target)",
    "meets": "是否达标 meets target",
    "rank": "排名 rank",
    "status": "计算状态 status",
    "note": "说明 note",
    "covered": "覆盖人口(或节点) covered",
    "population": "人口(或节点)合计 population",
    "population_basis": "人口口径 population basis",
    "data_source": "数据来源 data source",
    "data_date": "数据日期 data date",
    "method": "计算方法 method",
    "target_clause": "目标出处 target clause",
    "caveats": "注意事项 caveats",
    # extra tables
    "category": "服务类别 category",
    "name_zh": "名称",
    "level_min": "生活圈层级(分钟)",
    "h3_cell": "H3网格 cell",
    "township": "所在镇街",
    "lon": "经度 lon (CGCS2000)",
    "lat": "纬度 lat (CGCS2000)",
    "share_basic_all": "全部基本服务覆盖率 % (5/10/15分钟)",
    "missing_zh": "缺少的基本服务 (覆盖率<50%)",
    "deficit": "基本服务缺口人次 person-category gaps",
    "line": "线路 line",
    "route": "类型 route",
    "n_relations": "线路关系数 relations",
    "km": "区内长度(公里) km inside",
    "km_directions": "各方向长度(公里)",
    "ways_missing": "缺失成员轨道 member ways not in the data",
    "mean_basic_share": "基本服务平均覆盖率 %",
}

_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
_OP_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@dataclass(frozen=True)
class Target:
    """A plan target: comparison, value, year and where the plan says it."""

    op: str
    value: float
    year: int | None
    text_zh: str
    text_en: str
    document: str
    clause: str
    quote: str
    applies_to: tuple[str, ...] | None = None

    @property
    def symbol(self) -> str:
        """The comparison as printed in the target text (``≥`` for ``>=``)."""
        return _OP_TEXT[self.op]

    def applies(self, measure: str) -> bool:
        """True if the target is for *measure* (all measures when ``applies_to`` is unset)."""
        return self.applies_to is None or measure in self.applies_to

    def meets(self, value: float, lower_bound: bool = False) -> bool | None:
        """Whether *value* meets the target; None if unknown (NaN, or a lower bound that falls short)."""
        if value is None or not math.isfinite(value):
            return None
        ok = bool(_OPS[self.op](value, self.value))
        if lower_bound and not ok and self.op in (">", ">="):
            return None  # the true value is higher than a lower bound: cannot tell
        if lower_bound and ok and self.op in ("<", "<="):
            return None
        return ok


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator of ``layers/indicators.yml``."""

    id: str
    name_zh: str
    name_en: str
    value_unit: str
    target: Target | None
    no_target_zh: str
    no_target_en: str
    parameters: dict[str, Any]
    method_zh: str
    method_en: str
    caveats: tuple[str, ...]

    def target_for(self, measure: str) -> Target | None:
        """The target that applies to *measure*, if any."""
        return self.target if self.target is not None and self.target.applies(measure) else None


def load_indicator_definitions(path: str | Path | None = None) -> dict[str, IndicatorDef]:
    """Load and validate the indicator definitions.

    Parameters
    ----------
    path
        YAML file; default ``<layers_dir>/indicators.yml``.

    Returns
    -------
    dict
        Indicator id -> :class:`IndicatorDef`, in file order.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        Naming the indicator and field of the first bad entry.
    """
    p = Path(path) if path is not None else get_settings().layers_dir / "indicators.yml"
    if not p.is_file():
        raise MissingInputError("indicator definitions not found", where=str(p), fix="restore layers/indicators.yml")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputDataError(f"not valid YAML: {exc}", where=str(p), fix="check the indentation and quoting") from exc
    items = data.get("indicators") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InputDataError("no 'indicators:' list", where=str(p), fix="see the header of layers/indicators.yml")
    out: dict[str, IndicatorDef] = {}
    for i, item in enumerate(items, 1):
        ident = item.get("id") if isinstance(item, dict) else None
        where = f"{p}, indicator {ident or f'#{i}'}"

        def need(d: Any, key: str, w: str = where) -> Any:
            if not isinstance(d, dict) or d.get(key) in (None, ""):
                raise InputDataError(f"missing field '{key}'", where=w, fix=f"add '{key}:'")
            return d[key]

        ident = str(need(item, "id"))
        if ident in out:
            raise InputDataError("duplicate indicator id", where=where, fix="make ids unique")
        target = None
        if item.get("target") is not None:
            t = item["target"]
            tw = f"{where}, target"
            op = str(need(t, "op", tw))
            if op not in _OPS:
                raise InputDataError(f"op {op!r} is not one of {list(_OPS)}", where=tw, fix="use > >= < or <=")
            try:
                value = float(need(t, "value", tw))
            except (TypeError, ValueError):
                raise InputDataError(f"target value {t.get('value')!r} is not a number", where=tw) from None
            applies = t.get("applies_to")
            target = Target(
                op=op,
                value=value,
                year=int(t["year"]) if t.get("year") is not None else None,
                text_zh=str(need(t, "text_zh", tw)),
                text_en=str(t.get("text_en", "")),
                document=str(need(t, "document", tw)),
                clause=str(need(t, "clause", tw)),
                quote=str(need(t, "quote", tw)),
                applies_to=tuple(str(a) for a in applies) if applies else None,
            )
        elif not item.get("no_target_zh"):
            raise InputDataError("neither 'target' nor 'no_target_zh'", where=where, fix="say what the plan sets, or that it sets nothing")
        caveats = item.get("caveats", []) or []
        if not isinstance(caveats, list) or not all(isinstance(c, str) for c in caveats):
            raise InputDataError("caveats must be a list of texts", where=where,
                                 fix='quote each caveat ("...") — a ": " inside an unquoted YAML text makes it a mapping')
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise InputDataError("'parameters' must be a mapping", where=where)
        for tier in params.get("tiers", []) or []:
            tw = f"{where}, parameters.tiers {tier.get('id', '?') if isinstance(tier, dict) else tier!r}"
            for key in ("id", "categories", "min_area_m2", "radius_m"):
                need(tier, key, tw)
            if not isinstance(tier["categories"], list) or not tier["categories"]:
                raise InputDataError("categories must be a non-empty list of service-category ids", where=tw)
            for key in ("min_area_m2", "radius_m"):
                if not isinstance(tier[key], (int, float)) or tier[key] <= 0:
                    raise InputDataError(f"{key} must be a positive number", where=tw, fix="e.g. 1000 / 300")
        out[ident] = IndicatorDef(
            id=ident,
            name_zh=str(need(item, "name_zh")),
            name_en=str(need(item, "name_en")),
            value_unit=str(need(item, "value_unit")),
            target=target,
            no_target_zh=str(item.get("no_target_zh", "")),
            no_target_en=str(item.get("no_target_en", "")),
            parameters=params,
            method_zh=str(need(item, "method_zh")).strip(),
            method_en=str(item.get("method_en", "")).strip(),
            caveats=tuple(caveats),
        )
    return out
