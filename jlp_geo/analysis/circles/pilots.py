"""示范 communities the plan names, located from the gazetteer (``layers/other.csv``) or OSM names.

专栏18 第4项 names 民主村 (one of 13 现代社区示范点) and 大堰社区; the other 11 are not named in the
plan or the news features, so they cannot be located.  A pilot is marked on the unit containing its point
only when the point falls inside the data.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...crs import transform_xy
from ...settings import get_settings
from ...sources.osm import OsmData
from .parameters import CircleParameters

__all__ = ["GAZETTEER_FILE", "locate_pilots"]

GAZETTEER_FILE = "other.csv"


def locate_pilots(params: CircleParameters, osm: OsmData, crs: object) -> pd.DataFrame:
    """One row per pilot: ``name_zh``, ``programme``, ``source``, ``basis``, ``x``, ``y`` (in *crs*; NaN if not located)."""
    path = get_settings().layers_dir / GAZETTEER_FILE
    gaz = pd.read_csv(path, encoding="utf-8") if path.is_file() else pd.DataFrame(columns=["name_zh", "lon_wgs84", "lat_wgs84"])
    rows = []
    for p in params.pilots:
        lon = lat = np.nan
        basis = "未定位 not located"
        if p.gazetteer:
            hit = gaz[gaz["name_zh"].astype(str).str.startswith(p.gazetteer) & gaz["lon_wgs84"].notna()]
            if len(hit):
                r = hit.iloc[0]
                lon, lat = float(r["lon_wgs84"]), float(r["lat_wgs84"])
                unc = r.get("uncertainty_m")
                basis = f"layers/other.csv ({r['name_zh']}; ±{float(unc):.0f} m)" if unc == unc else "layers/other.csv"
        if p.osm_name and not np.isfinite(lon):
            pattern = re.compile(p.osm_name)
            for lo, la, tags in zip(osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy(), osm.nodes["tags"]):
                name = (tags or {}).get("name")
                if name and pattern.search(str(name)):
                    lon, lat, basis = float(lo), float(la), f"OSM 名称 {name}"
                    break
        x = y = np.nan
        if np.isfinite(lon):
            xs, ys = transform_xy(np.array([lon]), np.array([lat]), "EPSG:4326", crs)
            x, y = float(xs[0]), float(ys[0])
        rows.append({"name_zh": p.name_zh, "programme": p.programme, "source": p.source, "basis": basis, "x": x, "y": y})
    return pd.DataFrame(rows, columns=["name_zh", "programme", "source", "basis", "x", "y"])
