"""What the 建筑垃圾规划 states: forecasts, processing figures, capacities, fill volumes and targets.

:func:`plan_figures` collects the figures the analysis uses, each with its clause, from
``layers/waste_plan_*.csv`` (through :mod:`jlp_geo.layers.waste`) and refuses a figure in a unit other
than the plan's; :func:`format_plan_number` writes a number the way the plan does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...config import Profile, load_profile
from ...errors import InputDataError
from ...layers.waste import clause_order_key, waste_figures_table, waste_forecast_table, waste_targets_table
from .parameters import TYPES

__all__ = ["PlanFigures", "format_plan_number", "plan_figures"]


@dataclass(frozen=True)
class PlanFigures:
    """The figures of the 建筑垃圾规划 the analysis uses, each with its clause.

    Attributes
    ----------
    generation
        ``{type: value}`` (第七条), in :data:`~jlp_geo.analysis.waste.TYPES` units.
    generation_clause
        ``{type: clause}``.
    processing
        ``{item_id: value}`` of 第八条 (``proc_sorting_gap`` 31.2, ``proc_recycling_gap`` 17.3,
        ``proc_landfill_solid`` 20.27, ``proc_spoil_slurry`` 173.54).
    processing_clause
        ``{item_id: clause}``.
    capacity
        ``{facility_id: 万吨/年}`` where the plan gives one value.
    capacity_clauses
        ``{facility_id: clauses}``.
    fill
        ``{facility_id: [(万立方米, clauses), ...]}``, one entry per distinct value.
    targets
        ``{indicator_en: percent}`` (附表1).
    target_clause
        Clause of the targets.
    names
        ``{facility_id: name_zh}``.
    document
        Short citation of the plan.
    """

    generation: dict[str, float]
    generation_clause: dict[str, str]
    processing: dict[str, float]
    processing_clause: dict[str, str]
    capacity: dict[str, float]
    capacity_clauses: dict[str, str]
    fill: dict[str, list[tuple[float, str]]]
    targets: dict[str, float]
    target_clause: str
    names: dict[str, str]
    document: str

    def fill_values(self, facility_id: str) -> list[float]:
        """Distinct fill volumes (万立方米) the plan gives for a landfill, in clause order."""
        return [v for v, _ in self.fill.get(facility_id, [])]


def plan_figures(profile: Profile | None = None) -> PlanFigures:
    """Collect the plan figures from ``layers/waste_plan_*.csv`` (through :mod:`jlp_geo.layers.waste`).

    Parameters
    ----------
    profile
        Study-area profile (default :func:`jlp_geo.config.load_profile`); gives the plan citation.

    Returns
    -------
    PlanFigures

    Raises
    ------
    InputDataError
        If a forecast is missing or not in the unit the plan gives (万立方米 must never become 万吨 silently).
    """
    profile = profile or load_profile()
    fc = waste_forecast_table(profile).set_index("item_id")
    where = "layers/waste_plan_forecast.csv"
    generation, gclause = {}, {}
    for key, t in TYPES.items():
        if t["item"] not in fc.index:
            raise InputDataError(f"forecast item {t['item']} is missing", where=where, fix="restore the file from the repository")
        row = fc.loc[t["item"]]
        if str(row["unit"]) != t["unit"]:
            raise InputDataError(
                f"{t['item']} is in {row['unit']!r}, but the plan gives {t['zh']} in {t['unit']}",
                where=where, fix="keep the plan's unit; conversions are made only with the stated density parameter",
            )
        generation[key] = float(row["value"])
        gclause[key] = str(row["clause"])
    processing = {i: float(fc.loc[i, "value"]) for i in fc.index if str(i).startswith("proc_")}
    pclause = {i: str(fc.loc[i, "clause"]) for i in processing}
    figs = waste_figures_table(profile)
    names = dict(zip(figs["facility_id"], figs["name_zh"]))
    capacity, cap_clauses, fill = {}, {}, {}
    for fid, f in figs.groupby("facility_id", sort=False):
        cap = f[f["quantity"] == "capacity"]
        if len(cap):
            units = set(cap["unit_std"])
            vals = {float(v) for v in cap["value"]}
            if units != {"万吨/年"} or len(vals) != 1:
                raise InputDataError(f"{fid}: capacity must be one value in 万吨/年, got {sorted(vals)} {sorted(units)}", where="layers/waste_plan_figures.csv")
            capacity[fid] = vals.pop()
            cap_clauses[fid] = "、".join(sorted(set(cap["clause"]), key=clause_order_key))
        fl = f[f["quantity"] == "fill_volume"]
        if len(fl):
            if set(fl["unit_std"]) != {"万立方米"}:
                raise InputDataError(f"{fid}: fill volume must be in 万立方米", where="layers/waste_plan_figures.csv")
            groups: dict[float, list[str]] = {}
            for v, c in sorted(zip(fl["value"], fl["clause"]), key=lambda t: clause_order_key(t[1])):
                groups.setdefault(float(v), []).append(c)
            fill[fid] = [(v, "、".join(cs)) for v, cs in groups.items()]
    tg = waste_targets_table(profile).set_index("indicator_en")
    targets = {k: float(tg.loc[k, "target_value"]) for k in tg.index if str(tg.loc[k, "target_unit"]) == "%"}
    return PlanFigures(
        generation=generation, generation_clause=gclause, processing=processing, processing_clause=pclause,
        capacity=capacity, capacity_clauses=cap_clauses, fill=fill, targets=targets,
        target_clause=str(tg["clause"].iloc[0]), names=names, document=profile.document("waste_plan"),
    )


def format_plan_number(v: float, digits: int = 4) -> str:
    """Number as the plan writes it: no trailing zeros (``173.54``, ``400``, ``2.3049``).

    Parameters
    ----------
    v
        The number (None or not finite gives ``—``).
    digits
        Decimals kept before the trailing zeros are dropped.

    Returns
    -------
    str
    """
    if v is None or not math.isfinite(v):
        return "—"
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
