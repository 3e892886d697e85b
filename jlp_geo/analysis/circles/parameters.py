"""What the life-circle units assume: the stated parameters of ``layers/life_circles.yml``.

Population range of a unit (GB 50180-2018), the walk-compactness reach, the barrier rules and
crossing penalty, the share of residents that makes a category "met", the checklist levels
(基础保障 / 品质提升 / 特色引导), how units are named and which 示范 communities are marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ...errors import ProfileError
from ...layers.categories import Category, TagRule, parse_tag_rules
from ...settings import get_settings

__all__ = ["PARAMETERS_FILE", "CircleParameters", "Pilot", "category_level", "load_circle_parameters"]

#: The stated parameters, in the layers folder.
PARAMETERS_FILE = "life_circles.yml"


@dataclass(frozen=True)
class Pilot:
    """A named 示范 community to mark on the unit containing it."""

    name_zh: str
    programme: str
    source: str
    gazetteer: str | None = None
    osm_name: str | None = None


@dataclass(frozen=True)
class CircleParameters:
    """Parameters of the delineation and the scoring (see ``layers/life_circles.yml``)."""

    pop_min: float
    pop_max: float
    pop_source: str
    small_allowed_suffix: str
    compact_minutes: float
    barrier_rules: tuple[TagRule, ...]
    crossing_penalty_s: float
    max_grade: float
    barrier_source: str
    met_share: float
    met_source: str
    levels: dict[str, str]
    featured_categories: tuple[str, ...]
    levels_source: str
    naming_rules: tuple[TagRule, ...]
    naming_max_m: float
    pilots: tuple[Pilot, ...] = field(default_factory=tuple)

    def with_population_range(self, pop_min: float, pop_max: float) -> CircleParameters:
        """The same parameters with another population range (e.g. for a small test area)."""
        if not 0 < pop_min < pop_max:
            raise ProfileError("the population range needs 0 < min < max", where=f"{pop_min}..{pop_max}",
                               fix="give e.g. 50000 and 100000")
        return replace(self, pop_min=float(pop_min), pop_max=float(pop_max))


def _need(raw: dict[str, Any], path: Path, *keys: str) -> Any:
    node: Any = raw
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            raise ProfileError(f"missing entry {'.'.join(keys)}", where=str(path), fix=f"restore layers/{PARAMETERS_FILE}")
        node = node[k]
    return node


def load_circle_parameters(path: str | Path | None = None) -> CircleParameters:
    """Read ``layers/life_circles.yml`` (or *path*) into :class:`CircleParameters`.

    Raises
    ------
    ProfileError
        When the file is missing, an entry is missing, or a figure is out of range.
    """
    path = Path(path) if path else get_settings().layers_dir / PARAMETERS_FILE
    if not path.is_file():
        raise ProfileError("life-circle parameter file not found", where=str(path), fix=f"restore layers/{PARAMETERS_FILE}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        barrier_rules = parse_tag_rules(" ".join(str(_need(raw, path, "barriers", "osm_rule")).split()))
        naming_rules = parse_tag_rules(str(_need(raw, path, "naming", "osm_rule")))
    except ValueError as exc:
        raise ProfileError(f"cannot read a tag rule: {exc}", where=str(path), fix="see the rule syntax in jlp_geo.layers.categories") from exc
    pilots = tuple(
        Pilot(
            name_zh=str(p["name_zh"]),
            programme=str(p.get("programme", "")),
            source=str(p.get("source", "")),
            gazetteer=p.get("gazetteer"),
            osm_name=p.get("osm_name"),
        )
        for p in (raw.get("pilots") or [])
    )
    params = CircleParameters(
        pop_min=float(_need(raw, path, "population", "min")),
        pop_max=float(_need(raw, path, "population", "max")),
        pop_source=str(_need(raw, path, "population", "source")),
        small_allowed_suffix=str(raw["population"].get("small_allowed_suffix", "镇")),
        compact_minutes=float(_need(raw, path, "walk", "compact_minutes")),
        barrier_rules=barrier_rules,
        crossing_penalty_s=float(_need(raw, path, "barriers", "crossing_penalty_s")),
        max_grade=float(_need(raw, path, "barriers", "max_grade")),
        barrier_source=str(raw["barriers"].get("source", "")),
        met_share=float(_need(raw, path, "scoring", "met_share")),
        met_source=str(raw["scoring"].get("met_source", "")),
        levels={k: str(v) for k, v in _need(raw, path, "scoring", "levels").items()},
        featured_categories=tuple(raw["scoring"].get("featured_categories") or ()),
        levels_source=str(raw["scoring"].get("levels_source", "")),
        naming_rules=naming_rules,
        naming_max_m=float(_need(raw, path, "naming", "max_m")),
        pilots=pilots,
    )
    if not 0 < params.pop_min < params.pop_max:
        raise ProfileError("population.min must be positive and below population.max", where=str(path),
                           fix="e.g. min: 50000, max: 100000 (GB 50180-2018)")
    if not 0 < params.met_share <= 1:
        raise ProfileError("scoring.met_share must lie in (0, 1]", where=str(path), fix="e.g. 0.9")
    if params.crossing_penalty_s < 0 or params.compact_minutes <= 0:
        raise ProfileError("barriers.crossing_penalty_s must be >= 0 and walk.compact_minutes > 0", where=str(path))
    if set(params.levels) != {"basic", "other", "featured"}:
        raise ProfileError("scoring.levels needs exactly the keys basic, other, featured", where=str(path))
    return params


def category_level(category: Category, params: CircleParameters) -> str:
    """Checklist level of a category: 基础保障 (basic=yes), 特色引导 (listed as featured) or 品质提升."""
    if category.basic:
        return params.levels["basic"]
    if category.id in params.featured_categories:
        return params.levels["featured"]
    return params.levels["other"]
