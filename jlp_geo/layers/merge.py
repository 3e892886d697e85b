"""One service list from several sources: OSM + facility lists + POI exports (+ the plan's new ones).

The same kindergarten often appears in OSM, in the education bureau's list and in
an Amap export.  :func:`merge_services` merges, per category, point services of
*different* sources that lie within ``max_distance_m`` of each other **and** whose
names are similar (``difflib`` ratio ≥ ``min_name_similarity`` on normalised names:
NFKC, no spaces, with and without a bracketed suffix such as ``(华盛路)``).  Both
are stated parameters; unnamed services are never merged (nothing to compare).

Every merged service keeps all its sources: ``sources`` lists each one
(``source: reference``), ``source_kinds`` the kinds (``file+osm+poi``), ``n_sources``
how many.  The geometry and attributes come from the most authoritative source:
an official facility list, then OSM, then a POI export, then the plan.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..crs import require_projected

__all__ = [
    "DEFAULT_MERGE_DISTANCE_M",
    "DEFAULT_NAME_SIMILARITY",
    "KIND_PRIORITY",
    "merge_services",
    "name_similarity",
]

#: services of different sources closer than this (metres) may be one facility
DEFAULT_MERGE_DISTANCE_M = 100.0
#: ... if their names are at least this similar (difflib ratio, 0..1); 0.75 keeps apart names
#: that share only a generic ending ("阳光幼儿园" / "培苗幼儿园" = 0.6)
DEFAULT_NAME_SIMILARITY = 0.75
#: which source's geometry and attributes a merged service takes (lowest first)
KIND_PRIORITY = {"file": 0, "osm": 1, "poi": 2, "plan": 3}
KIND_ZH = {"file": "设施清单 facility list", "osm": "OpenStreetMap", "poi": "POI 导出 POI export", "plan": "规划 plan"}
_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


def _normalise(name: str) -> tuple[str, str]:
    text = unicodedata.normalize("NFKC", str(name or "")).lower()
    text = re.sub(r"\s+", "", text)
    return text, _BRACKETS.sub("", text)


def name_similarity(a: str, b: str) -> float:
    """Similarity of two facility names, 0..1 (0 when either is empty).

    The larger of the difflib ratios of the normalised names with and without
    bracketed parts.

    Examples
    --------
    >>> name_similarity("培苗幼儿园(华盛路)", "培苗幼儿园")
    1.0
    >>> name_similarity("", "培苗幼儿园")
    0.0
    """
    (fa, ba), (fb, bb) = _normalise(a), _normalise(b)
    if not fa or not fb:
        return 0.0
    best = difflib.SequenceMatcher(None, fa, fb).ratio()
    if ba and bb:
        best = max(best, difflib.SequenceMatcher(None, ba, bb).ratio())
    return float(best)


def _prepare(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    f = frame.copy()
    if "source_kind" not in f.columns:
        f["source_kind"] = "osm"
    if "source_ref" not in f.columns:
        f["source_ref"] = [f"{t}/{i}" if t else "" for t, i in zip(f.get("osm_type", ""), f.get("osm_id", ""))]
    return f


def merge_services(
    frames: Sequence[gpd.GeoDataFrame],
    *,
    max_distance_m: float = DEFAULT_MERGE_DISTANCE_M,
    min_name_similarity: float = DEFAULT_NAME_SIMILARITY,
) -> gpd.GeoDataFrame:
    """Merge service rows of several sources into one list (see the module docstring).

    Parameters
    ----------
    frames
        Service tables in the same metric CRS (``services_from_osm``,
        ``services_from_facilities``, ``services_from_pois``, planned facilities).
    max_distance_m
        Largest distance (metres) between two rows of one facility.
    min_name_similarity
        Smallest :func:`name_similarity` of two rows of one facility.

    Returns
    -------
    GeoDataFrame
        One row per service, the columns of the inputs plus ``sources`` (every
        source, ``" | "``-joined), ``source_kinds`` and ``n_sources``;
        ``attrs['merge']`` states the parameters and how many rows were merged.
    """
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        empty = gpd.GeoDataFrame(columns=["category", "source", "sources", "source_kinds", "n_sources"], geometry=[], crs=None)
        empty.attrs["merge"] = {"max_distance_m": max_distance_m, "min_name_similarity": min_name_similarity, "merged_rows": 0}
        return empty
    crs = frames[0].crs
    require_projected(crs, "merge_services")
    allf = pd.concat([_prepare(f.to_crs(crs)) for f in frames], ignore_index=True)
    allf = gpd.GeoDataFrame(allf, geometry=frames[0].geometry.name, crs=crs)
    n = len(allf)
    parent = np.arange(n)
    members: dict[int, set[str]] = {i: {str(s)} for i, s in enumerate(allf["source"].astype(str))}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    included = allf["included"].fillna(True).astype(bool).to_numpy() if "included" in allf.columns else np.ones(n, bool)
    is_point = (allf.geometry.geom_type == "Point").to_numpy() & included
    names = allf["name"].fillna("").astype(str).to_numpy() if "name" in allf.columns else np.full(n, "")
    merged = 0
    pxy = np.full((n, 2), np.nan)
    pxy[is_point] = shapely.get_coordinates(allf.geometry.values[is_point])[:, :2]
    for _, idx in allf[is_point].groupby("category").indices.items():
        rows = np.flatnonzero(is_point)[idx]
        if len(rows) < 2:
            continue
        xy = pxy[rows]
        pairs = cKDTree(xy).query_pairs(max_distance_m, output_type="ndarray")
        if len(pairs) == 0:
            continue
        d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
        for k in np.argsort(d, kind="stable"):
            a, b = rows[pairs[k, 0]], rows[pairs[k, 1]]
            ra, rb = find(a), find(b)
            if ra == rb or members[ra] & members[rb]:
                continue  # already one, or would join two rows of the same source
            if name_similarity(names[a], names[b]) < min_name_similarity:
                continue
            parent[rb] = ra
            members[ra] |= members.pop(rb)
            merged += 1
    roots = np.array([find(i) for i in range(n)])
    rank = allf["source_kind"].map(KIND_PRIORITY).fillna(9).to_numpy()
    order = np.lexsort((np.arange(n), rank, roots))
    label = [f"{s}: {r}" if r else str(s) for s, r in zip(allf["source"].astype(str), allf["source_ref"].astype(str))]
    sources: dict[int, list[str]] = {}
    kinds: dict[int, list[str]] = {}
    for i in order:
        sources.setdefault(roots[i], []).append(label[i])
        kinds.setdefault(roots[i], []).append(str(allf["source_kind"].iloc[i]))
    first = pd.Series(order).groupby(roots[order]).first().to_numpy()
    out = allf.iloc[first].copy()
    out["sources"] = [" | ".join(sources[roots[i]]) for i in first]
    out["source_kinds"] = ["+".join(sorted(set(kinds[roots[i]]), key=lambda k: KIND_PRIORITY.get(k, 9))) for i in first]
    out["n_sources"] = [len(sources[roots[i]]) for i in first]
    out = out.sort_index().reset_index(drop=True)
    out.attrs["merge"] = {"max_distance_m": max_distance_m, "min_name_similarity": min_name_similarity, "merged_rows": merged}
    return out
