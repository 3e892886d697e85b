"""The contract every planning layer meets, and the helper that enforces it.

Every feature carries ``name_zh``, ``name_en``, ``source`` (document + clause, or
dataset + date), ``precision`` (one of :data:`PRECISIONS`) and ``uncertainty_m``
(metres; NaN where the geometry is surveyed or absent).  Layers are returned in
the storage CRS (EPSG:4490).  A feature the evidence cannot place has an empty
geometry (None) rather than an invented one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import require_crs, to_storage
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings

if TYPE_CHECKING:
    from ..config import Profile

PRECISIONS: tuple[str, ...] = ("surveyed", "indicative", "schematic")
PRECISION_ZH: dict[str, str] = {"surveyed": "实测", "indicative": "示意（估计位置）", "schematic": "示意（线路走向）"}
BASE_COLUMNS: tuple[str, ...] = ("name_zh", "name_en", "source", "precision", "uncertainty_m")


def finish_layer(
    records: pd.DataFrame | Sequence[Mapping[str, Any]],
    geometry: Iterable[Any] | None = None,
    crs: object = "EPSG:4326",
    layer: str = "layer",
    copy: bool = True,
) -> gpd.GeoDataFrame:
    """Build a layer that meets the provenance contract, in the storage CRS.

    Parameters
    ----------
    records
        Attribute rows; must contain :data:`BASE_COLUMNS` (``uncertainty_m`` may be missing
        and is then NaN).
    geometry
        One shapely geometry (or None) per row; omitted when *records* is already a
        GeoDataFrame.
    crs
        CRS of *geometry* (WGS84 for the gazetteer).
    layer
        Layer name used in error messages.
    copy
        False when *records* is a GeoDataFrame the caller hands over (built for this call and
        not used after): its columns are then taken as they are, without a copy (a layer of
        2 M network nodes x 40 columns is 700 MB).

    Returns
    -------
    GeoDataFrame
        With the base columns first, ``uncertainty_m`` as float, CRS EPSG:4490.

    Raises
    ------
    ValueError
        If a base column is missing or a precision value is not one of :data:`PRECISIONS`
        (a programming error in a builder, not a user error).
    """
    if isinstance(records, gpd.GeoDataFrame) and geometry is None:
        gdf = records.copy(deep=copy)
    else:
        df = pd.DataFrame(list(records) if not isinstance(records, pd.DataFrame) else records).reset_index(drop=True)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geometry or [None] * len(df)), crs=crs), crs=crs)
    if "uncertainty_m" not in gdf.columns:
        gdf["uncertainty_m"] = np.nan
    missing = [c for c in BASE_COLUMNS if c not in gdf.columns]
    if missing:
        raise ValueError(f"layer {layer!r} lacks provenance columns {missing}")
    bad = sorted(set(gdf["precision"]) - set(PRECISIONS))
    if bad:
        raise ValueError(f"layer {layer!r} has precision values {bad}; allowed: {PRECISIONS}")
    gdf["uncertainty_m"] = pd.to_numeric(gdf["uncertainty_m"], errors="coerce").astype(float)
    geom_col = gdf.geometry.name
    order = list(BASE_COLUMNS) + [c for c in gdf.columns if c not in BASE_COLUMNS and c != geom_col] + [geom_col]
    if list(gdf.columns) != order:
        gdf = gdf[order]
    if gdf.crs is not None and gdf.crs.equals(get_settings().storage_crs):
        return gdf  # already stored as it should be: no second copy (large layers, e.g. 2 M network nodes)
    return to_storage(gdf)


# --------------------------------------------------------------------------- helpers shared by the plan-layer builders


def read_plan_table(name: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read ``layers/<name>`` as strings (empty cells ``""``), checking *required* columns.

    Raises
    ------
    MissingInputError
        If the file is absent.
    InputDataError
        If a required column is missing.
    """
    path = Path(get_settings().layers_dir) / name
    if not path.is_file():
        raise MissingInputError(
            f"plan data table {name} not found",
            where=str(path),
            fix=f"restore layers/{name} from the repository (or point JLP_GEO_LAYERS_DIR at the folder holding it)",
        )
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError(
            f"layers/{name} is not a valid UTF-8 CSV table: {exc}",
            where=str(path),
            fix="quote cells that contain commas, save as UTF-8, or restore the file from the repository",
        ) from exc
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputDataError(
            f"columns {missing} are missing",
            where=str(path),
            fix=f"restore the header line of layers/{name}; it needs {list(required)}",
        )
    return df


def plan_number(text: str) -> float:
    """``float(text)`` or NaN for an empty cell."""
    text = (text or "").strip()
    return float(text) if text else np.nan


def gazetteer_citation(profile: Profile, table: str) -> str:
    """``jlp_geo gazetteer layers/<table> (<date>)`` from the profile's data sources."""
    date = next((str(s.get("date", "")) for s in profile.data_sources if s.get("id") == "gazetteer"), "")
    return f"jlp_geo gazetteer layers/{table}" + (f" ({date})" if date else "")


def plan_clause_text(key: str) -> str:
    """Full text of a quoted clause from ``layers/plan_clauses.csv``."""
    clauses = read_plan_table("plan_clauses.csv", ("key", "document", "clause", "text")).set_index("key")
    if key not in clauses.index:
        raise InputDataError(
            f"clause {key!r} not found",
            where=str(Path(get_settings().layers_dir) / "plan_clauses.csv"),
            fix="restore the file from the repository",
        )
    return str(clauses.loc[key, "text"])


def user_layer(user: gpd.GeoDataFrame, layer: str, default_precision: str = "indicative") -> gpd.GeoDataFrame:
    """Adopt a user-supplied layer, keeping its attributes and filling missing provenance.

    Parameters
    ----------
    user
        Features read from a user file (any CRS; reprojected to EPSG:4490).  The file's
        name is taken from ``user.attrs["source_file"]`` when the reader set it.
    layer
        Layer name, for messages.
    default_precision
        Precision given to features without one.

    Returns
    -------
    GeoDataFrame
        Meeting the provenance contract: ``source`` defaults to ``"user file <name>"``,
        ``precision`` to *default_precision*, ``name_en`` to ``""``, ``uncertainty_m`` to NaN.

    Raises
    ------
    InputDataError
        If the data is not a GeoDataFrame, lacks ``name_zh``, or has unknown precision
        values or non-numeric uncertainties.
    CRSError
        If it has no CRS.
    """
    if not isinstance(user, gpd.GeoDataFrame):
        raise InputDataError(
            f"the user {layer} layer must be a GeoDataFrame, got {type(user).__name__}",
            where=layer,
            fix="read the file with jlp_geo (or geopandas.read_file) first",
        )
    fname = str(user.attrs.get("source_file") or user.attrs.get("path") or "")
    label = f"user file {Path(fname).name}" if fname else "user file"
    where = f"{label} ({layer} layer)"
    require_crs(user, where)
    if "name_zh" not in user.columns:
        raise InputDataError(
            "the file has no 'name_zh' column",
            where=where,
            fix="add a name_zh column holding each feature's Chinese name",
        )
    gdf = to_storage(user).copy()

    def blank(series: pd.Series) -> pd.Series:
        return series.isna() | (series.astype(str).str.strip() == "")

    if "name_en" not in gdf.columns:
        gdf["name_en"] = ""
    gdf["name_en"] = gdf["name_en"].where(~blank(gdf["name_en"]), "")
    if "source" not in gdf.columns:
        gdf["source"] = label
    gdf["source"] = gdf["source"].where(~blank(gdf["source"]), label).astype(str)
    if "precision" not in gdf.columns:
        gdf["precision"] = default_precision
    gdf["precision"] = gdf["precision"].where(~blank(gdf["precision"]), default_precision).astype(str).str.strip()
    bad = sorted(set(gdf["precision"]) - set(PRECISIONS))
    if bad:
        rows = [int(i) for i in np.flatnonzero(gdf["precision"].isin(bad).to_numpy())][:10]
        raise InputDataError(
            f"precision values {bad} are not allowed (rows {rows})",
            where=f"{where}, column 'precision'",
            fix=f"use one of {list(PRECISIONS)} or leave the cell empty for '{default_precision}'",
        )
    if "uncertainty_m" in gdf.columns:
        raw = gdf["uncertainty_m"]
        num = pd.to_numeric(raw, errors="coerce")
        wrong = num.isna() & ~blank(raw)
        if wrong.any():
            rows = [int(i) for i in np.flatnonzero(wrong.to_numpy())][:10]
            raise InputDataError(
                f"uncertainty_m is not a number in rows {rows}",
                where=f"{where}, column 'uncertainty_m'",
                fix="give the uncertainty in metres (e.g. 500) or leave the cell empty",
            )
        gdf["uncertainty_m"] = num
    return finish_layer(gdf, layer=layer)


# --------------------------------------------------------------------------- source tiers

#: The four source tiers, best first: the plan itself, a government site, a news outlet, anything else.
SOURCE_TIERS: tuple[str, ...] = ("official document", "government site", "news", "other")
SOURCE_TIER_ZH: dict[str, str] = {"official document": "官方文件", "government site": "政府网站", "news": "新闻", "other": "其他"}
_URL_RE = re.compile(r"https?://[^\s|;,)）]+")
_OFFICIAL_RE = re.compile(r"seed document|waste plan|规划纲要|建筑垃圾规划|十五五|人民政府公报")
_OSM_RE = re.compile(r"\bOSM\b|OpenStreetMap|OMap-GeoDB|GitHub|pages-corpus")


@functools.lru_cache(maxsize=4)
def _tier_table(path: str, stamp: int) -> tuple[tuple[str, str, str], ...]:
    """``layers/source_tiers.csv`` rows (cached per file and modification time)."""
    table = read_plan_table("source_tiers.csv", ("domain", "tier", "kind"))
    return tuple((d.strip().lower(), t.strip(), k.strip()) for d, t, k in zip(table["domain"], table["tier"], table["kind"]))


def url_source_tier(url: str) -> tuple[str, str]:
    """``(tier, kind)`` of a URL from ``layers/source_tiers.csv`` (longest matching domain suffix).

    A domain the table does not list is ``("other", "unclassified")``.
    """
    host = re.sub(r"^https?://", "", url.strip()).split("/")[0].lower()
    path = Path(get_settings().layers_dir) / "source_tiers.csv"
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    best: tuple[int, str, str] | None = None
    for dom, tier, kind in _tier_table(str(path), stamp):
        if (host == dom or host.endswith("." + dom)) and (best is None or len(dom) > best[0]):
            best = (len(dom), tier.strip(), kind.strip())
    return (best[1], best[2]) if best else ("other", "unclassified")


def source_tiers_of(text: str) -> list[str]:
    """The tier of every source named in *text* (URLs, the plan, OSM), in order of appearance."""
    text = str(text or "")
    tiers = ["official document"] if _OFFICIAL_RE.search(text) else []
    tiers += [url_source_tier(u)[0] for u in _URL_RE.findall(text)]
    if _OSM_RE.search(text):
        tiers.append("other")
    return tiers


def source_tier_of(text: str) -> str:
    """The best tier (:data:`SOURCE_TIERS` order) among the sources of *text*; ``""`` if it names none."""
    tiers = source_tiers_of(text)
    return min(tiers, key=SOURCE_TIERS.index) if tiers else ""


def mark_source_tiers(text: str) -> str:
    """*text* with each URL followed by its tier, e.g. ``… 〔other: mirror〕`` — what a planner is shown."""

    def tag(m: re.Match[str]) -> str:
        tier, kind = url_source_tier(m.group(0))
        return f"{m.group(0)} 〔{SOURCE_TIER_ZH[tier]} {tier}: {kind}〕"

    return _URL_RE.sub(tag, str(text or ""))


def source_tier_notes(text: str) -> str:
    """Each URL's host and tier, e.g. ``itagapp.com: 其他 other (mirror); cqjlp.gov.cn: 政府网站 government site …``.

    Shown beside a source so that no mirror or content-farm page passes for an official one.
    """
    out = []
    for url in dict.fromkeys(_URL_RE.findall(str(text or ""))):
        tier, kind = url_source_tier(url)
        host = re.sub(r"^https?://", "", url).split("/")[0]
        out.append(f"{host}: {SOURCE_TIER_ZH[tier]} {tier} ({kind})")
    return "; ".join(dict.fromkeys(out))
