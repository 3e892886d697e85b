"""What the coverage map embeds for the plan scenario's before/after toggle.

:func:`scenario_data` turns :class:`~jlp_geo.analysis.scenario.ScenarioResult` into
the same compact form as the "before" hexes of :func:`jlp_geo.viz.coverage_hexes.hex_data`
(one colour-class character per category, shares as :func:`~jlp_geo.viz.coverage_hexes.share_tokens`,
in the hexes' order),
the whole-area shares after the plan per menu entry, and the planned facilities that
were added (points, escaped names, uncertainty).  The page switches between the two
with the ``#jlp-after`` checkbox.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.accessibility import RULES
from ..crs import to_display
from .coverage_data import share_codes
from .coverage_hexes import share_tokens
from .escape import escape_text
from .geometry import COORD_DECIMALS

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.accessibility import CoverageResult

__all__ = ["scenario_data"]


def scenario_data(result: CoverageResult, cats: list[dict[str, Any]], hexes: dict[str, Any], rule: str) -> dict[str, Any] | None:
    """The "after the plan" data of the map, or None when no planned facility was added.

    Parameters
    ----------
    result
        Coverage result with ``scenario`` (from ``--scenario plan``).
    cats
        Menu entries (:func:`jlp_geo.viz.coverage_data.coverage_categories`).
    hexes
        The before-hexes of :func:`jlp_geo.viz.coverage_hexes.hex_data` (order and population).
    rule
        ``"time"`` or ``"dist"``.

    Returns
    -------
    dict or None
        ``cls`` and ``s`` per hex (as in *hexes*), ``whole`` per menu entry (fraction or
        None), ``svc`` (``k`` menu index, ``xy`` flat lon/lat, ``nm`` escaped name with its
        uncertainty), ``n`` (facilities added) and ``label`` (escaped).
    """
    sc = getattr(result, "scenario", None)
    if sc is None or sc.by_hex_after is None or len(sc.used) == 0 or "h3_cell" not in result.by_hex.columns:
        return None
    after = sc.by_hex_after.reindex(result.by_hex["h3_cell"].astype(str))
    pop = np.asarray(hexes["pop"], dtype=float)
    codes = np.full((len(pop), len(cats)), "-", dtype="<U1")
    shares = np.full((len(pop), len(cats)), np.nan)
    for k, cat in enumerate(cats):
        if cat["ok"] and cat["column"] in after.columns:
            shares[:, k] = after[cat["column"]].to_numpy(float)
            codes[:, k] = share_codes(shares[:, k], pop)
    table = sc.table[(sc.table["unit_level"] == "全域 whole area") & (sc.table["rule"] == RULES[rule])].set_index("category")
    whole = []
    for cat in cats:
        v = float(table.loc[cat["id"], "share_after"]) if cat["id"] in table.index else float("nan")
        whole.append(round(v, 4) if math.isfinite(v) else None)
    index = {c["id"]: i for i, c in enumerate(cats)}
    used = sc.used[sc.used["category"].isin(list(index))]
    shown = to_display(used[["category", used.geometry.name]]) if len(used) else used
    unc = used["uncertainty_m"].to_numpy(float) if "uncertainty_m" in used.columns else np.full(len(used), np.nan)
    names = used["name_zh"].astype(str) if "name_zh" in used.columns else used["category"].astype(str)
    return {
        "cls": ["".join(row) for row in codes.tolist()],
        "s": share_tokens(codes, shares),
        "whole": whole,
        "svc": {
            "k": [index[c] for c in used["category"]],
            "xy": [float(v) for v in np.round(np.column_stack([shown.geometry.x, shown.geometry.y]), COORD_DECIMALS).ravel()] if len(used) else [],
            "nm": [escape_text(f"{n}（规划，示意位置 ±{u:g} m）" if math.isfinite(u) else f"{n}（规划）") for n, u in zip(names, unc)],
        },
        "n": len(used),
        "label": escape_text(f"规划后 after the plan（新增 {len(used)} 处规划设施 planned facilities added）"),
    }
