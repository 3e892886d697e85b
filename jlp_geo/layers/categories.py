"""Service categories (公共服务设施分类) of the 15-minute life circle, and their OSM tag rules.

What counts as a 小学, a 菜市场, a 口袋公园; the 5/10/15-minute level and service
radius; the clause each comes from; how sure we are; which OSM tags identify it
-- are data, in ``layers/service_categories.csv``, not code (:func:`load_categories`).
Finding the facilities in OSM data is :mod:`jlp_geo.layers.services`.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputDataError, MissingInputError
from ..settings import get_settings

__all__ = [
    "CATEGORY_COLUMNS",
    "Category",
    "TagClause",
    "TagRule",
    "load_categories",
    "overpass_filters",
    "parse_tag_rules",
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
        raise err("osm_rule", str(exc), "see the rule syntax in jlp_geo.layers.categories") from None
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
    sent).  The full rules are applied locally by
    :func:`jlp_geo.layers.services.services_from_osm`.
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
