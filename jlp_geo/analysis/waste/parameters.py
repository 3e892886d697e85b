"""What the waste analysis assumes: the plan's waste types and streams, and the stated parameters.

The five waste types of 第七条 in the plan's units (:data:`TYPES`), the three streams that each go to one
kind of facility (:data:`STREAMS`, 第十四、十七条), the names of the files the analysis reads and writes,
and the stated assumptions of ``layers/waste_parameters.yml`` (:func:`load_parameters`): scope, allocation
proxy, spoil/slurry density, detour factor, landfilled share, screening buffers and receptor categories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ...errors import InputDataError, MissingInputError, ProfileError
from ...layers.categories import Category, parse_tag_rules
from ...settings import get_settings
from ...sources.waste_inputs import GENERATION_COLUMNS

__all__ = [
    "GPKG_NAME",
    "MAP_NAME",
    "PARAMETERS_FILE",
    "PROXIES",
    "REPORT_NAME",
    "STREAMS",
    "STREAM_BY_ID",
    "TYPES",
    "Stream",
    "WasteParameters",
    "load_parameters",
]


#: The stated parameters, in the layers folder.
PARAMETERS_FILE = "waste_parameters.yml"
#: Output file names (inside the output folder).
GPKG_NAME = "waste.gpkg"
MAP_NAME = "waste.html"
REPORT_NAME = "waste_report.html"

#: Waste types (keys of user files) -> forecast item of 第七条 and the unit the plan gives.
TYPES: dict[str, dict[str, str]] = {
    "spoil": {"item": "gen_spoil", "zh": "工程渣土", "en": "Excavated spoil", "unit": "万立方米/年"},
    "slurry": {"item": "gen_slurry", "zh": "工程泥浆", "en": "Engineering slurry", "unit": "万立方米/年"},
    "construction": {"item": "gen_construction", "zh": "工程垃圾", "en": "Construction waste", "unit": "万吨/年"},
    "demolition": {"item": "gen_demolition", "zh": "拆除垃圾", "en": "Demolition waste", "unit": "万吨/年"},
    "decoration": {"item": "gen_decoration", "zh": "装修垃圾", "en": "Decoration waste", "unit": "万吨/年"},
}
if tuple(TYPES) != GENERATION_COLUMNS:  # pragma: no cover - the generation file reader must know the same types
    raise ImportError(f"TYPES {list(TYPES)} and sources.waste_inputs.GENERATION_COLUMNS {list(GENERATION_COLUMNS)} differ")


@dataclass(frozen=True)
class Stream:
    """A group of waste types that goes to the same kind of facility (第十四、十七条).

    Attributes
    ----------
    id, name_zh, name_en
        Identifier and labels.
    types
        Keys of :data:`TYPES` in the stream.
    unit
        The plan's unit per year (``万立方米/年`` or ``万吨/年``); haul cost is in ``unit × km``.
    facilities
        ``facility_id`` of the facilities receiving the stream (``layers/waste_plan_facilities.csv``).
    clause
        Where the plan sends the stream.
    """

    id: str
    name_zh: str
    name_en: str
    types: tuple[str, ...]
    unit: str
    facilities: tuple[str, ...]
    clause: str

    @property
    def volume(self) -> bool:
        """True for the stream measured in 万立方米."""
        return self.unit.startswith("万立方米")

    @property
    def cost_unit(self) -> str:
        """Unit of quantity × haul distance."""
        return ("万立方米" if self.volume else "万吨") + "·公里/年"


STREAMS: tuple[Stream, ...] = (
    Stream(
        "spoil_slurry", "工程渣土及工程泥浆", "Spoil and slurry", ("spoil", "slurry"), "万立方米/年",
        ("landfill_luogudong", "landfill_yandongwan"), "第十四条（一）、第十七条（二）（三）、第十九条",
    ),
    Stream(
        "decoration", "装修垃圾", "Decoration waste", ("decoration",), "万吨/年",
        ("sorting_huayan",), "第十五条（五）、第十七条（四）、第十八条",
    ),
    Stream(
        "construction_demolition", "工程垃圾及拆除垃圾", "Construction and demolition waste", ("construction", "demolition"),
        "万吨/年", ("recycling_plant", "xinqi_base"), "第十四条（一）、第十六条（一）、第十七条（一）",
    ),
)


#: The streams by ``id``.
STREAM_BY_ID: dict[str, Stream] = {s.id: s for s in STREAMS}


@dataclass(frozen=True)
class WasteParameters:
    """The stated assumptions of the analysis (``layers/waste_parameters.yml``).

    Attributes
    ----------
    administered_by
        Which 镇街 are in scope (``district``: the 13 directly administered, 第二条).
    proxy, proxy_fallback
        Allocation proxy (``auto``/``area``/``population``/``activity``) and the one ``auto`` ends with.
    density_t_per_m3, density_range, density_note
        t/m³ of spoil/slurry, a sensitivity range, and where the value comes from.
    detour_factor, detour_note
        Straight-line → road distance factor of the fallback.
    snap_max_m
        Largest snap distance to the drive network before a pair falls back to straight line.
    landfilled_share
        Share of the spoil/slurry absorption that goes to the landfills (plan: 1.0).
    yandongwan_fill_for_allocation
        岩洞湾 fill volume (万立方米) used in the haul allocation (312 or 326).
    horizon_years
        Allocation horizon (landfill capacity per year = fill / horizon); None = combined life.
    start_year
        First year with both landfills (for calendar dates).
    buffers_m
        Screening distances around located facilities.
    dense_residential_per_km2
        Raster density counted as dense along haul routes.
    receptors
        Sensitive-receptor categories (OSM tag rules).
    notes
        ``{topic: note}`` from the file.
    path
        File the parameters were read from.
    """

    administered_by: str
    proxy: str
    proxy_fallback: str
    density_t_per_m3: float
    density_range: tuple[float, float]
    density_note: str
    detour_factor: float
    detour_note: str
    snap_max_m: float
    landfilled_share: float
    yandongwan_fill_for_allocation: float
    horizon_years: float | None
    start_year: int
    buffers_m: tuple[float, ...]
    dense_residential_per_km2: float
    receptors: tuple[Category, ...]
    notes: dict[str, str] = field(default_factory=dict)
    path: str = ""


#: Allocation proxies of the generation per 镇街 (``auto`` picks the best one the inputs allow).
PROXIES: tuple[str, ...] = ("auto", "area", "population", "activity")


def _need(raw: Mapping[str, Any], dotted: str, where: str) -> Any:
    """The value at ``a.b.c`` of the YAML, or a ProfileError naming the missing parameter."""
    node: Any = raw
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            raise ProfileError(f"missing parameter '{dotted}'", where=where, fix=f"restore '{dotted}' (see the repository's layers/{PARAMETERS_FILE})")
        node = node[key]
    return node


def _positive(value: Any, name: str, where: str, *, allow_zero: bool = False) -> float:
    """*value* as a positive (or non-negative) finite number, or a ProfileError naming the parameter."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ProfileError(f"parameter '{name}' must be a number, got {value!r}", where=where) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ProfileError(f"parameter '{name}' must be {'non-negative' if allow_zero else 'positive'}, got {value!r}", where=where)
    return v


def load_parameters(path: str | Path | None = None, **overrides: Any) -> WasteParameters:
    """Read the stated parameters of the waste analysis.

    Parameters
    ----------
    path
        YAML file (default ``layers/waste_parameters.yml``).
    **overrides
        Field values of :class:`WasteParameters` replacing the file's (e.g. ``detour_factor=1.3``).

    Returns
    -------
    WasteParameters

    Raises
    ------
    MissingInputError
        If the file does not exist.
    ProfileError
        If a parameter is missing or out of range (the message names it).
    """
    p = Path(path) if path else get_settings().layers_dir / PARAMETERS_FILE
    where = str(p)
    if not p.is_file():
        raise MissingInputError("waste parameter file not found", where=where, fix=f"restore layers/{PARAMETERS_FILE} from the repository")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"not valid YAML: {exc}", where=where, fix="fix the indentation or quoting") from exc
    receptors = []
    for i, r in enumerate(_need(raw, "receptors", where) or []):
        rwhere = f"{where}, receptors[{i}]"
        rule = str(_need(r, "osm_rule", rwhere))
        try:
            rules = parse_tag_rules(rule)
        except InputDataError as exc:
            raise ProfileError(f"bad osm_rule {rule!r}: {exc.what}", where=rwhere, fix="use the rule syntax of layers/service_categories.csv") from exc
        geometry = str(r.get("geometry", "point"))
        if geometry not in ("point", "polygon"):
            raise ProfileError(f"geometry must be point or polygon, got {geometry!r}", where=rwhere)
        receptors.append(
            Category(
                id=str(_need(r, "id", rwhere)), name_zh=str(_need(r, "name_zh", rwhere)), name_en=str(r.get("name_en", "")),
                level_min=15, radius_m=None, rule_source=f"{PARAMETERS_FILE} receptors", verified="none",
                osm_rule=rule, rules=rules, geometry=geometry, min_area_m2=None, basic=False,
            )
        )
    proxy = str(_need(raw, "proxy", where))
    fallback = str(_need(raw, "proxy_fallback", where))
    for name, val in (("proxy", proxy), ("proxy_fallback", fallback)):
        if val not in PROXIES or (name == "proxy_fallback" and val == "auto"):
            raise ProfileError(f"parameter '{name}' must be one of {list(PROXIES)}, got {val!r}", where=where)
    rng = _need(raw, "density.range_t_per_m3", where)
    horizon = _need(raw, "landfill.horizon_years", where)
    share = _positive(_need(raw, "landfill.landfilled_share", where), "landfill.landfilled_share", where, allow_zero=True)
    if share > 1:
        raise ProfileError(f"landfill.landfilled_share must be in [0, 1], got {share}", where=where)
    params = WasteParameters(
        administered_by=str(_need(raw, "scope.administered_by", where)),
        proxy=proxy,
        proxy_fallback=fallback,
        density_t_per_m3=_positive(_need(raw, "density.spoil_slurry_t_per_m3", where), "density.spoil_slurry_t_per_m3", where),
        density_range=(float(rng[0]), float(rng[1])),
        density_note=str(raw.get("density", {}).get("note", "")).strip(),
        detour_factor=_positive(_need(raw, "detour.factor", where), "detour.factor", where),
        detour_note=str(raw.get("detour", {}).get("note", "")).strip(),
        snap_max_m=_positive(_need(raw, "network.snap_max_m", where), "network.snap_max_m", where),
        landfilled_share=share,
        yandongwan_fill_for_allocation=_positive(
            _need(raw, "landfill.yandongwan_fill_for_allocation_wm3", where), "landfill.yandongwan_fill_for_allocation_wm3", where
        ),
        horizon_years=None if horizon is None else _positive(horizon, "landfill.horizon_years", where),
        start_year=int(_need(raw, "landfill.start_year", where)),
        buffers_m=tuple(sorted(_positive(b, "siting.buffers_m", where) for b in _need(raw, "siting.buffers_m", where))),
        dense_residential_per_km2=_positive(_need(raw, "siting.dense_residential_per_km2", where), "siting.dense_residential_per_km2", where),
        receptors=tuple(receptors),
        notes={k: str(v.get("note", "")).strip() for k, v in raw.items() if isinstance(v, Mapping) and v.get("note")},
        path=where,
    )
    if params.detour_factor < 1:
        raise ProfileError(f"detour.factor must be ≥ 1 (a road is never shorter than the straight line), got {params.detour_factor}", where=where)
    return replace(params, **overrides) if overrides else params
