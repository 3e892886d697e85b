"""jlp_geo.waste: the balance recomputed from the plan's own figures, the transportation problem against
brute force and networkx, haul distances against independent computations, generation allocation and screens.

The plan figures below are typed in from the seed text (建筑垃圾规划 第七、八、十六、十八、十九、二十七条,
附表1–4), independently of ``layers/waste_plan_*.csv``; networks, receptors and rasters are synthetic.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon

from jlp_geo.config import load_profile
from jlp_geo.errors import InputDataError, ProfileError
from jlp_geo.network import drive_network_from_osm, drive_exclusion_reason
from jlp_geo.settings import configure, get_settings
from jlp_geo.analysis.waste import (
    TYPES,
    PopulationData,
    route_residential_length as _route_residential,
    allocate_generation,
    balance_table,
    landfill_life_table,
    load_parameters,
    network_costs,
    plan_figures,
    read_generation_file,
    siting_screens,
    solve_transport,
    straight_line_costs,
    straight_line_label,
)

# ---- the plan's figures, from the text
SPOIL, SLURRY = 157.76, 15.78  # 第七条（一）（二） 万立方米/年
CONSTR, DEMOL, DECOR = 15.6, 20.77, 31.20  # 第七条（三）（四）（五） 万吨/年
GAP_SORT, GAP_REC, LANDFILL_SOLID, ABSORB = 31.2, 17.3, 20.27, 173.54  # 第八条（一）–（四）
LUOGUDONG, YDW_19, YDW_27 = 400.0, 312.0, 326.0  # 第十九条 / 附表4 ; 第二十七条（二）
SORT_CAP, REC_CAP = 35.0, 20.0  # 第十八条 ; 第十六条（一）
R70, R73 = 0.70, 0.73  # 附表1
METRIC = "EPSG:4544"


@pytest.fixture(scope="module")
def profile():
    return load_profile()


@pytest.fixture(scope="module")
def params():
    return load_parameters()


@pytest.fixture(scope="module")
def balance(profile, params):
    return balance_table(profile, params).set_index("check_id")


def v(balance: pd.DataFrame, key: str) -> float:
    return float(balance.loc[key, "value"])


# --------------------------------------------------------------------------- balance


def test_spoil_slurry_balance_and_landfill_life(balance) -> None:
    assert v(balance, "ss_generation") == pytest.approx(SPOIL + SLURRY, abs=1e-9)
    assert SPOIL + SLURRY == pytest.approx(ABSORB, abs=1e-9)  # the plan's 需消纳量 is the whole generation
    assert "equals plan" in balance.loc["ss_generation", "status"] and not balance.loc["ss_generation", "flag"]
    assert v(balance, "ss_landfilled") == pytest.approx(ABSORB)
    assert v(balance, "ss_years_landfill_luogudong_400") == pytest.approx(LUOGUDONG / ABSORB, abs=1e-9)
    assert round(LUOGUDONG / ABSORB, 3) == 2.305
    assert v(balance, "ss_years_landfill_yandongwan_312") == pytest.approx(YDW_19 / ABSORB, abs=1e-9)
    assert v(balance, "ss_years_landfill_yandongwan_326") == pytest.approx(YDW_27 / ABSORB, abs=1e-9)
    assert v(balance, "ss_fill_total_712") == LUOGUDONG + YDW_19
    assert v(balance, "ss_fill_total_726") == LUOGUDONG + YDW_27
    assert v(balance, "ss_years_total_712") == pytest.approx((LUOGUDONG + YDW_19) / ABSORB, abs=1e-9)  # 4.1028
    assert v(balance, "ss_years_total_726") == pytest.approx((LUOGUDONG + YDW_27) / ABSORB, abs=1e-9)  # 4.1835
    assert v(balance, "ss_conflict_effect") == pytest.approx((YDW_27 - YDW_19) / ABSORB, abs=1e-9)
    assert balance.loc["ss_years_total_712", "formula"] == "712 ÷ 173.54"
    assert balance.loc["ss_generation", "formula"] == "157.76 + 15.78"


def test_the_312_326_conflict_is_flagged(balance, profile, params) -> None:
    for key in ("ss_fill_landfill_yandongwan_312", "ss_fill_landfill_yandongwan_326", "ss_conflict_effect"):
        assert balance.loc[key, "flag"], key
        assert "conflict" in balance.loc[key, "status"]
    assert "第二十七条（二）" in balance.loc["ss_fill_landfill_yandongwan_326", "clauses"]
    assert balance.loc["ss_fill_landfill_yandongwan_312", "clauses"] == "第十九条、附表4"
    assert not balance.loc["ss_fill_landfill_luogudong_400", "flag"]  # 400 agrees in all three clauses
    life = landfill_life_table(profile, params)
    ydw = life[life["landfill"] == "陶家镇治安村岩洞湾渣土填埋场"]
    assert sorted(set(ydw["fill_wm3"])) == [YDW_19, YDW_27] and ydw["conflict"].all()
    plan = life[life["scenario"] == "plan"].set_index("fill_wm3")
    assert plan.loc[712.0, "years_until_full"] == pytest.approx(712 / ABSORB)
    assert plan.loc[726.0, "full_in_year"] == pytest.approx(params.start_year + 726 / ABSORB)


def test_decoration_and_construction_demolition(balance) -> None:
    assert v(balance, "dec_generation") == DECOR and v(balance, "dec_capacity") == SORT_CAP
    assert v(balance, "dec_gap") == GAP_SORT and "equals generation" in balance.loc["dec_gap", "status"]
    assert v(balance, "dec_balance") == pytest.approx(SORT_CAP - DECOR)  # 3.8
    assert v(balance, "dec_utilisation") == pytest.approx(100 * DECOR / SORT_CAP)  # 89.14 %
    assert not balance.loc["dec_balance", "flag"]
    assert v(balance, "cd_generation") == pytest.approx(CONSTR + DEMOL)  # 36.37
    assert v(balance, "cd_gap") == GAP_REC and v(balance, "cd_capacity") == REC_CAP
    assert v(balance, "cd_gap_cover") == pytest.approx(REC_CAP - GAP_REC)  # +2.7: the plant covers the stated gap
    assert v(balance, "cd_vs_generation") == pytest.approx(REC_CAP - (CONSTR + DEMOL))  # −16.37
    assert balance.loc["cd_vs_generation", "flag"] and not balance.loc["cd_gap_cover", "flag"]


def test_targets_and_what_they_imply(balance, params) -> None:
    solid = CONSTR + DEMOL + DECOR
    assert v(balance, "tgt_solid_total") == pytest.approx(67.57)
    assert v(balance, "tgt_recovery_needed") == pytest.approx(R70 * solid)  # 47.299
    # the plan's landfill intake of solid waste (第八条（三）) is exactly the 30 % the 70 % target leaves
    assert v(balance, "tgt_landfill_solid") == pytest.approx((1 - R70) * solid)
    assert round((1 - R70) * solid, 2) == LANDFILL_SOLID and "equals plan" in balance.loc["tgt_landfill_solid", "status"]
    assert v(balance, "tgt_implied_existing") == pytest.approx(R70 * solid - GAP_REC)  # ≈ 30.0, not stated by the plan
    assert v(balance, "tgt_planned_recovery") == pytest.approx(REC_CAP - R70 * solid)
    rho = params.density_t_per_m3
    total_t = solid + ABSORB * rho
    assert v(balance, "tgt_comprehensive_if_landfilled") == pytest.approx(100 * R70 * solid / total_t)
    need = (R73 * total_t - R70 * solid) / rho
    assert v(balance, "tgt_ss_use_needed") == pytest.approx(need)
    assert v(balance, "tgt_ss_landfilled_at_73") == pytest.approx(ABSORB - need)
    assert v(balance, "tgt_years_at_73_712") == pytest.approx(712 / (ABSORB - need))
    assert balance.loc["tgt_comprehensive_if_landfilled", "flag"]


def test_comprehensive_target_unreachable_for_any_density(profile) -> None:
    """With all spoil/slurry landfilled the 综合利用率 stays below 70 % < 73 % whatever the density."""
    solid = CONSTR + DEMOL + DECOR
    for rho in (0.01, 0.5, 1.5, 1.8, 2.0, 3.0):
        b = balance_table(profile, load_parameters(density_t_per_m3=rho)).set_index("check_id")
        rate = v(b, "tgt_comprehensive_if_landfilled")
        assert rate == pytest.approx(100 * R70 * solid / (solid + ABSORB * rho))
        assert rate < 70.0  # and so below the 73 % target


def test_landfilled_share_parameter(profile) -> None:
    b = balance_table(profile, load_parameters(landfilled_share=0.5)).set_index("check_id")
    assert v(b, "ss_landfilled") == pytest.approx(ABSORB / 2)
    assert v(b, "ss_years_total_712") == pytest.approx(712 / (ABSORB / 2))


def test_units_are_never_converted_silently(tmp_path: Path, profile) -> None:
    layers = tmp_path / "layers"
    shutil.copytree(get_settings().layers_dir, layers)
    f = layers / "waste_plan_forecast.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("15.78,万立方米/年", "15.78,万吨/年"), encoding="utf-8")
    old = get_settings().layers_dir
    configure(layers_dir=layers)
    try:
        with pytest.raises(InputDataError, match="万立方米/年"):
            plan_figures(profile)
    finally:
        configure(layers_dir=old)


def test_plan_figures_read_every_clause(profile) -> None:
    fig = plan_figures(profile)
    assert fig.generation == {"spoil": SPOIL, "slurry": SLURRY, "construction": CONSTR, "demolition": DEMOL, "decoration": DECOR}
    assert fig.fill["landfill_yandongwan"] == [(312.0, "第十九条、附表4"), (326.0, "第二十七条（二）")]
    assert fig.fill_values("landfill_luogudong") == [400.0]
    assert fig.capacity == {"sorting_huayan": SORT_CAP, "recycling_plant": REC_CAP}
    assert fig.targets == {"Resource-recovery rate": 70.0, "Comprehensive utilisation rate": 73.0, "Share using the smart supervision platform": 100.0}


def test_parameters_are_checked(tmp_path: Path) -> None:
    p = load_parameters()
    assert p.detour_factor == 1.4 and p.buffers_m == (500.0, 1000.0) and p.landfilled_share == 1.0
    assert [c.id for c in p.receptors] == ["school", "hospital", "elderly", "residential"]
    text = (get_settings().layers_dir / "waste_parameters.yml").read_text(encoding="utf-8")
    bad = tmp_path / "p.yml"
    bad.write_text(text.replace("factor: 1.4", "factor: 0.8"), encoding="utf-8")
    with pytest.raises(ProfileError, match="detour"):
        load_parameters(bad)
    bad.write_text(text.replace("landfilled_share: 1.0", "landfilled_share: 1.5"), encoding="utf-8")
    with pytest.raises(ProfileError, match="landfilled_share"):
        load_parameters(bad)


# --------------------------------------------------------------------------- transportation problem


def _brute_force(supply, capacity, cost):
    """Enumerate every integer allocation (transportation problems have integral optimal vertices)."""
    best = np.inf
    n, m = cost.shape
    ranges = [range(int(s) + 1) for s in supply for _ in range(m - 1)]
    for combo in itertools.product(*ranges):
        x = np.zeros((n, m))
        ok = True
        for i in range(n):
            first = combo[i * (m - 1):(i + 1) * (m - 1)]
            if sum(first) > supply[i]:
                ok = False
                break
            x[i, : m - 1] = first
            x[i, m - 1] = supply[i] - sum(first)
        if ok and (x.sum(axis=0) <= capacity + 1e-9).all():
            best = min(best, float((x * cost).sum()))
    return best


def test_transport_matches_brute_force_3x2() -> None:
    supply = np.array([4.0, 3.0, 5.0])
    capacity = np.array([6.0, 7.0])
    cost = np.array([[2.0, 9.0], [3.0, 4.0], [8.0, 5.0]])
    sol = solve_transport(supply, capacity, cost)
    assert sol.cost == pytest.approx(_brute_force(supply, capacity, cost))
    assert sol.cost == pytest.approx(4 * 2 + 2 * 3 + 1 * 4 + 5 * 5)  # 43: nearest-first would overload facility 0
    np.testing.assert_allclose(sol.flow.sum(axis=1), supply, atol=1e-9)
    assert (sol.flow.sum(axis=0) <= capacity + 1e-9).all()
    assert sol.unserved.sum() == pytest.approx(0.0)


def test_transport_matches_networkx_with_shortage_and_missing_routes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        n, m = 5, 3
        supply = rng.integers(1, 9, n).astype(float)
        capacity = rng.integers(2, 10, m).astype(float)
        cost = rng.integers(1, 30, (n, m)).astype(float)
        cost[rng.random((n, m)) < 0.2] = np.inf
        sol = solve_transport(supply, capacity, cost)
        g = nx.DiGraph()
        big = int(cost[np.isfinite(cost)].max()) * 20 + 1
        for i in range(n):
            g.add_node(f"o{i}", demand=-int(supply[i]))
            g.add_edge(f"o{i}", "unserved", weight=big, capacity=int(supply[i]))
            for j in range(m):
                if np.isfinite(cost[i, j]):
                    g.add_edge(f"o{i}", f"f{j}", weight=int(cost[i, j]), capacity=int(supply[i]))
        for j in range(m):
            g.add_edge(f"f{j}", "sink", weight=0, capacity=int(capacity[j]))
        g.add_edge("unserved", "sink", weight=0, capacity=int(supply.sum()))
        g.add_node("sink", demand=int(supply.sum()))
        flow = nx.min_cost_flow(g)
        nx_unserved = sum(flow[f"o{i}"]["unserved"] for i in range(n))
        nx_cost = sum(flow[f"o{i}"].get(f"f{j}", 0) * cost[i, j] for i in range(n) for j in range(m) if np.isfinite(cost[i, j]))
        assert sol.unserved.sum() == pytest.approx(nx_unserved)
        assert sol.cost == pytest.approx(nx_cost)
        assert (sol.flow.sum(axis=0) <= capacity + 1e-7).all()
        assert (sol.flow[~np.isfinite(cost)] == 0).all()
        np.testing.assert_allclose(sol.flow.sum(axis=1) + sol.unserved, supply, atol=1e-7)


def test_transport_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        solve_transport(np.ones(2), np.ones(2), np.ones((3, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        solve_transport(np.array([-1.0]), np.ones(1), np.ones((1, 1)))


# --------------------------------------------------------------------------- haul distances


def test_straight_line_costs_against_geodesic() -> None:
    lonlat_o = [(106.50, 29.52), (106.32, 29.33)]
    lonlat_f = [(106.443, 29.478), (106.371, 29.381)]
    t = Transformer.from_crs("EPSG:4490", METRIC, always_xy=True)
    ox, oy = t.transform(*zip(*lonlat_o))
    fx, fy = t.transform(*zip(*lonlat_f))
    hc = straight_line_costs(np.array(ox), np.array(oy), np.array(fx), np.array(fy), 1.4)
    geod = Geod(ellps="GRS80")
    for i, (lo, la) in enumerate(lonlat_o):
        for j, (lf, laf) in enumerate(lonlat_f):
            d = geod.inv(lo, la, lf, laf)[2] / 1000 * 1.4
            assert hc.km[i, j] == pytest.approx(d, rel=2e-3)  # Gauss–Krüger scale error near CM 105E is < 0.1 %
    assert set(hc.method.ravel()) == {straight_line_label(1.4)}
    assert "直线" in straight_line_label(1.4) and "1.4" in straight_line_label(1.4)


def _grid_osm():
    """A 6×6 street grid of 500 m (synthetic) near Jiulongpo, with a one-way street, a footway and hgv=no."""
    t = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    x0, y0 = 500_000.0, 3_260_000.0  # EPSG:4544 metres (≈106.47E 29.46N)
    ids, xs, ys = [], [], []
    for r in range(6):
        for c in range(6):
            ids.append(r * 6 + c + 1)
            xs.append(x0 + 500 * c)
            ys.append(y0 + 500 * r)
    lon, lat = t.transform(xs, ys)
    nodes = pd.DataFrame({"id": ids, "lon": lon, "lat": lat, "tags": [{}] * len(ids)})
    ways = []
    wid = 100
    for r in range(6):
        tags = {"highway": "secondary"}
        if r == 2:
            tags = {"highway": "secondary", "oneway": "yes"}  # west -> east only
        if r == 4:
            tags = {"highway": "residential", "hgv": "no"}  # not for haul trucks
        ways.append((wid, [r * 6 + c + 1 for c in range(6)], tags))
        wid += 1
    for c in range(6):
        tags = {"highway": "tertiary"} if c != 3 else {"highway": "footway"}
        ways.append((wid, [r * 6 + c + 1 for r in range(6)], tags))
        wid += 1
    ways_df = pd.DataFrame({"id": [w[0] for w in ways], "refs": [w[1] for w in ways], "tags": [w[2] for w in ways]})
    return nodes, ways_df, (x0, y0)


def test_drive_filter_and_oneway() -> None:
    assert drive_exclusion_reason({"highway": "primary"}) is None
    assert drive_exclusion_reason({"highway": "unclassified"}) is None
    for tags, reason in [
        ({"highway": "footway"}, "highway=footway"), ({"highway": "service", "service": "driveway"}, "highway=service"),
        ({"highway": "tertiary", "hgv": "no"}, "hgv=no"), ({"highway": "primary", "motor_vehicle": "no"}, "motor_vehicle=no"),
        ({"highway": "residential", "access": "private"}, "access=private"), ({"building": "yes"}, "no highway"),
    ]:
        assert drive_exclusion_reason(tags) == reason
    nodes, ways, _ = _grid_osm()
    net = drive_network_from_osm(nodes, ways, METRIC)
    assert net.meta["ways_dropped"] == {"highway=footway": 1, "hgv=no": 1}
    # 5 kept rows × 5 segments (one one-way) + 5 kept columns × 5 segments, both directions except the one-way
    assert net.n_edges == (4 * 5 * 2 + 5) + 5 * 5 * 2
    assert net.meta["oneway_ways"] == 1
    assert np.allclose(net.length_m, 500.0, atol=1e-6)


def test_network_costs_equal_networkx_and_fall_back_when_off_network() -> None:
    nodes, ways, (x0, y0) = _grid_osm()
    net = drive_network_from_osm(nodes, ways, METRIC)
    # independent graph: the same grid built here with networkx, the excluded ways left out by hand
    g = nx.DiGraph()
    for wid, refs, tags in ways.itertuples(index=False):
        if tags.get("highway") == "footway" or tags.get("hgv") == "no":
            continue
        for a, b in itertools.pairwise(refs):
            g.add_edge(a, b, weight=500.0)
            if tags.get("oneway") != "yes":
                g.add_edge(b, a, weight=500.0)
    ox = np.array([x0 + 2500 + 30, x0 + 1000 - 40, x0 + 90_000])  # the last is far off the network
    oy = np.array([y0 + 1000 + 20, y0 + 2500, y0])
    fx = np.array([x0 + 10, x0 + 2000])
    fy = np.array([y0 + 1000, y0 + 1500 + 25])
    hc = network_costs(net, ox, oy, fx, fy, detour=1.4, snap_max_m=300)
    node_of = {(round(x0 + 500 * c), round(y0 + 500 * r)): r * 6 + c + 1 for r in range(6) for c in range(6)}
    snaps_o = [((x0 + 2500, y0 + 1000), 36.0555), ((x0 + 1000, y0 + 2500), 40.0)]
    snaps_f = [((x0, y0 + 1000), 10.0), ((x0 + 2000, y0 + 1500), 25.0)]
    for i, ((oxy), od) in enumerate(snaps_o):
        for j, ((fxy), fd) in enumerate(snaps_f):
            d = nx.shortest_path_length(g, node_of[(round(oxy[0]), round(oxy[1]))], node_of[(round(fxy[0]), round(fxy[1]))], weight="weight")
            assert hc.km[i, j] == pytest.approx((d + od + fd) / 1000, abs=1e-4)
            assert hc.method[i, j] == "network"
            assert hc.routes[i][j].length == pytest.approx(d + od + fd, abs=1e-3)
    # row 2 is one-way eastward: from (2500, 1000) westward the truck must detour via row 1 or 3
    assert hc.km[0, 0] == pytest.approx((500 + 2500 + 500 + 36.0555 + 10) / 1000, abs=1e-4)
    assert "off the network" in hc.method[2, 0] and hc.km[2, 0] == pytest.approx(np.hypot(90_000 - 10, 1000) / 1000 * 1.4)


# --------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def scope_towns(profile):
    names = [t.name_zh for t in profile.townships if t.administered_by == "district"]
    boxes = [Polygon([(106.3 + 0.02 * i, 29.4), (106.31 + 0.02 * i, 29.4), (106.31 + 0.02 * i, 29.41), (106.3 + 0.02 * i, 29.41)]) for i in range(len(names))]
    return gpd.GeoDataFrame({"name_zh": names, "uncertainty_m": 1000.0}, geometry=boxes, crs="EPSG:4490")


def test_area_allocation_conserves_the_plan_totals(profile, scope_towns) -> None:
    fig = plan_figures(profile)
    area = {t.name_zh: t.area_km2 for t in profile.townships}
    gen = allocate_generation(scope_towns, fig, area, "area")
    assert len(gen) == 13
    assert sum(area[n] for n in gen["name_zh"]) == pytest.approx(235.73)  # directly administered area (profile)
    for t, total in fig.generation.items():
        assert gen[t].sum() == pytest.approx(total, abs=1e-9)
    xp = gen.set_index("name_zh").loc["西彭镇"]
    assert xp["share"] == pytest.approx(88.25 / 235.73)
    assert xp["spoil_slurry"] == pytest.approx((SPOIL + SLURRY) * 88.25 / 235.73)
    assert xp["construction_demolition"] == pytest.approx((CONSTR + DEMOL) * 88.25 / 235.73)
    assert "allocated by area" in xp["generation_basis"]


def test_generation_file_user_figures_and_activity(tmp_path: Path, profile, scope_towns) -> None:
    scope = list(scope_towns["name_zh"])
    f = tmp_path / "gen.csv"
    f.write_text("name_zh,spoil,activity,source\n陶家镇,100,3,测试\n西彭镇,50.5,1,测试\n", encoding="utf-8-sig")
    user = read_generation_file(f, scope)
    fig = plan_figures(profile)
    gen = allocate_generation(scope_towns, fig, {n: float(user["activity"].get(n, 0.0)) for n in scope}, "activity", user=user).set_index("name_zh")
    assert gen.loc["陶家镇", "spoil"] == 100 and gen.loc["西彭镇", "spoil"] == 50.5 and gen["spoil"].sum() == pytest.approx(150.5)
    assert gen.loc["陶家镇", "slurry"] == pytest.approx(SLURRY * 3 / 4) and gen.loc["杨家坪街道", "slurry"] == 0.0
    assert gen["decoration"].sum() == pytest.approx(DECOR)
    assert "用户数据" in gen["generation_basis"].iloc[0] and "工程渣土" in gen["generation_basis"].iloc[0]
    f.write_text("name_zh,spoil\n白市驿镇,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="out-of-scope"):
        read_generation_file(f, scope)  # 白市驿 is run by 重庆高新区, outside the plan (第二条)
    f.write_text("name_zh,spoil\n陶家镇,-1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"line\(s\) \[2\]"):
        read_generation_file(f, scope)
    f.write_text("name_zh,tonnes\n陶家镇,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="none of the columns"):
        read_generation_file(f, scope)
    assert set(TYPES) == {"spoil", "slurry", "construction", "demolition", "decoration"}


# --------------------------------------------------------------------------- screens


def test_siting_screens_count_receptors_and_people() -> None:
    t = Transformer.from_crs("EPSG:4490", METRIC, always_xy=True)
    fx, fy = t.transform(106.443, 29.478)
    fac = gpd.GeoDataFrame({"facility_id": ["f"], "name_zh": ["测试设施"], "uncertainty_m": [3000.0]}, geometry=[Point(fx, fy)], crs=METRIC)
    rec = gpd.GeoDataFrame(
        {"receptor": ["school", "school", "hospital", "residential"], "name_zh": ["近校", "中校", "远院", "小区"]},
        geometry=[Point(fx + 300, fy), Point(fx, fy - 800), Point(fx + 2500, fy),
                  Polygon([(fx + 200, fy - 100), (fx + 700, fy - 100), (fx + 700, fy + 100), (fx + 200, fy + 100)])],
        crs=METRIC,
    )
    # population: 1 person per point on a 50 m lattice (synthetic)
    gx, gy = np.meshgrid(np.arange(-2000, 2001, 50.0), np.arange(-2000, 2001, 50.0))
    pop = PopulationData("raster", "test", xs=(fx + gx).ravel(), ys=(fy + gy).ravel(), values=np.ones(gx.size), cell_km2=0.0025)
    s = siting_screens(fac, [500, 1000], receptors=rec, receptor_names={"school": "学校", "hospital": "医院", "residential": "居住"},
                       population=pop, crs=METRIC).set_index("buffer_m")
    assert s.loc[500, "n_school"] == 1 and s.loc[1000, "n_school"] == 2 and s.loc[500, "names_school"] == "近校"
    assert s.loc[1000, "n_hospital"] == 0 and s.loc[1000, "n_hospital_possible"] == 1  # within 1000 + 3000 m
    assert s.loc[500, "nearest_m_hospital"] == pytest.approx(2500)
    assert s.loc[500, "n_residential"] == 1
    assert s.loc[500, "area_ha_residential"] == pytest.approx(Point(0, 0).buffer(500, 64).intersection(Polygon([(200, -100), (700, -100), (700, 100), (200, 100)])).area / 1e4)
    for b in (500, 1000):  # independent count of lattice points within b
        assert s.loc[b, "population"] == int((np.hypot(gx, gy) < b).sum())  # points on the circle are outside
        assert s.loc[b, "possible_radius_m"] == b + 3000
    assert "indicative" in s.loc[500, "note"]
    none = siting_screens(fac, [500], receptors=None, receptor_names={"school": "学校"}, population=None, crs=METRIC)
    assert np.isnan(none["n_school"].iloc[0]) and "no OSM" in none["note"].iloc[0] and "not assessed" in none["population_method"].iloc[0]


def test_route_through_residential_land() -> None:
    route = LineString([(0, 0), (1000, 0)])
    res = Polygon([(200, -50), (500, -50), (500, 50), (200, 50)])
    assert _route_residential(route, res) == pytest.approx(300.0)
    assert np.isnan(_route_residential(route, None))


def test_route_share_through_dense_cells() -> None:
    from jlp_geo.analysis.waste import route_dense_share as _route_dense_share

    # 100 m cells (0.01 km²) along y = 0 from x = 0 to 1000; the first 4 hold 200 people (20 000/km²), the rest 50
    xs = np.arange(50.0, 1000.0, 100.0)
    pop = PopulationData("raster", "test", xs=xs, ys=np.zeros(xs.size), values=np.where(xs < 400, 200.0, 50.0), cell_km2=0.01)
    assert _route_dense_share(LineString([(0, 0), (1000, 0)]), pop, 10_000) == pytest.approx(0.4)
    assert _route_dense_share(LineString([(0, 0), (1000, 0)]), pop, 4_000) == pytest.approx(1.0)
    assert _route_dense_share(LineString([(0, 5000), (1000, 5000)]), pop, 1) == 0.0  # far from every cell
    assert np.isnan(_route_dense_share(LineString([(0, 0), (1000, 0)]), None, 1))
