"""Service facilities (公共服务设施) by category, from OSM, for 15-minute coverage.

The categories -- what counts as a 小学, a 菜市场, a 口袋公园; the 5/10/15-minute
level and service radius; the clause each comes from; how sure we are; which OSM
tags identify it -- are data, in ``layers/service_categories.csv``, not code.

Category table columns
----------------------
``id``, ``name_zh``, ``name_en``
    Identifier and labels.
``level_min``
    Life-circle level: 5, 10 or 15 (minutes).
``radius_m``
    Service radius (metres of network distance); empty where no standard gives one
    (hospital, government: report distance only).
``rule_source``
    Clause the level/radius comes from (GB 50180-2018 App.B, MOHURD 完整居住社区建设指南,
    the plan's indicators, or "working value").
``verified``
    How sure the figure is: ``secondary`` (from secondary sources quoting the
    standard, not checked against the official text), ``memory`` (recalled, not
    checked), ``none`` (a working value with no standard behind it);
    ``official`` is reserved for figures checked against the published text --
    none are yet.  Keep the figures configurable.
``osm_rule``
    Machine-readable OSM tag rule (syntax below).
``geometry``
    ``point`` (one location per facility; an area-mapped facility is represented
    by a point inside it) or ``polygon`` (the area counts and is reached at its
    edge -- parks).
``min_area_m2``
    Minimum area for polygon categories (park_small 1000 m², park_large 10 000 m²).
``basic``
    ``yes`` for the categories of the "all basic services together" figure.  The
    choice is deliberately conservative -- the daily needs of children, the old
    and everyone, each tied to a GB 50180-2018 5/10-minute facility or the plan's
    own park indicator: kindergarten, primary_school, community_health,
    elderly_care, fresh_market (includes supermarkets), park_small, bus_stop.
    Secondary schools, hospitals, sports and culture are 15-minute, less frequent
    needs; convenience is covered by fresh_market.
``notes``
    Caveats.

Rule syntax (``osm_rule``)
--------------------------
``rule ; rule ; ...``     alternatives: the feature matches if *any* rule matches;
``clause & clause & ...`` a rule matches if *all* its clauses match.  Clauses:

============== ================================================================
``k=v1|v2``    tag *k* equals one of the values
``k!=v1|v2``   tag *k* is absent or none of the values
``k~regex``    tag *k* present and the (case-insensitive) Python regex is found in it
``k!~regex``   tag *k* absent or the regex is not found in it
``k``          tag *k* present with a value other than ``no``; ``k1|k2``: any of them
``!k``         tag *k* absent (or ``no``)
============== ================================================================

Regexes cannot contain ``;`` or ``&``.  Every rule needs at least one positive
clause (``=``, ``~`` or a present-key), so no rule can match everything.

Name rules (``name~小学``) only work where names are Chinese; elsewhere (e.g. the
Helsinki test extract) the name-independent fallbacks (``isced:level``) are used
where OSM has such a tag -- no rule pretends to recognise a school level from a
name in another language.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from ..crs import require_projected, to_analysis
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings
from ..sources.osm import OsmData

__all__ = [
    "CATEGORY_COLUMNS",
    "Category",
    "TagClause",
    "TagRule",
    "services_from_osm",
    "load_categories",
    "overpass_filters",
    "parse_tag_rules",
    "service_access_points",
    "service_summary",
]

CATEGORY_COLUMNS: tuple[str, ...] = (
    "id",
    "name_zh",
    "name_en",
    "level_min",
    "radius_m",
    "rule_source",
    "verified",
    "osm_rule",
    "geometry",
    "min_area_m2",
    "basic",
    "notes",
)
LEVELS: tuple[int, ...] = (5, 10, 15)
VERIFIED: tuple[str, ...] = ("official", "secondary", "memory", "none")
GEOMETRIES: tuple[str, ...] = ("point", "polygon")
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n", ""}


# ---------------------------------------------------------------------------
# tag rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TagClause:
    """One test on an element's tags (see the module docstring for the syntax).

    Attributes
    ----------
    keys
        Tag key(s); several only for ``present`` / ``absent``.
    op
        ``'present' | 'absent' | 'eq' | 'ne' | 'match' | 'nomatch'``.
    values
        Values for ``eq`` / ``ne``; the regex text for ``match`` / ``nomatch``.
    """

    keys: tuple[str, ...]
    op: str
    values: tuple[str, ...] = ()

    @property
    def positive(self) -> bool:
        """True if the clause requires a tag to be present."""
        return self.op in ("present", "eq", "match")

    def _regex(self) -> re.Pattern[str]:
        return _compiled(self.values[0])

    def test(self, tags: Mapping[str, str]) -> bool:
        """Evaluate the clause on a tag dict."""
        if self.op in ("present", "absent"):
            has = any(k in tags and tags[k] != "no" for k in self.keys)
            return has if self.op == "present" else not has
        value = tags.get(self.keys[0])
        if self.op == "eq":
            return value in self.values
        if self.op == "ne":
            return value not in self.values
        found = value is not None and self._regex().search(value) is not None
        return found if self.op == "match" else not found


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _REGEX_CACHE:
        _REGEX_CACHE[pattern] = re.compile(pattern, re.IGNORECASE)
    return _REGEX_CACHE[pattern]


@dataclass(frozen=True)
class TagRule:
    """Clauses that must all hold (``a & b & c``)."""

    clauses: tuple[TagClause, ...]

    @property
    def keys(self) -> frozenset[str]:
        """Keys of the positive clauses: an element lacking all of them cannot match."""
        return frozenset(k for c in self.clauses if c.positive for k in c.keys)

    def matches(self, tags: Mapping[str, str]) -> bool:
        """True if every clause holds."""
        return all(c.test(tags) for c in self.clauses)


_KEY = r"[A-Za-z0-9_:.\-]+"
_CLAUSE_RE = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>!=|=|!~|~)\s*(?P<val>.*)$")
_PRESENT_RE = re.compile(rf"^(?P<neg>!)?\s*(?P<keys>{_KEY}(?:\s*\|\s*{_KEY})*)$")


def _parse_clause(text: str) -> TagClause:
    text = text.strip()
    if not text:
        raise ValueError("empty clause (check for '& &', a trailing '&' or '; ;')")
    m = _CLAUSE_RE.match(text)
    if m:
        key, op, val = m.group("key"), m.group("op"), m.group("val").strip()
        if not val:
            raise ValueError(f"clause {text!r} has no value after {op!r}")
        if op in ("=", "!="):
            values = tuple(v.strip() for v in val.split("|"))
            if any(not v for v in values):
                raise ValueError(f"clause {text!r} has an empty alternative in {val!r}")
            return TagClause((key,), "eq" if op == "=" else "ne", values)
        try:
            re.compile(val)
        except re.error as exc:
            raise ValueError(f"clause {text!r}: invalid regular expression {val!r} ({exc})") from None
        return TagClause((key,), "match" if op == "~" else "nomatch", (val,))
    m = _PRESENT_RE.match(text)
    if m:
        keys = tuple(k.strip() for k in m.group("keys").split("|"))
        return TagClause(keys, "absent" if m.group("neg") else "present")
    raise ValueError(f"cannot read clause {text!r}: expected key=value, key!=value, key~regex, key!~regex, key or !key")


def parse_tag_rules(text: str) -> tuple[TagRule, ...]:
    """Parse an ``osm_rule`` cell into alternative rules.

    Parameters
    ----------
    text
        E.g. ``"amenity=school & name~小学 ; amenity=school & isced:level~\\b1\\b"``.

    Returns
    -------
    tuple of TagRule
        One per ``;``-separated alternative.

    Raises
    ------
    ValueError
        With the offending clause, if the text cannot be parsed or a rule has no
        positive clause.
    """
    if not text or not text.strip():
        raise ValueError("the rule is empty")
    rules = []
    for part in text.split(";"):
        clauses = tuple(_parse_clause(c) for c in part.split("&"))
        rule = TagRule(clauses)
        if not rule.keys:
            raise ValueError(f"rule {part.strip()!r} has no positive clause (it would match almost everything)")
        rules.append(rule)
    return tuple(rules)


# ---------------------------------------------------------------------------
# categories
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """One service category of the 15-minute life circle.

    Attributes mirror the columns of ``layers/service_categories.csv`` (see the
    module docstring); ``rules`` is the parsed ``osm_rule``; ``radius_m`` and
    ``min_area_m2`` are None where the table leaves them empty.
    """

    id: str
    name_zh: str
    name_en: str
    level_min: int
    radius_m: float | None
    rule_source: str
    verified: str
    osm_rule: str
    rules: tuple[TagRule, ...]
    geometry: str
    min_area_m2: float | None
    basic: bool
    notes: str = ""

    @property
    def keys(self) -> frozenset[str]:
        """Every key one of the rules requires (for fast pre-filtering)."""
        return frozenset().union(*(r.keys for r in self.rules))

    def matches(self, tags: Mapping[str, str]) -> bool:
        """True if any of the category's rules matches *tags*."""
        return any(r.matches(tags) for r in self.rules)


def _cell_error(path: Path, line: int, row_id: str, column: str, what: str, fix: str) -> InputDataError:
    ident = f" (id={row_id})" if row_id else ""
    return InputDataError(what, where=f"{path}, line {line}{ident}, column '{column}'", fix=fix)


def _parse_row(path: Path, line: int, row: Mapping[str, str]) -> Category:
    rid = (row.get("id") or "").strip()

    def err(column: str, what: str, fix: str) -> InputDataError:
        return _cell_error(path, line, rid, column, what, fix)

    if not re.fullmatch(r"[a-z][a-z0-9_]*", rid):
        raise err("id", f"category id {rid!r} is not a lower-case identifier", "use e.g. primary_school")
    for col in ("name_zh", "name_en", "rule_source"):
        if not (row.get(col) or "").strip():
            raise err(col, f"{col} is empty", f"fill in {col}")
    try:
        level = int(str(row["level_min"]).strip())
    except ValueError:
        level = -1
    if level not in LEVELS:
        raise err("level_min", f"level_min {row['level_min']!r} is not one of {LEVELS}", "use 5, 10 or 15")
    radius = _optional_number(row.get("radius_m", ""), err, "radius_m", "a distance in metres such as 500")
    verified = (row.get("verified") or "").strip()
    if verified not in VERIFIED:
        raise err("verified", f"verified {verified!r} is not one of {VERIFIED}", "say how sure the figure is")
    geometry = (row.get("geometry") or "").strip()
    if geometry not in GEOMETRIES:
        raise err("geometry", f"geometry {geometry!r} is not one of {GEOMETRIES}", "use point or polygon")
    min_area = _optional_number(row.get("min_area_m2", ""), err, "min_area_m2", "an area in m² such as 1000")
    if min_area is not None and geometry != "polygon":
        raise err("min_area_m2", "min_area_m2 is only meaningful for geometry=polygon", "clear it or use polygon")
    basic_text = (row.get("basic") or "").strip().lower()
    if basic_text not in _TRUE | _FALSE:
        raise err("basic", f"basic {row.get('basic')!r} is not yes/no", "write yes or no")
    rule_text = (row.get("osm_rule") or "").strip()
    try:
        rules = parse_tag_rules(rule_text)
    except ValueError as exc:
        raise err("osm_rule", str(exc), "see the rule syntax in jlp_geo.layers.services") from None
    return Category(
        id=rid,
        name_zh=row["name_zh"].strip(),
        name_en=row["name_en"].strip(),
        level_min=level,
        radius_m=radius,
        rule_source=row["rule_source"].strip(),
        verified=verified,
        osm_rule=rule_text,
        rules=rules,
        geometry=geometry,
        min_area_m2=min_area,
        basic=basic_text in _TRUE,
        notes=(row.get("notes") or "").strip(),
    )


def _optional_number(text: str | None, err: Any, column: str, example: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise err(column, f"{column} {text!r} is not a number", f"write {example}, or leave it empty") from None
    if not math.isfinite(value) or value <= 0:
        raise err(column, f"{column} {text!r} must be a positive number", f"write {example}, or leave it empty")
    return value


def load_categories(path: str | Path | None = None) -> list[Category]:
    """Load and validate the service-category table.

    Parameters
    ----------
    path
        CSV file (UTF-8, with or without BOM); default
        ``<layers_dir>/service_categories.csv``.

    Returns
    -------
    list of Category
        In table order.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        Naming the line, category id and column of the first bad cell, a missing
        column, or a duplicate id.
    """
    p = Path(path) if path is not None else get_settings().layers_dir / "service_categories.csv"
    if not p.is_file():
        raise MissingInputError(
            "service-category table not found", where=str(p), fix="restore layers/service_categories.csv"
        )
    with p.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CATEGORY_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputDataError(
                f"the category table lacks column(s) {missing}",
                where=f"{p}, line 1 (header)",
                fix=f"the header must contain {', '.join(CATEGORY_COLUMNS)}",
            )
        categories: list[Category] = []
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            cat = _parse_row(p, line, row)
            if cat.id in seen:
                raise _cell_error(
                    p, line, cat.id, "id", f"duplicate category id (first on line {seen[cat.id]})", "make ids unique"
                )
            seen[cat.id] = line
            categories.append(cat)
    if not categories:
        raise InputDataError("the category table has no rows", where=str(p), fix="add categories")
    return categories


def overpass_filters(categories: Sequence[Category] | None = None) -> list[str]:
    """Overpass element filters that fetch (a superset of) every feature the categories match.

    For each rule its first positive clause is sent: ``k=v1|v2`` ->
    ``["k"~"^(v1|v2)$"]`` (values of one key merged); a regex or present-key
    clause -> ``["k"]`` (Overpass regexes are POSIX, so Python regexes are not
    sent).  The full rules are applied locally by :func:`services_from_osm`.
    Add ``'way["highway"]'`` for the walk network.

    Parameters
    ----------
    categories
        Default :func:`load_categories`.

    Returns
    -------
    list of str
        One selector per key (values merged), for node, way and relation, in
        table order.
    """
    cats = load_categories() if categories is None else categories
    wanted: dict[str, set[str] | None] = {}  # key -> values, or None for "any value"
    for cat in cats:
        for rule in cat.rules:
            clause = next(c for c in rule.clauses if c.positive)
            if clause.op == "eq":
                key = clause.keys[0]
                if key not in wanted:
                    wanted[key] = set()
                if wanted[key] is not None:
                    wanted[key].update(clause.values)  # type: ignore[union-attr]
            else:
                for key in clause.keys:
                    wanted[key] = None
    out: list[str] = []
    for key, values in wanted.items():
        if values is None:
            sel = f'["{key}"]'
        else:
            alts = "|".join(re.escape(v) for v in sorted(values))
            sel = f'["{key}"~"^({alts})$"]'
        out.extend(f"{kind}{sel}" for kind in ("node", "way", "relation"))
    return out


# ---------------------------------------------------------------------------
# geometry from the canonical OSM tables
# ---------------------------------------------------------------------------


class _Geometries:
    """Build lon/lat geometries of OSM elements (cached), with a reason when impossible."""

    def __init__(self, osm: OsmData) -> None:
        self.node_ids = osm.nodes["id"].to_numpy()
        self.node_xy = osm.nodes[["lon", "lat"]].to_numpy(dtype=float)
        self.way_refs = dict(zip(osm.ways["id"].tolist(), osm.ways["refs"].tolist()))
        self._way_cache: dict[int, tuple[BaseGeometry | None, str]] = {}

    def _coords(self, refs: Sequence[int]) -> tuple[np.ndarray, int]:
        ids = np.asarray(refs, dtype=np.int64)
        pos = np.searchsorted(self.node_ids, ids)
        pos = np.clip(pos, 0, max(len(self.node_ids) - 1, 0))
        found = (self.node_ids[pos] == ids) if len(self.node_ids) else np.zeros(len(ids), bool)
        return self.node_xy[pos[found]], int((~found).sum())

    def node(self, xy: tuple[float, float]) -> tuple[BaseGeometry | None, str]:
        return Point(xy), ""

    def way(self, way_id: int) -> tuple[BaseGeometry | None, str]:
        """Polygon if closed and complete, else a line of the nodes present."""
        if way_id in self._way_cache:
            return self._way_cache[way_id]
        refs = self.way_refs.get(way_id)
        if refs is None:
            result: tuple[BaseGeometry | None, str] = (None, "way not in the data")
        else:
            xy, missing = self._coords(refs)
            closed = len(refs) >= 4 and refs[0] == refs[-1]
            if closed and missing == 0:
                poly = shapely.make_valid(Polygon(xy))
                poly = _polygonal(poly)
                result = (poly, "") if poly is not None else (LineString(xy), "area is degenerate")
            elif len(xy) >= 2:
                note = f"{missing} node(s) outside the data (way cut by the extract)" if missing else ""
                result = (LineString(xy), note)
            elif len(xy) == 1:
                result = (Point(xy[0]), f"{missing} node(s) outside the data")
            else:
                result = (None, "none of the way's nodes are in the data")
        self._way_cache[way_id] = result
        return result

    def relation(self, members: Sequence[tuple[str, int, str]], tags: Mapping[str, str]) -> tuple[BaseGeometry | None, str]:
        """Assemble a ``type=multipolygon`` relation (outer and inner rings)."""
        if tags.get("type") != "multipolygon":
            return None, f"relation type={tags.get('type', '?')}: no geometry assembled (only multipolygons)"
        lines = []
        for kind, ref, role in members:
            if kind != "way" or role not in ("outer", "inner", ""):
                continue
            geom, note = self.way(ref)
            if geom is None or note:
                return None, "multipolygon incomplete: a member way is missing or cut by the extract"
            if geom.geom_type == "MultiPolygon":
                return None, "multipolygon member way is self-intersecting"
            lines.append(geom.exterior if isinstance(geom, Polygon) else geom)
        if not lines:
            return None, "multipolygon has no member ways"
        noded = shapely.union_all([LineString(ln.coords) for ln in lines])
        area = _polygonal(shapely.build_area(noded))
        if area is None:
            return None, "multipolygon rings do not close"
        return area, ""


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """Keep only the polygonal part of a (possibly mixed) geometry; None if there is none."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
        if parts:
            return shapely.union_all(parts)
    return None


# ---------------------------------------------------------------------------
# services
# ---------------------------------------------------------------------------

_SERVICE_COLUMNS = (
    "category",
    "category_zh",
    "name",
    "name_zh",
    "name_en",
    "osm_type",
    "osm_id",
    "area_m2",
    "included",
    "note",
    "source",
    "precision",
    "uncertainty_m",
)


def _match_elements(osm: OsmData, categories: Sequence[Category]) -> list[tuple[str, int, Any, dict[str, str], Category]]:
    """Every (element, category) pair whose tags match; element payload per type."""
    index: dict[str, list[Category]] = {}
    for cat in categories:
        for key in cat.keys:
            index.setdefault(key, []).append(cat)
    hits: list[tuple[str, int, Any, dict[str, str], Category]] = []

    def scan(kind: str, ids: Sequence[int], payloads: Sequence[Any], tag_list: Sequence[dict[str, str]]) -> None:
        for eid, payload, tags in zip(ids, payloads, tag_list):
            if not tags:
                continue
            candidates = {c.id: c for k in tags if k in index for c in index[k]}
            for cat in categories:  # table order, deterministic
                if cat.id in candidates and cat.matches(tags):
                    hits.append((kind, int(eid), payload, tags, cat))

    n = osm.nodes
    scan("node", n["id"].tolist(), list(zip(n["lon"].tolist(), n["lat"].tolist())), n["tags"].tolist())
    scan("way", osm.ways["id"].tolist(), osm.ways["id"].tolist(), osm.ways["tags"].tolist())
    r = osm.relations
    scan("relation", r["id"].tolist(), r["members"].tolist(), r["tags"].tolist())
    return hits


def services_from_osm(
    osm: OsmData,
    categories: Sequence[Category] | None = None,
    crs: object | None = None,
    include_excluded: bool = False,
) -> gpd.GeoDataFrame:
    """Find the service facilities of every category in OSM data.

    One row per (OSM element, category) it matches -- an element can serve
    several categories (a supermarket is both fresh_market and convenience).
    An object mapped twice (a node inside an area with the same tags) gives two
    rows; nearest-service distances are unaffected, counts are upper bounds.

    Parameters
    ----------
    osm
        Canonical OSM data (any channel), ideally clipped to the study area.
    categories
        Default :func:`load_categories`.
    crs
        Metric analysis CRS; default ``get_settings().analysis_crs`` (EPSG:4544,
        right for Chongqing -- pass a local one elsewhere, e.g. EPSG:3067 for Helsinki).
    include_excluded
        Also return matched features that cannot be counted (``included`` False,
        ``note`` says why: below the minimum area, a park mapped only as a point,
        an area cut by the extract, a relation that is not a multipolygon).

    Returns
    -------
    GeoDataFrame
        In *crs*, columns ``category``, ``category_zh``, ``name`` (raw OSM
        ``name`` -- untrusted text, escape before display), ``name_zh``
        (``name:zh`` or ``name``), ``name_en`` (``name:en``), ``osm_type``,
        ``osm_id``, ``area_m2`` (polygons; NaN for points), ``included``,
        ``note``, ``source`` (``'OpenStreetMap via <channel>, <date>'``),
        ``precision`` (``'surveyed'``), ``uncertainty_m`` (NaN), ``geometry``
        (points; polygons for polygon categories).  ``attrs['licence']`` holds the
        ODbL credit.
    """
    cats = load_categories() if categories is None else list(categories)
    target = require_projected(crs or get_settings().analysis_crs, "services_from_osm")
    geoms = _Geometries(osm)
    rows: list[dict[str, Any]] = []
    raw: list[BaseGeometry | None] = []
    for kind, eid, payload, tags, cat in _match_elements(osm, cats):
        if kind == "node":
            geom, note = geoms.node(payload)
        elif kind == "way":
            geom, note = geoms.way(payload)
        else:
            geom, note = geoms.relation(payload, tags)
        rows.append(
            {
                "category": cat.id,
                "category_zh": cat.name_zh,
                "name": tags.get("name", ""),
                "name_zh": tags.get("name:zh") or tags.get("name:zh-Hans") or tags.get("name", ""),
                "name_en": tags.get("name:en", ""),
                "osm_type": kind,
                "osm_id": eid,
                "note": note,
            }
        )
        raw.append(geom)
    df = pd.DataFrame(rows, columns=["category", "category_zh", "name", "name_zh", "name_en", "osm_type", "osm_id", "note"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(raw, crs="EPSG:4326"), crs="EPSG:4326")
    gdf = to_analysis(gdf, target)

    by_id = {c.id: c for c in cats}
    out_geom: list[BaseGeometry | None] = []
    area = np.full(len(gdf), np.nan)
    included = np.zeros(len(gdf), dtype=bool)
    notes = gdf["note"].tolist()
    for i, (cid, geom) in enumerate(zip(gdf["category"], gdf.geometry)):
        cat = by_id[cid]
        if geom is None or geom.is_empty:
            out_geom.append(None)
            continue
        kind = geom.geom_type
        if cat.geometry == "polygon":
            if kind not in ("Polygon", "MultiPolygon"):
                if not notes[i]:
                    notes[i] = "mapped as a point or an open line: area unknown, not counted"
                else:
                    notes[i] = f"{notes[i]}: area unknown, not counted"
                out_geom.append(geom)
                continue
            area[i] = geom.area
            out_geom.append(geom)
            if cat.min_area_m2 is not None and area[i] < cat.min_area_m2:
                notes[i] = f"area {area[i]:.0f} m² < {cat.min_area_m2:.0f} m²"
                continue
            included[i] = True
        else:
            if kind == "Point":
                pt = geom
            elif kind in ("Polygon", "MultiPolygon"):
                pt = geom.point_on_surface()
            else:  # a line: an open way (platform) or an area cut by the extract
                pt = geom.interpolate(0.5, normalized=True)
            out_geom.append(pt)
            included[i] = True
            if notes[i]:
                notes[i] = f"{notes[i]}; located at a point of the part present"
    gdf = gdf.set_geometry(gpd.GeoSeries(out_geom, index=gdf.index, crs=gdf.crs))
    gdf["area_m2"] = area
    gdf["included"] = included
    gdf["note"] = notes
    gdf["source"] = osm.provenance
    gdf["precision"] = "surveyed"
    gdf["uncertainty_m"] = np.nan
    if not include_excluded:
        gdf = gdf[gdf["included"]]
    gdf = gdf[[*_SERVICE_COLUMNS, "geometry"]].reset_index(drop=True)
    gdf.attrs["licence"] = osm.licence
    return gdf


def service_access_points(services: gpd.GeoDataFrame, spacing_m: float = 25.0) -> gpd.GeoDataFrame:
    """Points from which each service is reached on foot.

    A point facility is reached at its point.  A polygon facility (a park) is
    reached at its edge: the vertices of its exterior ring(s), densified so that
    no two consecutive points are more than *spacing_m* apart -- the simplest
    honest stand-in for "where the boundary meets the walk network" (snap them to
    the network; the nearest one wins).

    Parameters
    ----------
    services
        Output of :func:`services_from_osm` (metric CRS).  Rows with
        ``included`` False are skipped.
    spacing_m
        Maximum distance between consecutive boundary points, metres.

    Returns
    -------
    GeoDataFrame
        Same CRS; columns ``service_index`` (row label in *services*),
        ``category``, ``osm_type``, ``osm_id``, ``geometry`` (Point).
    """
    require_projected(services.crs, "service_access_points")
    if not spacing_m > 0:
        raise InputDataError(f"spacing_m must be positive, not {spacing_m!r}", fix="use e.g. 25")
    keep = services["included"].to_numpy(bool) if "included" in services.columns else np.ones(len(services), bool)
    rows: list[tuple[Any, str, str, int]] = []
    pts: list[np.ndarray] = []
    for label, cat, kind, oid, geom in zip(
        services.index[keep],
        services["category"][keep],
        services["osm_type"][keep],
        services["osm_id"][keep],
        services.geometry[keep],
    ):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            coords = []
            for part in getattr(geom, "geoms", [geom]):
                ring = shapely.segmentize(part.exterior, spacing_m)
                coords.append(shapely.get_coordinates(ring)[:-1])  # drop the closing repeat
            xy = np.vstack(coords)
        else:
            xy = shapely.get_coordinates(geom)[:1]
        pts.append(xy)
        rows.extend((label, cat, kind, int(oid)) for _ in range(len(xy)))
    xy = np.vstack(pts) if pts else np.zeros((0, 2))
    df = pd.DataFrame(rows, columns=["service_index", "category", "osm_type", "osm_id"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=services.crs)


def service_summary(services: gpd.GeoDataFrame, categories: Sequence[Category] | None = None) -> pd.DataFrame:
    """Count the services found per category, and say which have none.

    Parameters
    ----------
    services
        Output of :func:`services_from_osm` (pass ``include_excluded=True`` there to
        also count and explain the features that could not be used).
    categories
        Default :func:`load_categories`; every category gets a row, found or not.

    Returns
    -------
    DataFrame
        ``category``, ``name_zh``, ``basic``, ``level_min``, ``radius_m``,
        ``verified``, ``n_found`` (usable features), ``n_points``, ``n_areas``,
        ``n_excluded``, ``note`` (``'none found in the study area ...'`` for an
        empty category; the reasons for exclusions).
    """
    cats = load_categories() if categories is None else list(categories)
    inc = services["included"].to_numpy(bool) if "included" in services.columns else np.ones(len(services), bool)
    records = []
    for cat in cats:
        sel = (services["category"] == cat.id).to_numpy()
        used = services[sel & inc]
        dropped = services[sel & ~inc]
        types = used.geometry.geom_type if len(used) else pd.Series([], dtype=str)
        n_areas = int(types.isin(["Polygon", "MultiPolygon"]).sum())
        notes = []
        if len(used) == 0:
            notes.append(
                "none found in the study area — coverage cannot be computed for this category "
                "(OSM may simply not map it here)"
            )
        if len(dropped):
            reasons = Counter(re.sub(r"\d+(\.\d+)?", "N", str(n)) for n in dropped["note"])
            notes.append("excluded: " + "; ".join(f"{k} ×{v}" for k, v in reasons.most_common()))
        records.append(
            {
                "category": cat.id,
                "name_zh": cat.name_zh,
                "basic": cat.basic,
                "level_min": cat.level_min,
                "radius_m": np.nan if cat.radius_m is None else cat.radius_m,
                "verified": cat.verified,
                "n_found": len(used),
                "n_points": len(used) - n_areas,
                "n_areas": n_areas,
                "n_excluded": len(dropped),
                "note": " | ".join(notes),
            }
        )
    return pd.DataFrame(records)
