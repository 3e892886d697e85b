"""planned_facilities: every quote verbatim from seed 004, honest locations, valid categories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jlp_geo.layers.categories import load_categories
from jlp_geo.layers.planned import build_planned_facilities

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "004_0e5ab62d54747a3f.txt"
GAZ = Path(__file__).resolve().parents[1] / "layers" / "townships.csv"


def test_planned_facilities_quote_the_plan_and_never_invent_sites() -> None:
    g = build_planned_facilities()
    assert len(g) == 21 and g.crs.to_epsg() == 4490
    if SEED.is_file():  # the seed documents live beside the repository
        text = SEED.read_text(encoding="utf-8")
        for quote, clause in zip(g["plan_text"], g["plan_clause"]):
            assert quote in text, clause
    for name in ("区图书馆新馆", "全民健身运动中心", "太平山便民活动中心", "黄桷坪街道社区卫生服务中心", "区级托育综合服务中心"):
        assert name in set(g["name_zh"])
    located = g[g["located"]]
    assert sorted(located["plan_id"]) == ["P05", "P12"]
    assert (located["precision"] == "indicative").all() and (located["uncertainty_m"] >= 800).all()
    assert g.loc[~g["located"], "geometry"].isna().all() and g.loc[~g["located"], "uncertainty_m"].isna().all()
    # located ones sit exactly on the label point of the 镇街 their text names (gazetteer), nowhere else
    towns = pd.read_csv(GAZ).set_index("name_zh")
    for pid, town in (("P12", "黄桷坪街道"), ("P05", "杨家坪街道")):
        pt = g.loc[g["plan_id"] == pid].geometry.iloc[0]
        assert town[:3] in g.loc[g["plan_id"] == pid, "name_zh"].iloc[0]
        assert np.allclose([pt.x, pt.y], [towns.loc[town, "lon_wgs84"], towns.loc[town, "lat_wgs84"]], atol=1e-6)
        assert g.loc[g["plan_id"] == pid, "uncertainty_m"].iloc[0] == towns.loc[town, "uncertainty_m"]
    ids = {c.id for c in load_categories()}
    assert set(g["category"]) - {""} <= ids
