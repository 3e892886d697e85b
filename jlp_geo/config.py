"""Load and validate a study-area profile (YAML) into a frozen :class:`Profile`.

Validation errors name the file, the entry and the field, and say what to fix:
a planner editing ``layers/jiulongpo.yml`` by hand must be able to act on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .crs import as_crs, require_projected
from .errors import CRSError, ProfileError
from .settings import get_settings

ADMINISTRATIONS = ("district", "high_tech_zone")


@dataclass(frozen=True)
class Township:
    """One 镇街 (town or subdistrict)."""

    name_zh: str
    name_en: str
    code: str
    area_km2: float
    administered_by: str
    cluster: str | None


@dataclass(frozen=True)
class Cluster:
    """One of the four functional clusters (组团)."""

    name_zh: str
    name_en: str
    function: str
    membership_status: str
    membership_note: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    """A validated study-area profile."""

    path: Path
    name_zh: str
    name_en: str
    code: str
    official_area_km2: float
    official_area_source: str
    storage_crs: str
    analysis_crs: str
    boundary: dict[str, Any]
    townships: tuple[Township, ...]
    townships_source: str
    clusters: tuple[Cluster, ...]
    clusters_source: str
    high_tech_zone_unit: dict[str, str]
    documents: dict[str, dict[str, str]]
    data_sources: tuple[dict[str, str], ...]
    population: dict[str, Any] = field(default_factory=dict)
    plausibility: dict[str, Any] = field(default_factory=dict)

    def township(self, name_zh: str) -> Township:
        """Return the 镇街 called *name_zh*."""
        for t in self.townships:
            if t.name_zh == name_zh:
                return t
        raise KeyError(name_zh)

    def document(self, key: str) -> str:
        """Short citation of a seed document, e.g. ``十五五规划纲要 (2026-03)``."""
        d = self.documents[key]
        return f"{d['short']} ({d['date']})"


def _need(mapping: dict, key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
        raise ProfileError(f"missing field '{key}'", where=where, fix=f"add '{key}:' to this entry")
    value = mapping[key]
    if not isinstance(value, kind):
        raise ProfileError(
            f"field '{key}' should be {getattr(kind, '__name__', kind)}, got {value!r}",
            where=where,
            fix=f"correct '{key}'",
        )
    return value


def load_profile(path: str | Path | None = None, analysis_crs: str | None = None) -> Profile:
    """Load and validate a study-area profile.

    Parameters
    ----------
    path
        YAML file; defaults to ``jiulongpo.yml`` in the settings' layers folder.
    analysis_crs
        Override of the profile's metric analysis CRS (e.g. ``"EPSG:4545"``).

    Returns
    -------
    Profile
        Frozen, validated profile.

    Raises
    ------
    ProfileError
        With the file, entry and field at fault and what to change.
    """
    path = Path(path) if path else get_settings().layers_dir / "jiulongpo.yml"
    if not path.is_file():
        raise ProfileError(
            "study-area profile not found",
            where=str(path),
            fix="pass --profile FILE or restore layers/jiulongpo.yml from the repository",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise ProfileError(f"the profile is not valid YAML: {exc}", where=where, fix="fix the YAML syntax") from exc
    if not isinstance(raw, dict):
        raise ProfileError("the profile must be a YAML mapping", where=str(path))
    w = str(path)

    crs_block = raw.get("crs") or {}
    storage = _need(crs_block, "storage", f"{w}: crs")
    analysis = analysis_crs or _need(crs_block, "analysis", f"{w}: crs")
    try:
        if not as_crs(storage).is_geographic:
            raise ProfileError(f"storage CRS {storage} must be geographic (EPSG:4490)", where=f"{w}: crs.storage")
        require_projected(analysis, where=f"{w}: crs.analysis" if not analysis_crs else "--analysis-crs")
    except CRSError as exc:
        raise ProfileError(exc.what, where=exc.where, fix=exc.fix) from exc

    boundary = _need(raw, "boundary", w, dict)
    if boundary.get("source") not in ("cnmaps", "file"):
        raise ProfileError(
            f"boundary.source must be 'cnmaps' or 'file', got {boundary.get('source')!r}",
            where=f"{w}: boundary",
        )
    if boundary["source"] == "file" and not boundary.get("file"):
        raise ProfileError("boundary.source is 'file' but boundary.file is empty", where=f"{w}: boundary")

    clusters_raw = _need(raw, "clusters", w, list)
    cluster_names = []
    for i, c in enumerate(clusters_raw):
        cw = f"{w}: clusters[{i}]"
        cluster_names.append(_need(c, "name_zh", cw))
        for key in ("name_en", "function", "membership_status"):
            _need(c, key, cw)

    towns: list[Township] = []
    seen_names: set[str] = set()
    seen_codes: set[str] = set()
    for i, t in enumerate(_need(raw, "townships", w, list)):
        tw = f"{w}: townships[{i}]"
        name = _need(t, "name_zh", tw)
        tw = f"{w}: townships[{i}] ({name})"
        code = str(_need(t, "code", tw, (str, int)))
        if not re.fullmatch(r"\d{12}", code):
            raise ProfileError(f"code {code!r} is not a 12-digit statistical code", where=tw, fix="use the NBS 12-digit code")
        area = _need(t, "area_km2", tw, (int, float))
        if not area > 0:
            raise ProfileError(f"area_km2 must be positive, got {area}", where=tw)
        adm = _need(t, "administered_by", tw)
        if adm not in ADMINISTRATIONS:
            raise ProfileError(f"administered_by must be one of {ADMINISTRATIONS}, got {adm!r}", where=tw)
        cluster = t.get("cluster")
        if adm == "district" and cluster not in cluster_names:
            raise ProfileError(
                f"cluster {cluster!r} is not one of the profile's clusters {cluster_names}",
                where=tw,
                fix="set cluster to one of the names under 'clusters:'",
            )
        if adm == "high_tech_zone" and cluster:
            raise ProfileError("towns run by 重庆高新区 belong to no cluster", where=tw, fix="set cluster: null")
        if name in seen_names or code in seen_codes:
            raise ProfileError(f"duplicate 镇街 name or code ({name}, {code})", where=tw)
        seen_names.add(name)
        seen_codes.add(code)
        towns.append(Township(name, _need(t, "name_en", tw), code, float(area), adm, cluster))

    clusters = tuple(
        Cluster(
            name_zh=c["name_zh"],
            name_en=c["name_en"],
            function=c["function"],
            membership_status=c["membership_status"],
            membership_note=c.get("membership_note", ""),
            members=tuple(t.name_zh for t in towns if t.cluster == c["name_zh"]),
        )
        for c in clusters_raw
    )
    for c in clusters:
        if not c.members:
            raise ProfileError(f"cluster {c.name_zh} has no member 镇街", where=f"{w}: townships", fix="assign its members")

    official = float(_need(raw, "official_area_km2", w, (int, float)))
    total = sum(t.area_km2 for t in towns)
    if abs(total - official) > 0.05:
        raise ProfileError(
            f"the 镇街 areas add up to {total:.2f} km² but official_area_km2 is {official}",
            where=f"{w}: townships",
            fix="check the area_km2 values",
        )

    sources = tuple(_need(raw, "data_sources", w, list))
    for i, s in enumerate(sources):
        for key in ("id", "name", "licence", "date"):
            _need(s, key, f"{w}: data_sources[{i}]", (str, int))

    documents = _need(raw, "documents", w, dict)
    for key in ("plan", "waste_plan"):
        for sub in ("title", "short", "date"):
            _need(_need(documents, key, f"{w}: documents", dict), sub, f"{w}: documents.{key}", (str, int))
    documents = {k: {kk: str(vv) for kk, vv in v.items()} for k, v in documents.items()}

    return Profile(
        path=path,
        name_zh=_need(raw, "name_zh", w),
        name_en=_need(raw, "name_en", w),
        code=str(_need(raw, "code", w, (str, int))),
        official_area_km2=official,
        official_area_source=str(raw.get("official_area_source", "")),
        storage_crs=storage,
        analysis_crs=analysis,
        boundary=boundary,
        townships=tuple(towns),
        townships_source=str(raw.get("townships_source", "")),
        clusters=clusters,
        clusters_source=_need(raw, "clusters_source", w),
        high_tech_zone_unit=dict(raw.get("high_tech_zone_unit") or {}),
        documents=documents,
        data_sources=sources,
        population=dict(raw.get("population") or {}),
        plausibility=dict(raw.get("plausibility") or {}),
    )
