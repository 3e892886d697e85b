"""Siting defaults and candidate land, read from ``layers/siting.yml`` (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ...errors import InputDataError, MissingInputError
from ...layers.categories import Category, parse_tag_rules
from ...settings import get_settings

__all__ = ["MODELS", "RULES", "CandidateLand", "SitingParameters", "load_siting_parameters"]

MODELS: tuple[str, ...] = ("mclp", "lscp", "pmedian")
RULES: tuple[str, ...] = ("time", "dist")


@dataclass(frozen=True)
class CandidateLand:
    """One kind of land on which generated candidates may lie, and why."""

    id: str
    name_zh: str
    name_en: str
    osm_rule: str
    reason_zh: str

    def as_category(self) -> Category:
        """The land rule as a polygon :class:`~jlp_geo.layers.categories.Category` for ``services_from_osm``."""
        return Category(
            id=f"land_{self.id}",
            name_zh=self.name_zh,
            name_en=self.name_en,
            level_min=15,
            radius_m=None,
            rule_source="layers/siting.yml candidate_land (not a service)",
            verified="none",
            osm_rule=self.osm_rule,
            rules=parse_tag_rules(self.osm_rule),
            geometry="polygon",
            min_area_m2=None,
            basic=False,
        )


@dataclass(frozen=True)
class SitingParameters:
    """Defaults of ``jlp-geo site`` (see ``layers/siting.yml``)."""

    model: str
    rule: str
    spacing_m: float
    land_buffer_m: float
    time_limit_s: float
    curve_max_p: int
    curve_exact: bool
    pmedian_cap_factor: float
    candidate_land: tuple[CandidateLand, ...]
    source: str


def load_siting_parameters(path: str | Path | None = None) -> SitingParameters:
    """Read and check ``layers/siting.yml``.

    Raises
    ------
    MissingInputError
        If the file is missing.
    InputDataError
        Naming the key that is wrong.
    """
    p = Path(path) if path is not None else get_settings().layers_dir / "siting.yml"
    if not p.is_file():
        raise MissingInputError("siting parameters not found", where=str(p), fix="restore layers/siting.yml")
    raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    d = raw.get("defaults") or {}

    def bad(key: str, what: str) -> InputDataError:
        return InputDataError(what, where=f"{p}, key {key}", fix="see the comments in layers/siting.yml")

    try:
        params = {
            "model": str(d.get("model", "mclp")),
            "rule": str(d.get("rule", "time")),
            "spacing_m": float(d.get("spacing_m", 150)),
            "land_buffer_m": float(d.get("land_buffer_m", 30)),
            "time_limit_s": float(d.get("time_limit_s", 60)),
            "curve_max_p": int(d.get("curve_max_p", 10)),
            "curve_exact": bool(d.get("curve_exact", True)),
            "pmedian_cap_factor": float(d.get("pmedian_cap_factor", 2.0)),
        }
    except (TypeError, ValueError) as exc:
        raise bad("defaults", f"a default is not a number: {exc}") from exc
    if params["model"] not in MODELS:
        raise bad("defaults.model", f"unknown model {params['model']!r} (one of {', '.join(MODELS)})")
    if params["rule"] not in RULES:
        raise bad("defaults.rule", f"unknown rule {params['rule']!r} (one of {', '.join(RULES)})")
    if not params["pmedian_cap_factor"] >= 1:
        raise bad("defaults.pmedian_cap_factor", "pmedian_cap_factor must be at least 1 (the cap cannot be below the threshold)")
    for key in ("spacing_m", "time_limit_s"):
        if not params[key] > 0:
            raise bad(f"defaults.{key}", f"{key} must be positive")
    land = []
    for i, row in enumerate(raw.get("candidate_land") or []):
        missing = [k for k in ("id", "name_zh", "osm_rule", "reason_zh") if not row.get(k)]
        if missing:
            raise bad(f"candidate_land[{i}]", f"missing {', '.join(missing)}")
        try:
            parse_tag_rules(str(row["osm_rule"]))
        except ValueError as exc:
            raise bad(f"candidate_land[{i}].osm_rule", str(exc)) from exc
        land.append(CandidateLand(str(row["id"]), str(row["name_zh"]), str(row.get("name_en", "")), str(row["osm_rule"]), str(row["reason_zh"])))
    return SitingParameters(candidate_land=tuple(land), source=str(p.name), **params)
