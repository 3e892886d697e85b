"""What the coverage map embeds: categories, hex colour classes, services, service areas, units.

Every function here turns part of a :class:`~jlp_geo.analysis.accessibility.CoverageResult`
into the compact, already-escaped data the page runtime
(:mod:`jlp_geo.viz.coverage_runtime`) draws:

* :func:`coverage_categories` -- the menu, 全部基本服务 (:data:`BASIC_ALL`) first;
* :func:`share_class` / :func:`share_codes` -- the colour class of a hex, computed
  here in Python (fixed bins :data:`SHARE_BREAKS`, colours :data:`SHARE_COLOURS`);
  the page only looks the colour up;
* :func:`service_data`, :func:`unit_data` -- service points and 镇街/组团
  outlines with their popups.

The H3 hexes are :func:`jlp_geo.viz.coverage_hexes.hex_data` (centres + one shared
hexagon, class codes, compact shares), the service areas
:func:`jlp_geo.viz.coverage_areas.isochrone_data` (thinned for display).

Coordinates are rounded to 5 decimals (:mod:`jlp_geo.viz.geometry`), every text
from the data goes through :func:`escape_text`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import to_analysis, to_display
from .escape import escape_text, is_missing
from .geometry import display_frame, encode_polygons, encode_rings

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.accessibility import CoverageResult

__all__ = [
    "BASIC_ALL",
    "BASIC_ALL_LABEL",
    "GAP_COLOUR",
    "GAP_OUTLINE",
    "NO_POPULATION_COLOUR",
    "SHARE_BREAKS",
    "SHARE_COLOURS",
    "analysis_crs_of",
    "coverage_categories",
    "default_category",
    "escape_all",
    "service_data",
    "share_class",
    "share_codes",
    "unit_data",
]

BASIC_ALL = "basic_all"
BASIC_ALL_LABEL = "全部基本服务 All basic services"
#: Upper-exclusive class breaks of the covered share (fractions): class i holds
#: ``SHARE_BREAKS[i-1] <= share < SHARE_BREAKS[i]``; the last class is ``>= 0.9`` (90–100 %).
SHARE_BREAKS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 0.9)
#: Sequential colours of the classes (ColorBrewer YlGnBu, 6 classes), low to high.
SHARE_COLOURS: tuple[str, ...] = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
#: Gap hexes (population > 0, share == 0): fill and outline.
GAP_COLOUR = "#fb6a4a"
GAP_OUTLINE = "#a50f15"
#: Hexes without population.
NO_POPULATION_COLOUR = "#9e9e9e"


# ---------------------------------------------------------------- numbers


def share_class(share: float, population: float) -> str:
    """Colour class of one hex for one category.

    Parameters
    ----------
    share
        Covered share of the hex's population, 0..1 (NaN where undefined).
    population
        Population (or node weight) of the hex.

    Returns
    -------
    str
        ``"n"`` no population (or undefined share), ``"g"`` gap (population
        > 0 and share == 0), otherwise the class index ``"0"`` ..
        ``"5"`` into :data:`SHARE_COLOURS` (binned by :data:`SHARE_BREAKS`).

    Examples
    --------
    >>> [share_class(s, 10) for s in (0.0, 0.05, 0.2, 0.899, 0.9, 1.0)]
    ['g', '0', '1', '4', '5', '5']
    >>> share_class(float("nan"), 0)
    'n'
    """
    if not (population > 0) or share is None or not math.isfinite(share):
        return "n"
    if share <= 0:
        return "g"
    return str(int(np.searchsorted(SHARE_BREAKS, share, side="right")))


def share_codes(shares: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Vectorised :func:`share_class` (same result, one character per hex).

    Parameters
    ----------
    shares
        Covered shares, 0..1 (NaN where undefined).
    population
        Population (or node weight) per hex.

    Returns
    -------
    numpy.ndarray
        One class code (``"n"``, ``"g"``, ``"0"`` .. ``"5"``) per hex.
    """
    idx = np.searchsorted(np.asarray(SHARE_BREAKS), np.nan_to_num(shares, nan=-1.0), side="right").astype(str)
    out = np.where(shares <= 0, "g", idx)
    return np.where((population > 0) & np.isfinite(shares), out, "n")


def _pct(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    return "—" if not math.isfinite(v) else f"{v * 100:.1f}%"


def escape_all(values: Iterable[object]) -> list[str]:
    """:func:`escape_text` of every value, in one pass over all of them (thousands of names and ids).

    The texts are joined by tabs, which :func:`escape_text` keeps and which it
    applies character by character, escaped once and split again; a text that
    itself holds a tab is escaped one by one instead.

    Examples
    --------
    >>> escape_all(["a<b", None, "8940190d923ffff", float("nan")])
    ['a&lt;b', '', '8940190d923ffff', '']
    """
    texts = ["" if is_missing(v) else str(v) for v in values]
    joined = "\t".join(texts)
    if joined.count("\t") != max(len(texts) - 1, 0):
        return [escape_text(t) for t in texts]
    return escape_text(joined).split("\t") if texts else []


# ---------------------------------------------------------------- categories


def coverage_categories(result: CoverageResult, rule: str) -> list[dict[str, Any]]:
    """Menu entries: basic_all first, then the analysis categories in table order.

    Parameters
    ----------
    result
        The coverage analysis.
    rule
        ``"time"`` or ``"dist"``: selects the ``share_{rule}_*`` columns.

    Returns
    -------
    list of dict
        Per entry (raw, not yet escaped): ``id``, ``label``, ``short``,
        ``threshold``, ``column``, ``members`` (category ids), ``n_services``,
        ``ok`` (the share column exists) and ``whole`` (whole-area share, NaN if none).
    """
    hexes = result.by_hex
    svc = result.services
    included = svc["included"].to_numpy(bool) if "included" in svc.columns else np.ones(len(svc), bool)
    counts = svc.loc[included, "category"].value_counts() if len(svc) else pd.Series(dtype=int)
    basic = [c for c in result.categories if c.basic]
    whole = result.whole_area.iloc[0] if len(result.whole_area) else pd.Series(dtype=float)
    unit = "分钟 min" if rule == "time" else "米 m"
    out = [
        {
            "id": BASIC_ALL,
            "label": BASIC_ALL_LABEL,
            "short": "全部基本服务",
            "threshold": "各基本类别均达标 every basic category within its threshold",
            "column": f"share_{rule}_{BASIC_ALL}",
            "members": [c.id for c in basic],
            "n_services": int(sum(int(counts.get(c.id, 0)) for c in basic)),
        }
    ]
    for c in result.categories:
        limit = c.level_min if rule == "time" else c.radius_m
        out.append(
            {
                "id": c.id,
                "label": f"{c.name_zh} {c.name_en}",
                "short": c.name_zh,
                "threshold": "无服务半径，仅报告距离 no radius: distances only"
                if limit is None
                else f"≤ {float(limit):g} {unit}",
                "column": f"share_{rule}_{c.id}",
                "members": [c.id],
                "n_services": int(counts.get(c.id, 0)),
            }
        )
    sparse = _sparse_flags(result)
    for entry in out:
        entry["ok"] = entry["column"] in hexes.columns
        entry["whole"] = float(whole[entry["column"]]) if entry["column"] in whole.index else float("nan")
        flags = [sparse[m] for m in entry["members"] if m in sparse]
        entry["sparse"] = "；".join(flags) if entry["id"] != BASIC_ALL else (
            "含数据疑似缺失的类别 includes categories with likely data gaps" if flags else "")
    return out


def _sparse_flags(result: CoverageResult) -> dict[str, str]:
    """Whole-area completeness flags per category (empty when no completeness table was computed)."""
    table = getattr(result, "completeness", None)
    if table is None or len(table) == 0:
        return {}
    whole = table[table["unit_level"] == "全域 whole area"]
    return {c: str(f) for c, f in zip(whole["category"], whole["flag"]) if f}


def default_category(cats: list[dict[str, Any]]) -> int:
    """Index of the category shown at start: one with data, never an all-red view caused by an unmapped category.

    全部基本服务 when every basic category has services and none is flagged sparse;
    else the first category with services and no sparse flag; else the first with
    services; else the first selectable one.
    """
    ok = [i for i, c in enumerate(cats) if c["ok"]]
    if not ok:
        return 0
    by_id = {c["id"]: c for c in cats}
    first = cats[0]
    if first["ok"] and first["id"] == BASIC_ALL and all(
        by_id[m]["n_services"] > 0 and not by_id[m].get("sparse") for m in first["members"] if m in by_id
    ):
        return 0
    for test in (lambda c: c["n_services"] > 0 and not c.get("sparse"), lambda c: c["n_services"] > 0):
        hit = next((i for i in ok if cats[i]["id"] != BASIC_ALL and test(cats[i])), None)
        if hit is not None:
            return hit
    return ok[0]


# ---------------------------------------------------------------- layers


def service_data(result: CoverageResult, cats: list[dict[str, Any]], analysis_crs: object) -> dict[str, Any]:
    """The included services of the menu's categories as parallel arrays.

    Parameters
    ----------
    result
        The coverage analysis (``services``).
    cats
        Menu entries from :func:`coverage_categories`.
    analysis_crs
        Metric CRS for the representative points (None: settings default).

    Returns
    -------
    dict
        ``k`` (menu index of the category), ``pt`` (all points as one encoded
        polyline, lat/lng rounded to 5 decimals), ``off`` (indices of the services
        off the walking network), ``nm`` (escaped name), ``src`` (per service its
        sources: ``[h, rest]`` for ``srcHead[h] + ": " + rest``, or a plain string)
        and ``srcHead`` (the escaped source texts before the last ``": "``, shared
        by many services: file, dataset and date).
    """
    svc = result.services
    index = {c["id"]: i for i, c in enumerate(cats)}
    empty: dict[str, Any] = {"k": [], "pt": "", "off": [], "nm": [], "src": [], "srcHead": []}
    if len(svc) == 0:
        return empty
    keep = np.array(svc["included"], dtype=bool) if "included" in svc.columns else np.ones(len(svc), bool)
    keep &= svc["category"].isin(list(index)).to_numpy() & ~(svc.geometry.isna() | svc.geometry.is_empty).to_numpy()
    svc = svc[keep]
    if len(svc) == 0:
        return empty
    metric = to_analysis(svc[["category", svc.geometry.name]], analysis_crs)
    points = metric.set_geometry(metric.geometry.representative_point())
    shown = to_display(points)
    names = []
    for col in ("name", "name_zh"):
        if col in svc.columns:
            names.append(svc[col])
    name = names[0] if names else pd.Series([""] * len(svc), index=svc.index)
    for alt in names[1:]:
        name = name.where(name.fillna("").astype(str).str.strip() != "", alt)
    off = svc["off_network"].fillna(False).to_numpy(bool) if "off_network" in svc.columns else np.zeros(len(svc), bool)
    heads: dict[str, int] = {}
    src = []
    for parts in _sources(svc).map(lambda t: [p for p in t.split(" | ") if p]):
        src.append([[heads.setdefault(h, len(heads)), r] if sep else h for h, sep, r in (p.rpartition(": ") for p in parts)])
    # then every text escaped at once: heads (as keys) and the rest of each part
    rests = escape_all(p[1] if isinstance(p, list) else p for parts in src for p in parts)
    at = 0
    for parts in src:
        for j, p in enumerate(parts):
            parts[j] = [p[0], rests[at]] if isinstance(p, list) else rests[at]
            at += 1
    return {
        "k": [index[c] for c in svc["category"]],
        "pt": encode_rings(np.column_stack([shown.geometry.x, shown.geometry.y]), np.array([len(shown)]))[0],
        "off": np.flatnonzero(off).tolist(),
        "nm": escape_all(name),
        "src": src,
        "srcHead": escape_all(heads),
    }


def _sources(svc: pd.DataFrame) -> pd.Series:
    """Every source of each service (``sources`` of merged services, else ``source``)."""
    if "sources" in svc.columns:
        return svc["sources"].fillna(svc.get("source", "")).astype(str)
    return svc["source"].fillna("").astype(str) if "source" in svc.columns else pd.Series([""] * len(svc), index=svc.index)


def _is_approximate(units: gpd.GeoDataFrame) -> bool:
    note = units["coverage_note"].astype(str) if "coverage_note" in units.columns else pd.Series([], dtype=str)
    rough = units["precision"].astype(str).ne("surveyed") if "precision" in units.columns else pd.Series([], dtype=bool)
    return bool(note.str.contains("示意").any() or rough.any())


def _unit_popup(row: Mapping[str, Any], cats: list[dict[str, Any]], rule: str, basis: str, approximate: bool) -> str:
    title = escape_text(row.get("name_zh"))
    sub = escape_text(row.get("name_en"))
    head = f'<div class="jlp-popup"><b>{title}</b>' + (f"<br><i>{sub}</i>" if sub and sub != title else "")
    if approximate:
        head += '<br><span class="jlp-legend-note">示意边界 approximate boundary</span>'
    pop = row.get("population")
    rows = [f'<tr><th>{escape_text(basis)}</th><td class="jlp-num" colspan="2">{_fmt_pop(pop)}</td></tr>']
    heads = [("time", "时间 time"), ("dist", "距离 dist")]
    rows.append(
        "<tr><th></th>"
        + "".join(f'<th class="jlp-col">{"<b>" + h + "</b>" if r == rule else h}</th>' for r, h in heads)
        + "</tr>"
    )
    for cat in cats:
        t = row.get(f"share_time_{cat['id']}")
        d = row.get(f"share_dist_{cat['id']}")
        rows.append(
            f"<tr><th>{escape_text(cat['short'])}</th>"
            f'<td class="jlp-num">{_pct(t)}</td><td class="jlp-num">{_pct(d)}</td></tr>'
        )
    note = escape_text(row.get("coverage_note"))
    tail = f'<div class="jlp-legend-note">{note}</div>' if note else ""
    return head + "<table>" + "".join(rows) + "</table>" + tail + "</div>"


def _fmt_pop(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def unit_data(
    units: gpd.GeoDataFrame | None,
    cats: list[dict[str, Any]],
    rule: str,
    basis: str,
    analysis_crs: object,
    simplify_m: float,
) -> tuple[list[dict[str, Any]] | None, bool]:
    """镇街/组团 outlines: ``[{"r": encoded polygons, "p": popup HTML, "t": tooltip}]`` and whether approximate.

    Parameters
    ----------
    units
        ``by_township`` or ``by_cluster`` of the result (None: no layer).
    cats
        Menu entries from :func:`coverage_categories` (popup rows).
    rule
        The map's rule (its column is bold in the popup).
    basis
        Name of the population basis (escaped here).
    analysis_crs
        Metric CRS to simplify in.
    simplify_m
        Douglas-Peucker tolerance in metres.

    Returns
    -------
    features : list of dict or None
        None when there is nothing to draw.
    approximate : bool
        Whether the boundaries are 示意 (``coverage_note`` or precision).
    """
    if units is None or len(units) == 0:
        return None, False
    approximate = _is_approximate(units)
    placed = units[~(units.geometry.isna() | units.geometry.is_empty)]
    if len(placed) == 0:
        return None, approximate
    shown = display_frame(placed, simplify_m, analysis_crs)
    features = [
        {"r": encode_polygons(geom), "p": _unit_popup(row, cats, rule, basis, approximate), "t": escape_text(row.get("name_zh"))}
        for (_, row), geom in zip(placed.iterrows(), shown.geometry)
    ]
    return features, approximate


def analysis_crs_of(result: CoverageResult) -> object:
    """The metric CRS of the analysis (its network, else projected services); None: settings default."""
    network = getattr(result, "network", None)
    crs = getattr(network, "crs", None)
    if crs is None and result.services is not None and result.services.crs is not None and result.services.crs.is_projected:
        crs = result.services.crs
    return crs  # None: settings default
