"""Services from the data planners hold: official facility lists and Amap / Baidu POI exports.

:func:`services_from_facilities` and :func:`services_from_pois` turn what
:mod:`jlp_geo.sources.facilities` and :mod:`jlp_geo.sources.pois` read into
service rows of the same shape as :func:`jlp_geo.layers.services.services_from_osm`
(plus ``source_kind``, ``source_ref``, capacity, status and year), ready for
:func:`jlp_geo.layers.merge.merge_services`.

POI types go to service categories through the table ``layers/poi_categories.csv``
(data, not code; :func:`load_poi_categories`):

``provider``  ``amap`` or ``baidu``;
``match``     ``typecode`` (the Amap 6-digit code, exact), ``type`` (the key is
              found inside the type text, e.g. ``学校;幼儿园`` in
              ``科教文化服务;学校;幼儿园``; used only when no typecode row decided) or
              ``name`` (any POI whose name matches ``name_regex``, whatever its type);
``name_regex`` optional: the row applies only when the POI's name matches;
``category``  one or more category ids joined by ``|``, or ``none`` (a known type that
              is not a life-circle service);
``verified``  ``seen`` (the code or type text seen in recorded Amap responses with a matching type or name),
              ``table`` (from Amap's / Baidu's classification, not rechecked here),
              ``none`` (a name rule).

For ``typecode`` and ``type`` the **first** matching row of the table decides; every
matching ``name`` row adds its category.  POIs no row matches are reported with
counts by (typecode, type) -- never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import require_projected, to_analysis
from ..errors import InputDataError
from ..settings import get_settings
from .categories import Category, load_categories
from .common import read_plan_table
from .services import SERVICE_COLUMNS

__all__ = [
    "EXTERNAL_SERVICE_COLUMNS",
    "PoiRule",
    "classify_pois",
    "load_poi_categories",
    "services_from_facilities",
    "services_from_pois",
]

#: the services columns plus where a facility-list or POI row came from and what it holds
EXTERNAL_SERVICE_COLUMNS = (
    *SERVICE_COLUMNS,
    "source_kind",
    "source_ref",
    "capacity",
    "capacity_unit",
    "status",
    "year",
)
POI_TABLE = "poi_categories.csv"
#: facility-list statuses that are not (yet) a service people can use
NOT_YET = ("planned", "under_construction")
_MATCHES = ("typecode", "type", "name")


@dataclass(frozen=True)
class PoiRule:
    """One row of ``layers/poi_categories.csv`` (see the module docstring)."""

    provider: str
    match: str
    key: str
    name_regex: re.Pattern[str] | None
    categories: tuple[str, ...]
    verified: str
    line: int

    def applies(self, name: str) -> bool:
        """True when the row has no name rule or *name* matches it."""
        return self.name_regex is None or bool(self.name_regex.search(name))


def load_poi_categories(categories: Sequence[Category] | None = None) -> list[PoiRule]:
    """Load and check ``layers/poi_categories.csv``.

    Raises
    ------
    InputDataError
        Naming the line, for an unknown provider / match / category or a bad regex.
    """
    cats = {c.id for c in (categories or load_categories())}
    df = read_plan_table(POI_TABLE, ("provider", "match", "key", "name_regex", "category", "verified"))
    where = str(Path(get_settings().layers_dir) / POI_TABLE)
    rules = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        if row.provider not in ("amap", "baidu") or row.match not in _MATCHES:
            raise InputDataError(f"line {i}: provider {row.provider!r} / match {row.match!r} not known", where=where,
                                 fix="provider amap|baidu, match typecode|type|name")
        ids = tuple(c.strip() for c in row.category.split("|") if c.strip())
        unknown = [c for c in ids if c != "none" and c not in cats]
        if not ids or unknown:
            raise InputDataError(f"line {i}: category {row.category!r} is not in service_categories.csv", where=where,
                                 fix="use category ids of layers/service_categories.csv, or none")
        try:
            regex = re.compile(row.name_regex) if row.name_regex.strip() else None
        except re.error as exc:
            raise InputDataError(f"line {i}: bad name_regex {row.name_regex!r} ({exc})", where=where) from None
        if row.match == "name" and regex is None:
            raise InputDataError(f"line {i}: a name row needs a name_regex", where=where)
        rules.append(PoiRule(row.provider, row.match, row.key.strip(), regex, ids, row.verified, i))
    return rules


def _codes(typecode: str) -> list[str]:
    out = []
    for code in re.split(r"[|;,\s]+", typecode or ""):
        code = code.strip()
        if code.isdigit():
            out.append(code.zfill(6))  # Excel drops the leading 0 of 090100
    return out


def classify_pois(pois: pd.DataFrame, rules: Sequence[PoiRule], provider: str) -> tuple[list[tuple[str, ...]], pd.DataFrame]:
    """Categories of each POI, and the table of unmatched types.

    Returns
    -------
    categories : list of tuple of str
        Per POI the category ids (``()`` for none; ``none`` rows are dropped).
    unknown : DataFrame
        ``provider``, ``typecode``, ``type``, ``count``, ``example`` for the POIs no row
        matched, most frequent first.
    """
    by_code: dict[str, list[PoiRule]] = {}
    type_rules, name_rules = [], []
    for r in rules:
        if r.provider != provider:
            continue
        if r.match == "typecode":
            by_code.setdefault(r.key, []).append(r)
        elif r.match == "type":
            type_rules.append(r)
        else:
            name_rules.append(r)
    out: list[tuple[str, ...]] = []
    unmatched: list[tuple[str, str, str]] = []
    for name, typ, code in zip(pois["name"].astype(str), pois["type"].astype(str), pois["typecode"].astype(str)):
        decided: tuple[str, ...] | None = None
        for c in _codes(code):
            hit = next((r for r in by_code.get(c, []) if r.applies(name)), None)
            if hit is not None:
                decided = hit.categories
                break
        if decided is None and typ:
            hit = next((r for r in type_rules if any(r.key in t for t in typ.split("|")) and r.applies(name)), None)
            decided = hit.categories if hit is not None else None
        named = [c for r in name_rules if r.applies(name) for c in r.categories]
        if decided is None and not named:
            unmatched.append((code, typ, name))
        cats = [c for c in (decided or ()) + tuple(named) if c != "none"]
        out.append(tuple(dict.fromkeys(cats)))
    if unmatched:
        u = pd.DataFrame(unmatched, columns=["typecode", "type", "example"])
        unknown = (u.groupby(["typecode", "type"], sort=False)
                   .agg(count=("example", "size"), example=("example", "first")).reset_index()
                   .sort_values("count", ascending=False, kind="stable").reset_index(drop=True))
    else:
        unknown = pd.DataFrame(columns=["typecode", "type", "count", "example"])
    unknown.insert(0, "provider", provider)
    return out, unknown


def _service_rows(points: gpd.GeoDataFrame, cats: list[tuple[str, ...]], categories: Sequence[Category], crs: object) -> gpd.GeoDataFrame:
    by_id = {c.id: c for c in categories}
    idx = [i for i, cs in enumerate(cats) for _ in cs]
    flat = [c for cs in cats for c in cs]
    rows = points.iloc[idx].reset_index(drop=True)
    rows["category"] = flat
    rows["category_zh"] = [by_id[c].name_zh for c in flat]
    out = to_analysis(rows, require_projected(crs or get_settings().analysis_crs, "external services"))
    for col in EXTERNAL_SERVICE_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan if col in ("area_m2", "uncertainty_m", "capacity") else ""
    out["osm_type"] = ""
    out["osm_id"] = -1
    out["included"] = True
    return out[[*EXTERNAL_SERVICE_COLUMNS, out.geometry.name]].reset_index(drop=True)


def services_from_pois(
    pois: gpd.GeoDataFrame,
    categories: Sequence[Category] | None = None,
    crs: object | None = None,
    rules: Sequence[PoiRule] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Service rows from a POI export (:func:`jlp_geo.sources.pois.read_pois`).

    Returns
    -------
    services : GeoDataFrame
        One row per (POI, category), in the metric *crs*, ``source_kind`` ``"poi"``,
        ``source`` ``"高德 Amap POI export <file>"`` (or Baidu), ``source_ref``
        ``"<file> row N, id X"``, precision ``surveyed`` (a POI is a point the
        provider surveyed, not a plan estimate).
    unknown : DataFrame
        Unmatched types with counts (see :func:`classify_pois`).
    """
    cats = list(categories or load_categories())
    provider = str(pois["poi_source"].iloc[0]) if len(pois) else "amap"
    cat_ids, unknown = classify_pois(pois, rules or load_poi_categories(cats), provider)
    label = {"amap": "高德 Amap", "baidu": "百度 Baidu"}[provider]
    pts = pois.assign(
        name_zh=pois["name"],
        source=[f"{label} POI export {f}" for f in pois["source_file"]],
        source_kind="poi",
        source_ref=[f"{f} row {r}" + (f", id {i}" if i else "") for f, r, i in zip(pois["source_file"], pois["source_row"], pois["poi_id"])],
        precision="surveyed",
        note=[f"{label} type {t} ({c})" if t or c else "" for t, c in zip(pois["type"], pois["typecode"])],
    )
    return _service_rows(pts, cat_ids, cats, crs), unknown


def services_from_facilities(
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Category] | None = None,
    crs: object | None = None,
) -> gpd.GeoDataFrame:
    """Service rows from a facility list (:func:`jlp_geo.sources.facilities.read_facilities`).

    Rows whose status is ``planned`` or ``under_construction`` are kept with
    ``included`` False (and a note): they are not counted as existing services.

    Raises
    ------
    InputDataError
        If a row's category is not an id (or Chinese name) of ``layers/service_categories.csv``.
    """
    cats = list(categories or load_categories())
    fname = facilities.attrs.get("source_file", "")
    ids = {c.id: c.id for c in cats} | {c.name_zh: c.id for c in cats}
    raw = facilities["category"].astype(str).str.strip()
    mapped = raw.map(ids)
    if mapped.isna().any():
        bad = sorted(set(raw[mapped.isna()]))[:10]
        raise InputDataError(
            f"unknown service categor{'y' if len(bad) == 1 else 'ies'} {bad}",
            where=f"--facilities {fname}",
            fix="use an id of layers/service_categories.csv (e.g. kindergarten, elderly_care) as FILE:category or in the category column",
        )
    future = facilities["status"].isin(NOT_YET).to_numpy()
    pts = facilities.assign(
        name_zh=facilities["name"],
        source=[f"facility list {f}" for f in facilities["source_file"]],
        source_kind="file",
        source_ref=[f"{f} row {r}" for f, r in zip(facilities["source_file"], facilities["source_row"])],
        precision="surveyed",
        note=np.where(future, "规划/在建，未计入现状覆盖 planned or under construction: not counted as existing", ""),
    )
    out = _service_rows(pts, [(c,) for c in mapped], cats, crs)
    out["included"] = ~future  # they join the plan scenario instead (jlp_geo.pipeline.services)
    return out
