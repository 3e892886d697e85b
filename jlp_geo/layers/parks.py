"""一港九园三区: the port, nine parks and three communities of 名词解释 2.

The plan (十五五规划纲要, 名词解释 2) gives only the names and their grouping:
“一港”指重庆枢纽港产业园九龙新城，“九园”指……，“三区”指……。  It defines no site,
extent or function for any of them, so this layer quotes what the plan gives and
nothing more.  Positions come from the gazetteer (``layers/parks.csv``): all are
estimates (town level or weaker, 2–8 km), drawn as indicative points with their
uncertainty; parks the evidence cannot place have no geometry.

Data (reviewed like code):

* ``layers/parks_plan.csv`` — the 13 plan features (kind 一港/九园/三区) and two
  existing parks kept as context, with the clause that names each;
* ``layers/plan_clauses.csv`` — the full 名词解释 2 sentence (key ``glossary_2``);
* ``layers/parks.csv`` — gazetteer positions, evidence and sources.

This module also holds the small table reader and the user-file adapter shared by
:mod:`jlp_geo.layers.waste` and :mod:`jlp_geo.layers.transport`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from ..config import Profile
from ..crs import require_crs, to_storage
from ..errors import InputDataError, MissingInputError
from ..settings import get_settings
from ._common import PRECISIONS, finish_layer

__all__ = ["COLUMNS_ZH", "PLAN_KINDS", "build_parks"]

#: The three groups of 名词解释 2 and how many members the plan names in each.
PLAN_KINDS: dict[str, int] = {"一港": 1, "九园": 9, "三区": 3}

#: Chinese column headers for CSV/Excel export of the parks layer.
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "kind": "类别",
    "role": "性质",
    "in_plan": "属于“一港九园三区”",
    "definition": "规划定义",
    "plan_text": "规划原文",
    "plan_clause": "条款",
    "town_or_street": "所在镇街（推断）",
    "location_status": "定位情况",
    "location_evidence": "定位依据",
    "location_source": "定位资料来源",
    "coord_method": "坐标取得方式",
    "source_crs": "坐标来源坐标系",
    "area_stated": "资料所载面积",
    "co_located_with": "与之共用示意点的要素",
}


# --------------------------------------------------------------------------- shared helpers


def _read_table(name: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
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


def _number(text: str) -> float:
    """``float(text)`` or NaN for an empty cell."""
    text = (text or "").strip()
    return float(text) if text else np.nan


def _gazetteer_citation(profile: Profile, table: str) -> str:
    """``jlp_geo gazetteer layers/<table> (<date>)`` from the profile's data sources."""
    date = next((str(s.get("date", "")) for s in profile.data_sources if s.get("id") == "gazetteer"), "")
    return f"jlp_geo gazetteer layers/{table}" + (f" ({date})" if date else "")


def _plan_clause_text(key: str) -> str:
    """Full text of a quoted clause from ``layers/plan_clauses.csv``."""
    clauses = _read_table("plan_clauses.csv", ("key", "document", "clause", "text")).set_index("key")
    if key not in clauses.index:
        raise InputDataError(
            f"clause {key!r} not found",
            where=str(Path(get_settings().layers_dir) / "plan_clauses.csv"),
            fix="restore the file from the repository",
        )
    return str(clauses.loc[key, "text"])


def _user_layer(user: gpd.GeoDataFrame, layer: str, default_precision: str = "indicative") -> gpd.GeoDataFrame:
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


# --------------------------------------------------------------------------- parks


def _colocated(names: list[str], points: list[Point | None]) -> list[str]:
    """For each point, the other names drawn at exactly the same coordinate."""
    out = []
    for i, p in enumerate(points):
        if p is None:
            out.append("")
            continue
        others = [n for j, (n, q) in enumerate(zip(names, points)) if j != i and q is not None and q.equals(p)]
        out.append("、".join(others))
    return out


def build_parks(profile: Profile, user: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The 一港九园三区 layer (13 plan features + 2 existing parks as context).

    Parameters
    ----------
    profile
        Study-area profile (for the plan's citation and the gazetteer date).
    user
        Optional features read from a planner's file (e.g. official park boundaries);
        they replace the defaults, keeping their attributes (see :func:`_user_layer`).

    Returns
    -------
    GeoDataFrame
        EPSG:4490.  One row per feature with ``kind`` (一港/九园/三区, or
        ``existing park``), ``role`` (``plan item``/``context``), ``in_plan``,
        ``definition`` (what 名词解释 2 says of it), ``plan_text`` (the full sentence),
        ``plan_clause``, and the location's ``location_status``, ``location_evidence``,
        ``location_source``.  Located features are indicative points with
        ``uncertainty_m`` from the gazetteer; the others have no geometry and
        ``location_status`` says why.
    """
    if user is not None:
        return _user_layer(user, "parks", "indicative")

    plan = _read_table("parks_plan.csv", ("name_zh", "kind", "role", "definition", "clause", "plan_mention"))
    gaz = _read_table(
        "parks.csv",
        ("name_zh", "name_en", "kind", "lon_wgs84", "lat_wgs84", "uncertainty_m", "evidence", "source", "location_status"),
    )
    gaz = gaz.drop_duplicates("name_zh").set_index("name_zh")
    glossary = _plan_clause_text("glossary_2")
    plan_doc = profile.document("plan")
    gaz_cite = _gazetteer_citation(profile, "parks.csv")

    records: list[dict] = []
    points: list[Point | None] = []
    for row in plan.itertuples(index=False):
        g = gaz.loc[row.name_zh] if row.name_zh in gaz.index else None
        in_plan = row.role == "plan item"
        if in_plan:
            source = f"{plan_doc} {row.clause}"
        elif row.clause:
            source = f"{plan_doc} {row.clause}（仅提及，不属于“一港九园三区”）; {gaz_cite}"
        else:
            source = f"{gaz_cite}: {g['source'] if g is not None else ''}".rstrip(": ")
        lon = _number(g["lon_wgs84"]) if g is not None else np.nan
        lat = _number(g["lat_wgs84"]) if g is not None else np.nan
        located = bool(np.isfinite(lon) and np.isfinite(lat))
        if g is None:
            status = "not located – not in the gazetteer (layers/parks.csv)"
        else:
            method = g.get("coord_method", "")
            head = "located (indicative point)" if located else "not located"
            status = f"{head} – {g['location_status']}: {method}".rstrip(": ")
        points.append(Point(lon, lat) if located else None)
        records.append(
            {
                "name_zh": row.name_zh,
                "name_en": g["name_en"] if g is not None else "",
                "source": source,
                "precision": "indicative",
                "uncertainty_m": _number(g["uncertainty_m"]) if (g is not None and located) else np.nan,
                "kind": row.kind,
                "role": row.role,
                "in_plan": in_plan,
                "definition": row.definition,
                "plan_text": glossary if in_plan else row.plan_mention,
                "plan_clause": row.clause,
                "town_or_street": g.get("town_or_street", "") if g is not None else "",
                "location_status": status,
                "location_evidence": g["evidence"] if g is not None else "",
                "location_source": f"{gaz_cite}: {g['source']}" if g is not None else gaz_cite,
                "coord_method": g.get("coord_method", "") if g is not None else "",
                "source_crs": g.get("source_crs", "") if g is not None else "",
                "area_stated": g.get("area_stated", "") if g is not None else "",
            }
        )
    co = _colocated([r["name_zh"] for r in records], points)
    for r, c in zip(records, co):
        r["co_located_with"] = c
    return finish_layer(records, geometry=points, crs="EPSG:4326", layer="parks")
