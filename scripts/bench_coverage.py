"""Benchmark: nearest-service costs for many categories on a city-sized walk network.

Compares, on one synthetic street-like network (a jittered grid in metres with
removed edges and some diagonals -- synthetic data, for benchmarking only):

1. the jlp_geo engine: ``coverage.nearest_by_category`` over all categories,
   CSR build included (uncapped, and with ``limit=2000`` m);
2. the bare SciPy floor: ``csgraph.dijkstra(min_only=True)`` per category on a
   prebuilt CSR;
3. the OSMnx-example approach: ``networkx.ego_graph`` per facility with the
   category's radius -- run on a sample of facilities and extrapolated linearly
   to all of them (the full run would take far longer);
4. pandana: ``Network`` (contraction-hierarchy preprocessing) + ``set_pois`` +
   ``nearest_pois`` per category, max distance 2000 m.

Each stage runs in its own subprocess so that its peak RSS is attributable.

Usage::

    python scripts/bench_coverage.py [--nodes 200000] [--categories 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PANDANA_MAXDIST = 2000.0
LIMIT_M = 2000.0  # 2x the largest threshold (1000 m)
THRESHOLDS = (300.0, 500.0, 1000.0)  # GB 50180-2018 5/10/15-minute radii, cycled over categories


# ---------------------------------------------------------------- synthetic network


def make_network(n_nodes: int, seed: int = 42, spacing: float = 60.0) -> dict[str, np.ndarray]:
    """Jittered grid (metres): 15 % of grid edges removed, diagonals in 5 % of cells, both directions."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    n = side * side
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = 500_000.0 + ii.ravel() * spacing + rng.uniform(-0.25, 0.25, n) * spacing
    y = 3_260_000.0 + jj.ravel() * spacing + rng.uniform(-0.25, 0.25, n) * spacing
    idx = np.arange(n).reshape(side, side)
    a = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    b = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    keep = rng.random(a.size) > 0.15
    a, b = a[keep], b[keep]
    cells = idx[:-1, :-1].ravel()
    diag = rng.random(cells.size) < 0.05
    a = np.r_[a, cells[diag]]
    b = np.r_[b, cells[diag] + side + 1]
    length = np.hypot(x[b] - x[a], y[b] - y[a])
    u = np.r_[a, b].astype(np.int32)
    v = np.r_[b, a].astype(np.int32)
    return {"x": x, "y": y, "u": u, "v": v, "length": np.r_[length, length]}


def make_categories(n_nodes: int, k: int, seed: int = 7) -> dict[str, np.ndarray]:
    """k categories with 20 ... 2000 facilities each (log-spaced), at random nodes."""
    rng = np.random.default_rng(seed)
    counts = np.unique(np.round(np.geomspace(20, 2000, k)).astype(int)) if k > 1 else np.array([200])
    counts = np.resize(counts, k)
    return {f"cat{i:02d}": rng.choice(n_nodes, size=int(c), replace=False) for i, c in enumerate(counts)}


# ---------------------------------------------------------------- stages (run in subprocesses)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def _load(data: Path):
    z = np.load(data, allow_pickle=False)
    net = {k: z[k] for k in ("x", "y", "u", "v", "length")}
    cats = {k[4:]: z[k] for k in z.files if k.startswith("cat_")}
    return net, cats


def _walk_network(net):
    from jlp_geo.network import WalkNetwork

    n = net["x"].size
    m = net["u"].size
    return WalkNetwork(
        node_ids=np.arange(n, dtype=np.int64), x=net["x"], y=net["y"], z=None, u=net["u"], v=net["v"],
        length_m=net["length"], time_s=net["length"] / 1.0, grade=np.zeros(m), way_id=np.zeros(m, np.int64),
        highway=np.full(m, "footway", dtype=object), bridge=np.zeros(m, bool), tunnel=np.zeros(m, bool),
        elevator=np.zeros(m, bool), name=np.full(m, None, dtype=object), name_en=np.full(m, None, dtype=object),
        component=np.zeros(n, np.int32), component_size=np.full(n, n, np.int64), crs="EPSG:4544",
        source="synthetic benchmark grid",
    )


def stage_engine(data: Path, out: Path, repeat: int) -> dict:
    from jlp_geo.analysis.coverage import nearest_by_category

    net, cats = _load(data)
    wn = _walk_network(net)
    base = _rss_mb()
    times, times_lim = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        res = nearest_by_category(wn, cats, metric="length")
        times.append(time.perf_counter() - t)
    for _ in range(repeat):
        t = time.perf_counter()
        res_lim = nearest_by_category(wn, cats, metric="length", limit=LIMIT_M)
        times_lim.append(time.perf_counter() - t)
    np.savez(out, **{c: res[c].to_numpy() for c in res.columns})
    ok = all(np.array_equal(np.where(res[c] <= LIMIT_M, res[c], np.inf), res_lim[c]) for c in res.columns)
    return {"seconds": min(times), "seconds_limit": min(times_lim), "rss_base_mb": base, "rss_peak_mb": _rss_mb(),
            "limit_consistent": bool(ok)}


def stage_floor(data: Path, out: Path, repeat: int) -> dict:
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    net, cats = _load(data)
    n = net["x"].size
    # the grid has no parallel edges, so a plain CSR (transposed: v -> u) is exact
    g = csr_array((net["length"], (net["v"], net["u"])), shape=(n, n))
    g.sort_indices()
    base = _rss_mb()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = {c: dijkstra(g, directed=True, indices=s, min_only=True) for c, s in cats.items()}
        times.append(time.perf_counter() - t)
    np.savez(out, **res)
    return {"seconds": min(times), "rss_base_mb": base, "rss_peak_mb": _rss_mb()}


def stage_osmnx(data: Path, out: Path, sample: int) -> dict:
    import networkx as nx

    net, cats = _load(data)
    t = time.perf_counter()
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(net["x"].size))
    g.add_edges_from(
        (int(a), int(b), {"length": float(w)}) for a, b, w in zip(net["u"], net["v"], net["length"])
    )
    build = time.perf_counter() - t
    base = _rss_mb()
    total = sum(s.size for s in cats.values())
    # sample facilities proportionally from every category, each with its category's radius
    rng = np.random.default_rng(0)
    jobs = []
    for i, s in enumerate(cats.values()):
        k = max(1, int(round(sample * s.size / total)))
        radius = THRESHOLDS[i % len(THRESHOLDS)]
        jobs += [(int(f), radius) for f in rng.choice(s, size=min(k, s.size), replace=False)]
    t = time.perf_counter()
    sizes = 0
    for f, radius in jobs:
        sub = nx.ego_graph(g, f, radius=radius, distance="length")
        sizes += sub.number_of_nodes()
    sampled = time.perf_counter() - t
    per_fac = sampled / len(jobs)
    return {"seconds": per_fac * total, "sampled_facilities": len(jobs), "sampled_seconds": sampled,
            "total_facilities": int(total), "graph_build_seconds": build, "mean_ego_nodes": sizes / len(jobs),
            "rss_base_mb": base, "rss_peak_mb": _rss_mb()}


def stage_pandana(data: Path, out: Path) -> dict:
    import pandana
    import pandas as pd

    net, cats = _load(data)
    n = net["x"].size
    ids = pd.Index(np.arange(n), name="id")
    base = _rss_mb()
    t = time.perf_counter()
    pnet = pandana.Network(
        pd.Series(net["x"], index=ids), pd.Series(net["y"], index=ids),
        pd.Series(net["u"].astype(np.int64)), pd.Series(net["v"].astype(np.int64)),
        pd.DataFrame({"length": net["length"]}), twoway=False,
    )
    build = time.perf_counter() - t
    t = time.perf_counter()
    res = {}
    for c, s in cats.items():
        pnet.set_pois(c, maxdist=PANDANA_MAXDIST, maxitems=1, x_col=pd.Series(net["x"][s]),
                      y_col=pd.Series(net["y"][s]))
        r = pnet.nearest_pois(PANDANA_MAXDIST, c, num_pois=1)
        res[c] = r[1].reindex(ids).to_numpy(dtype=float)
    query = time.perf_counter() - t
    np.savez(out, **res)
    return {"seconds": build + query, "build_seconds": build, "query_seconds": query,
            "rss_base_mb": base, "rss_peak_mb": _rss_mb()}


STAGES = {"engine": stage_engine, "floor": stage_floor, "osmnx": stage_osmnx, "pandana": stage_pandana}


# ---------------------------------------------------------------- orchestration


def _run_stage(name: str, data: Path, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--data", str(data), "--out", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="20k nodes, 5 categories, small OSMnx sample")
    ap.add_argument("--osmnx-sample", type=int, default=300, help="facilities timed for the OSMnx approach")
    ap.add_argument("--repeat", type=int, default=3, help="runs of engine/floor; the fastest is reported")
    ap.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.stage:
        fn = STAGES[args.stage]
        if args.stage in ("engine", "floor"):
            res = fn(args.data, args.out, args.repeat)
        elif args.stage == "osmnx":
            res = fn(args.data, args.out, args.osmnx_sample)
        else:
            res = fn(args.data, args.out)
        print(json.dumps(res))
        return 0

    if args.quick:
        args.nodes, args.categories, args.osmnx_sample = 20_000, 5, 100
    t = time.perf_counter()
    net = make_network(args.nodes)
    n = net["x"].size
    cats = make_categories(n, args.categories)
    gen = time.perf_counter() - t
    n_fac = sum(s.size for s in cats.values())
    print(f"synthetic street grid: {n:,} nodes, {net['u'].size:,} directed edges, "
          f"{len(cats)} categories, {n_fac:,} facilities (per category {min(s.size for s in cats.values())}"
          f"-{max(s.size for s in cats.values())}); generated in {gen:.1f} s; {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "net.npz"
        np.savez(data, **net, **{f"cat_{k}": v for k, v in cats.items()})
        extra = ["--repeat", str(args.repeat), "--osmnx-sample", str(args.osmnx_sample)]
        results = {}
        for name in ("engine", "floor", "osmnx", "pandana"):
            print(f"  running {name} ...", flush=True)
            results[name] = _run_stage(name, data, Path(tmp) / f"{name}.npz", extra)
            if "error" in results[name]:
                print(f"    {name} failed: {results[name]['error']}")
        checks = []
        if "error" not in results["engine"] and "error" not in results["floor"]:
            e, f = np.load(Path(tmp) / "engine.npz"), np.load(Path(tmp) / "floor.npz")
            same = all(np.array_equal(e[c], f[c]) for c in e.files)
            checks.append(f"engine == scipy floor for every node and category: {same}")
        if "error" not in results["engine"] and "error" not in results["pandana"]:
            e, p = np.load(Path(tmp) / "engine.npz"), np.load(Path(tmp) / "pandana.npz")
            diffs, beyond_ok = [], True
            for c in e.files:
                within = e[c] < PANDANA_MAXDIST - 1.0
                diffs.append(np.max(np.abs(e[c][within] - p[c][within])) if within.any() else 0.0)
                beyond_ok &= bool(np.all(p[c][e[c] > PANDANA_MAXDIST + 1.0] >= PANDANA_MAXDIST - 1e-3))
            checks.append(f"pandana vs engine (nodes < {PANDANA_MAXDIST:.0f} m): max |diff| = {max(diffs):.3g} m; "
                          f"farther nodes at pandana's cap: {beyond_ok}")

    eng = results["engine"]
    print()
    print(f"{'stage':<46}{'seconds':>10}{'x floor':>9}{'x engine':>10}{'peak RSS MB':>13}")
    floor_s = results["floor"].get("seconds")
    eng_s = eng.get("seconds")

    def row(label, secs, rss):
        xf = f"{secs / floor_s:.2f}" if floor_s and secs else "-"
        xe = f"{secs / eng_s:.1f}" if eng_s and secs else "-"
        s = f"{secs:.2f}" if secs is not None else "failed"
        r = f"{rss:.0f}" if rss is not None else "-"
        print(f"{label:<46}{s:>10}{xf:>9}{xe:>10}{r:>13}")

    row("(1) engine nearest_by_category (uncapped)", eng.get("seconds"), eng.get("rss_peak_mb"))
    row(f"    engine with limit={LIMIT_M:.0f} m", eng.get("seconds_limit"), None)
    row("(2) scipy floor (prebuilt CSR, uncapped)", floor_s, results["floor"].get("rss_peak_mb"))
    o = results["osmnx"]
    row("(3) OSMnx ego_graph per facility (extrapol.)", o.get("seconds"), o.get("rss_peak_mb"))
    p = results["pandana"]
    row(f"(4) pandana CH + nearest_pois ({PANDANA_MAXDIST:.0f} m cap)", p.get("seconds"), p.get("rss_peak_mb"))
    if "build_seconds" in p:
        row("    of which pandana Network (CH) build", p["build_seconds"], None)
        row("    of which pandana set_pois+nearest_pois", p["query_seconds"], None)
    print()
    if "seconds" in o:
        print(f"OSMnx approach: {o['sampled_facilities']} of {o['total_facilities']:,} facilities timed "
              f"({o['sampled_seconds']:.1f} s, mean ego graph {o['mean_ego_nodes']:.0f} nodes), extrapolated linearly; "
              f"networkx graph build {o['graph_build_seconds']:.1f} s not included")
    for c in checks:
        print(c)
    if "limit_consistent" in eng:
        print(f"engine limit={LIMIT_M:.0f} m equals the uncapped result truncated at the limit: "
              f"{eng['limit_consistent']}")

    print()
    targets = []
    if eng_s and floor_s:
        targets.append(("engine <= 2x scipy floor", eng_s <= 2 * floor_s, f"{eng_s / floor_s:.2f}x"))
    if eng_s and "seconds" in o:
        targets.append((">= 20x faster than OSMnx approach", o["seconds"] >= 20 * eng_s,
                        f"{o['seconds'] / eng_s:.0f}x"))
    if eng_s and "seconds" in p:
        targets.append((">= 10x faster than pandana incl. CH build", p["seconds"] >= 10 * eng_s,
                        f"{p['seconds'] / eng_s:.1f}x"))
    elif "error" in p:
        targets.append((">= 10x faster than pandana incl. CH build", None, "pandana did not run"))
    if "rss_peak_mb" in eng:
        targets.append(("engine peak memory <= 2 GB", eng["rss_peak_mb"] <= 2048, f"{eng['rss_peak_mb']:.0f} MB"))
    for name, ok, val in targets:
        flag = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"  {flag}  {name:<45} {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
