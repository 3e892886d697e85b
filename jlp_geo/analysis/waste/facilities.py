"""A planner's facilities file used by the waste analysis too: each feature matched to the plan's facility.

``jlp-geo build --waste-facilities FILE`` replaces the atlas layer; the waste analysis (haul, catchments,
邻避 screens) must then use the same sites.  The plan's figures (capacities, fill volumes) belong to the
plan's facilities, so each user feature is matched to one: by a ``facility_id`` column when the file has one,
else by its name (``name_zh`` equal to, or containing / contained in, the plan's name or gazetteer name).
Plan facilities the file does not give are kept without a site (not hauled to, said so); features matching
no plan facility are named in a ``警告`` line; a file matching none stops the run.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from ...crs import to_storage
from ...errors import InputDataError
from ...notices import warn

__all__ = ["facilities_from_user"]


def _norm(text: object) -> str:
    return "".join(str(text or "").split()).replace("（", "(").replace("）", ")")


def facilities_from_user(user: gpd.GeoDataFrame, plan: gpd.GeoDataFrame, *, where: str = "--waste-facilities") -> gpd.GeoDataFrame:
    """The plan's facilities placed where the user's file puts them.

    Parameters
    ----------
    user
        The user's features (``name_zh``; optional ``facility_id``, ``uncertainty_m``), any CRS.
    plan
        The plan's facilities (:func:`jlp_geo.layers.waste.build_waste_facilities`) with ``facility_id``.
    where
        The option the file came from, for messages.

    Returns
    -------
    GeoDataFrame
        The plan's rows (storage CRS) with the user's geometry, ``uncertainty_m`` and ``source`` where matched;
        unmatched plan rows lose their site (``geometry`` None) and say so in ``site_text``.

    Raises
    ------
    InputDataError
        No feature of the file matches a plan facility.
    """
    user = to_storage(user).reset_index(drop=True)
    out = to_storage(plan).reset_index(drop=True).copy()
    ids = list(out["facility_id"])
    keys = {fid: {_norm(out.at[i, "name_zh"])} | ({_norm(out.at[i, "gazetteer_name_zh"])} if "gazetteer_name_zh" in out.columns else set())
            for i, fid in enumerate(ids)}
    matched: dict[str, int] = {}
    unmatched: list[str] = []
    for j, row in user.iterrows():
        fid = str(row.get("facility_id") or "").strip() if "facility_id" in user.columns else ""
        if fid not in keys:
            name = _norm(row.get("name_zh"))
            hits = [f for f, ks in keys.items() if name and any(name == k or (len(name) >= 4 and (name in k or k in name)) for k in ks)]
            fid = hits[0] if len(hits) == 1 else ""
        if fid and fid not in matched:
            matched[fid] = j
        else:
            unmatched.append(str(row.get("name_zh", j + 1)))
    if not matched:
        raise InputDataError(
            f"none of the {len(user)} feature(s) of the facilities file matches a facility of the waste plan "
            f"({'、'.join(unmatched[:6])}), so the waste analysis cannot use it",
            where=where,
            fix="add a facility_id column with one of: " + ", ".join(ids) + " (or use the plan's names in name_zh)",
        )
    source = str(user.attrs.get("source_file") or "user file")
    geoms = list(out.geometry)
    for i, fid in enumerate(ids):
        if fid in matched:
            u = user.iloc[matched[fid]]
            geoms[i] = u.geometry
            unc = u.get("uncertainty_m") if "uncertainty_m" in user.columns else np.nan
            out.at[i, "uncertainty_m"] = float(unc) if unc is not None and np.isfinite(float(unc)) else np.nan
            out.at[i, "source"] = f"{out.at[i, 'source']}; site from {where} {source}"
        else:
            geoms[i] = None
            if "site_text" in out.columns:
                out.at[i, "site_text"] = f"not in {where} {source}: no site used"
    out = out.set_geometry(gpd.GeoSeries(geoms, crs=out.crs))
    missing = [out.at[i, "name_zh"] for i, fid in enumerate(ids) if fid not in matched]
    if unmatched or missing:
        warn(f"{where}: {len(matched)} 处设施与规划设施对应；" + (f"{len(unmatched)} 处未对应（{'、'.join(unmatched[:6])}）不参加运距分析；" if unmatched else "")
             + (f"规划设施 {'、'.join(missing)} 不在文件中，按未定位处理" if missing else "")
             + f" — {len(matched)} feature(s) matched the plan's facilities; unmatched ones are shown in the atlas but not hauled to "
             "(give a facility_id column to match them)")
    return out
