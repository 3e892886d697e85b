"""The indicator table: rows collected per indicator × measure × unit, then filled in.

Row functions add raw values with :class:`IndicatorRows`; :meth:`IndicatorRows.frame`
adds what follows from the definitions -- target, target text and clause, gap, whether
the target is met, status text, method, caveats -- and ranks the 组团 / 镇街 of each
measure.  :class:`IndicatorResult` is what :func:`~jlp_geo.analysis.indicators.analyse_indicators`
returns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...config import Profile
from .definitions import INDICATOR_COLUMNS, LEVEL_CLUSTER, LEVEL_TOWNSHIP, LEVEL_WHOLE, NO_VERDICT, STATUS, IndicatorDef

__all__ = ["IndicatorResult", "IndicatorRows", "date_of"]

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[\d:]+Z)?")


def date_of(text: str) -> str:
    """The first ISO date (``YYYY-MM-DD``, optionally with a UTC time) in *text*.

    Parameters
    ----------
    text
        A provenance or source text.

    Returns
    -------
    str
        The date, or ``"unknown"``.
    """
    m = _DATE_RE.search(text or "")
    return m.group(0) if m else "unknown"


@dataclass
class IndicatorResult:
    """Everything the report shows.

    Attributes
    ----------
    table
        The indicator table (:data:`INDICATOR_COLUMNS`).
    definitions
        The indicator definitions used.
    extra
        Supporting tables: ``ranking``, ``worst_served``, ``walk_time``, ``services``,
        ``park_tiers``, ``rail_lines``, ``rail_chords``, ``waste_balance``,
        ``waste_landfill_life`` (present when computed).
    notes
        Provenance and method notes.
    gaps
        Every data gap, one sentence each (Chinese with English).
    provenance
        Data sources and basis (OSM, population, CRS, 镇街 boundaries, generated time).
    profile
        The study-area profile (document citations).
    """

    table: pd.DataFrame
    definitions: dict[str, IndicatorDef]
    extra: dict[str, pd.DataFrame]
    notes: list[str]
    gaps: list[str]
    provenance: dict[str, str]
    profile: Profile

    def summary(self) -> pd.DataFrame:
        """Whole-area rows only (one per indicator and measure)."""
        return self.table[self.table["unit_level"] == LEVEL_WHOLE].reset_index(drop=True)


class IndicatorRows:
    """Collects table rows; targets, gaps and texts are filled in by :meth:`frame`.

    Parameters
    ----------
    defs
        The indicator definitions (every row's indicator must be one of them).
    profile
        The study-area profile (document titles for the target clauses).
    """

    def __init__(self, defs: Mapping[str, IndicatorDef], profile: Profile) -> None:
        self.defs = defs
        self.profile = profile
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        indicator: str,
        measure: str,
        measure_zh: str,
        level: str,
        unit: str,
        value: float,
        *,
        status: str = "computed",
        note: str = "",
        covered: float = np.nan,
        population: float = np.nan,
        basis: str = "",
        source: str = "",
        date: str = "",
        unit_of_value: str | None = None,
    ) -> None:
        """Add one row: a value of *indicator*'s *measure* for one unit.

        Parameters
        ----------
        indicator
            Indicator id.
        measure, measure_zh
            Measure code and its Chinese text.
        level, unit
            Unit level (``LEVEL_*``) and unit name.
        value
            The value (NaN when not computed -- never a zero).
        status
            Key of :data:`~jlp_geo.analysis.indicators.definitions.STATUS`.
        note
            Why, when the status is not ``computed``; anything else to say.
        covered, population
            Covered and total population (or nodes, or m²) behind a share.
        basis
            What *population* counts.
        source, date
            Data source and date.
        unit_of_value
            Replaces the indicator's value unit for this row.
        """
        self.rows.append(
            {
                "indicator": indicator,
                "measure": measure,
                "measure_zh": measure_zh,
                "unit_level": level,
                "unit": unit,
                "value": float(value) if value is not None else np.nan,
                "status_key": status,
                "note": note,
                "covered": covered,
                "population": population,
                "population_basis": basis,
                "data_source": source,
                "data_date": date,
                "value_unit_override": unit_of_value,
            }
        )

    def frame(self) -> pd.DataFrame:
        """The rows as the indicator table.

        Returns
        -------
        DataFrame
            :data:`~jlp_geo.analysis.indicators.definitions.INDICATOR_COLUMNS`, with target,
            gap, whether the target is met, texts, and the rank of each 组团 / 镇街 among the
            units of its level for one measure (1 = highest value).
        """
        out = []
        for r in self.rows:
            d = self.defs[r["indicator"]]
            t = d.target_for(r["measure"])
            lower = r["status_key"] == "lower_bound"
            value = r["value"]
            meets = t.meets(value, lower_bound=lower) if t is not None else None
            if r["status_key"] in NO_VERDICT:
                meets = None  # partial data, another definition or the plan's arithmetic: never "是 / 否"
            if t is not None:
                doc = self.profile.document(t.document) if t.document in self.profile.documents else t.document
                clause = f"{doc} {t.clause}：“{t.quote}”"
                unit = d.value_unit if d.value_unit == "%" else f" {d.value_unit}"
                target_text = f"{t.symbol} {t.value:g}{unit}（{t.text_zh}）"
            else:
                clause = ""
                target_text = d.no_target_zh or "—"
            out.append(
                {
                    "indicator": d.id,
                    "indicator_zh": d.name_zh,
                    "indicator_en": d.name_en,
                    "measure": r["measure"],
                    "measure_zh": r["measure_zh"],
                    "unit_level": r["unit_level"],
                    "unit": r["unit"],
                    "value": value,
                    "value_unit": r["value_unit_override"] or d.value_unit,
                    "target": t.value if t is not None else np.nan,
                    "target_text": target_text,
                    "gap": value - t.value if t is not None and math.isfinite(value) else np.nan,
                    "meets": {True: "是 yes", False: "否 no", None: ""}[meets],
                    "rank": np.nan,
                    "status": STATUS[r["status_key"]],
                    "note": r["note"],
                    "covered": r["covered"],
                    "population": r["population"],
                    "population_basis": r["population_basis"],
                    "data_source": r["data_source"],
                    "data_date": r["data_date"],
                    "method": f"{d.method_zh} / {d.method_en}" if d.method_en else d.method_zh,
                    "target_clause": clause,
                    "caveats": "；".join(d.caveats),
                }
            )
        df = pd.DataFrame(out, columns=list(INDICATOR_COLUMNS))
        # rank units of one level for one measure (1 = highest value)
        mask = df["unit_level"].isin([LEVEL_CLUSTER, LEVEL_TOWNSHIP]) & df["value"].notna()
        if mask.any():
            ranks = (df.loc[mask, "value"].round(6)  # float noise must not split ties
                     .groupby([df.loc[mask, "indicator"], df.loc[mask, "measure"], df.loc[mask, "unit_level"]])
                     .rank(ascending=False, method="min"))
            df.loc[mask, "rank"] = ranks
        return df
