"""End-to-end benchmark of ``jlp-geo coverage`` on generated street grids written as real ``.osm.pbf`` files.

Synthetic data, for benchmarking only (never a planner's map): a jittered street grid around 106.4E 29.5N
(60 m blocks, 15 % of the blocks' sides missing, ways split where a side is missing, a few footways), with
thousands of POIs tagged with the real OSM tags of the 21 service categories of
``layers/service_categories.csv`` (parks as closed ``leisure=park`` ways).  The file is written with pyosmium's
``SimpleWriter`` and read back by the real command, so every stage of the job is measured.

Each size runs in its own subprocess (peak RSS attributable to it).  The child runs the real
``jlp-geo coverage --osm FILE --out DIR`` through :func:`jlp_geo.cli.main` with the job's stage functions
wrapped by timers, then times the bare SciPy floor (``csgraph.dijkstra(min_only=True)`` per category and metric
on a prebuilt CSR) on the same network and sources, in the same process: both re-run three times, the best
of each compared (``eng/floor``), so that other load on the machine weighs on both alike.

Usage::

    python scripts/bench_e2e.py                    # 100k and 500k walk nodes
    python scripts/bench_e2e.py --sizes 100k 500k 2M
    python scripts/bench_e2e.py --sizes 20k --keep  # quick check; keep outputs in the work folder

Targets (issue 14): total <= 3 x (read + engine) at every size; 500k: <= 90 s wall, <= 2 GB peak RSS,
coverage.gpkg <= 200 MB, coverage.html <= 5 MB; 2M: <= 360 s, <= 8 GB; engine <= 1.2 x the scipy floor.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LON0, LAT0 = 106.4, 29.5
SPACING_M = 60.0
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))

# one POI tag set per category of layers/service_categories.csv (names where the rule needs them);
# count per 100k grid nodes (~ 36 km2): a city-like density, thousands of POIs at 100k+ nodes
POIS: list[tuple[str, dict[str, str], float]] = [
    ("middle_school", {"amenity": "school", "name": "第一初级中学"}, 15),
    ("primary_school", {"amenity": "school", "name": "实验小学"}, 40),
    ("kindergarten", {"amenity": "kindergarten", "name": "幼儿园"}, 80),
    ("childcare", {"amenity": "childcare", "name": "托育中心"}, 10),
    ("community_health", {"amenity": "clinic", "name": "社区卫生服务中心"}, 25),
    ("clinic", {"amenity": "doctors", "name": "诊所"}, 120),
    ("hospital", {"amenity": "hospital", "name": "人民医院"}, 6),
    ("pharmacy", {"amenity": "pharmacy", "name": "大药房"}, 200),
    ("elderly_care", {"amenity": "nursing_home", "name": "养老院"}, 12),
    ("fresh_market", {"amenity": "marketplace", "name": "农贸市场"}, 50),
    ("convenience", {"shop": "convenience", "name": "便利店"}, 400),
    ("community_service", {"amenity": "community_centre", "name": "社区服务站"}, 40),
    ("government", {"amenity": "townhall", "name": "街道办事处"}, 5),
    ("culture", {"amenity": "library", "name": "图书馆"}, 20),
    ("sports", {"leisure": "sports_centre", "name": "全民健身中心"}, 10),
    ("fitness", {"leisure": "fitness_station"}, 150),
    ("bus_stop", {"highway": "bus_stop", "name": "公交站"}, 600),
    ("rail_station", {"railway": "station", "station": "subway", "name": "轨道站"}, 8),
    ("post_parcel", {"amenity": "parcel_locker", "name": "丰巢快递柜"}, 150),
]
PARKS_PER_100K = {"small": 60, "large": 15}  # park_small (>= 1000 m2) and park_large (>= 1 ha) as closed ways

SIZES = {"20k": 20_000, "100k": 100_000, "500k": 500_000, "2M": 2_000_000}


# ---------------------------------------------------------------- the synthetic .osm.pbf


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


def write_grid_pbf(path: Path, n_nodes: int, seed: int = 42) -> dict[str, int]:
    """Write a jittered street grid of about *n_nodes* intersections plus POIs as ``.osm.pbf``; return counts."""
    import osmium
    from osmium.osm.mutable import Node, Way

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    n = side * side
    half = side * SPACING_M / 2
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ii.ravel() * SPACING_M - half + rng.uniform(-0.2, 0.2, n) * SPACING_M
    y = jj.ravel() * SPACING_M - half + rng.uniform(-0.2, 0.2, n) * SPACING_M
    lon, lat = _lonlat(x, y)
    idx = np.arange(n).reshape(side, side)
    # a block side is missing with p = 0.15 (horizontal: along i, vertical: along j)
    miss_i = rng.random((side - 1, side)) < 0.15
    miss_j = rng.random((side, side - 1)) < 0.15
    header = osmium.io.Header()
    header.set("generator", "jlp_geo scripts/bench_e2e.py (synthetic benchmark grid)")
    header.set("osmosis_replication_timestamp", "2026-01-01T00:00:00Z")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    ts = "2026-01-01T00:00:00Z"
    counts = {"grid_nodes": n, "ways": 0, "pois": 0, "parks": 0}
    with osmium.SimpleWriter(str(path), header=header) as w:
        for k in range(n):
            w.add_node(Node(id=k + 1, location=(float(lon[k]), float(lat[k])), version=1, timestamp=ts))
        # POI nodes: near random grid nodes (<= 25 m off the street)
        next_node = n + 1
        scale = n / 100_000
        poi_nodes = []
        for _cat, tags, per100k in POIS:
            m = max(3, round(per100k * scale))
            at = rng.integers(0, n, m)
            px = x[at] + rng.uniform(-25, 25, m)
            py = y[at] + rng.uniform(-25, 25, m)
            plon, plat = _lonlat(px, py)
            for a, b in zip(plon, plat):
                poi_nodes.append(Node(id=next_node, location=(float(a), float(b)), tags=tags, version=1, timestamp=ts))
                next_node += 1
        # park corner nodes
        park_ways = []
        for kind, per100k in PARKS_PER_100K.items():
            m = max(2, round(per100k * scale))
            size = 40.0 if kind == "small" else 120.0  # 1600 m2 / 14400 m2
            at = rng.integers(0, n, m)
            for cx, cy in zip(x[at], y[at]):
                ids = []
                for dx, dy in ((0, 0), (size, 0), (size, size), (0, size)):
                    a, b = _lonlat(np.array([cx + dx + 5]), np.array([cy + dy + 5]))
                    poi_nodes.append(Node(id=next_node, location=(float(a[0]), float(b[0])), version=1, timestamp=ts))
                    ids.append(next_node)
                    next_node += 1
                park_ways.append(ids + [ids[0]])
        for node in poi_nodes:
            w.add_node(node)
        counts["pois"] = sum(1 for p in poi_nodes if p.tags)
        way_id = 1

        def runs(line: np.ndarray, missing: np.ndarray):
            start = 0
            for k in range(missing.size):
                if missing[k]:
                    if k > start:
                        yield line[start : k + 1]
                    start = k + 1
            if missing.size > start:
                yield line[start:]

        for r in range(side):
            for seg in runs(idx[:, r], miss_i[:, r]):
                hw = "footway" if (r % 7 == 3) else "residential"
                w.add_way(Way(id=way_id, nodes=[int(k) + 1 for k in seg], tags={"highway": hw}, version=1, timestamp=ts))
                way_id += 1
            for seg in runs(idx[r, :], miss_j[r, :]):
                w.add_way(Way(id=way_id, nodes=[int(k) + 1 for k in seg], tags={"highway": "residential"}, version=1, timestamp=ts))
                way_id += 1
        for ids in park_ways:
            w.add_way(Way(id=way_id, nodes=ids, tags={"leisure": "park", "name": "公园"}, version=1, timestamp=ts))
            way_id += 1
        counts["ways"] = way_id - 1
        counts["parks"] = len(park_ways)
    return counts


# ---------------------------------------------------------------- the child: one timed run


STAGES = [
    # (label, module, attribute): the job's stage functions, wrapped by timers where they are looked up
    ("read OSM", "jlp_geo.pipeline.coverage", "read_osm"),
    ("walk network", "jlp_geo.analysis.accessibility", "walk_network_from_osm"),
    ("services", "jlp_geo.analysis.accessibility", "services_from_osm"),
    ("services", "jlp_geo.analysis.accessibility", "services_from_sources"),
    ("engine", "jlp_geo.analysis.accessibility", "nearest_by_category"),
    ("H3 hexes", "jlp_geo.analysis.accessibility", "_hex_layer"),
    # service areas are drawn in a forked process while the job goes on (jlp_geo.analysis.background):
    # "isochrones" is the time the job WAITED for them; their own compute time is measured after the run
    ("isochrones", "jlp_geo.analysis.background", "Background.result"),
    ("write GPKG", "jlp_geo.pipeline.coverage", "write_geopackage"),
    ("tables", "jlp_geo.pipeline.coverage", "write_csv"),
    ("tables", "jlp_geo.pipeline.coverage", "write_excel"),
    ("map", "jlp_geo.viz.coverage_map", "write_coverage_map"),
]


peaks: dict[str, float] = {}  # peak RSS (MB) of the job when each stage last ended


_inner: list[float] = []  # time spent in wrapped stages called from within the running one (counted once)
spans: list[tuple[str, float, float]] = []  # (stage, start, end), perf_counter


def _wrap(times: dict[str, float], calls: list, label: str, fn):
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        _inner.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.perf_counter() - t0
            nested = _inner.pop()
            if _inner:
                _inner[-1] += spent
            times[label] = times.get(label, 0.0) + spent - nested
            spans.append((label, t0, t0 + spent))
            peaks[label] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # the job's peak so far
            if label == "engine":
                calls.append((args, kwargs))

    return timed


def _engine_vs_floor(calls: list, engine, repeat: int = 3) -> tuple[float, float]:
    """Engine calls re-run, and the bare SciPy floor for them (prebuilt CSR, not timed), best of *repeat* each."""
    from scipy.sparse.csgraph import dijkstra

    from jlp_geo.analysis.coverage import build_csr

    eng = floor = 0.0
    for args, kwargs in calls:
        network, sources = args[0], args[1]
        metric = kwargs.get("metric", args[2] if len(args) > 2 else "length")
        g = build_csr(network.u, network.v, network.weight(metric), network.n_nodes, reverse=True)
        srcs = [np.unique(np.asarray(s)).astype(np.int32) for s in sources.values()]
        best_e = best_f = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for s in srcs:
                if s.size:
                    dijkstra(g, directed=True, indices=s, min_only=True)
            best_f = min(best_f, time.perf_counter() - t0)
            t0 = time.perf_counter()
            engine(*args, **kwargs)
            best_e = min(best_e, time.perf_counter() - t0)
        eng += best_e
        floor += best_f
    return eng, floor


def _isochrones_alone(calls: list) -> float:
    """Compute time of the service areas (done in the background during the run), re-run in this process."""
    from jlp_geo.analysis.isochrones import isochrone_layer
    from jlp_geo.layers.categories import load_categories

    time_calls = [c for c in calls if c[1].get("metric", c[0][2] if len(c[0]) > 2 else "") == "time"]
    if not time_calls:
        return float("nan")
    (network, sources, *_), kwargs = time_calls[0]
    from jlp_geo.analysis.coverage import nearest_by_category

    costs = nearest_by_category(network, sources, metric="time")
    cats = load_categories()
    t0 = time.perf_counter()
    isochrone_layer(network, cats, {c.id: costs[c.id].to_numpy() for c in cats if len(sources.get(c.id, ()))})
    return time.perf_counter() - t0


class _PssSampler:
    """Peak of the job's proportional set size plus its children's (``/proc/<pid>/smaps_rollup``), sampled.

    PSS splits every page shared between the job and its forked child between them, so the sum is the
    physical memory the two hold together -- not the RSS sum, which counts shared pages twice.
    """

    def __init__(self, interval: float = 0.1) -> None:
        import threading

        self.peak_mb, self.peak_at, self.interval, self._stop = 0.0, 0.0, interval, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pss_kb(pid: int | str) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            return 0

    def _children(self) -> list[str]:
        kids = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/children") as f:
                    kids += f.read().split()
            except OSError:
                pass
        return kids

    def _run(self) -> None:
        while not self._stop.is_set():
            total = self._pss_kb("self") + sum(self._pss_kb(k) for k in self._children())
            if total / 1024.0 > self.peak_mb:
                self.peak_mb, self.peak_at = total / 1024.0, time.perf_counter()
            self._stop.wait(self.interval)

    def __enter__(self) -> "_PssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def child(pbf: Path, out: Path) -> dict:
    """Run ``jlp-geo coverage`` once with stage timers; return the measurements."""
    times: dict[str, float] = {}
    calls: list = []
    for label, mod, attr in STAGES:
        m = importlib.import_module(mod)
        owner, _, name = attr.rpartition(".")
        target = getattr(m, owner) if owner else m
        if hasattr(target, name):
            setattr(target, name, _wrap(times, calls, label, getattr(target, name)))
    from jlp_geo.analysis import background

    fork_rss: list[float] = []
    started = background.Background.__init__

    def noting_rss(self, *args, **kwargs):
        with open("/proc/self/statm") as f:
            fork_rss.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
        started(self, *args, **kwargs)

    background.Background.__init__ = noting_rss
    from jlp_geo.cli import main

    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf), _PssSampler() as pss:
        status = main(["coverage", "--osm", str(pbf), "--out", str(out)])
    total = time.perf_counter() - t0
    # peak RSS of the job, plus what its forked child added beyond the pages it shares with the job: the
    # child's peak RSS minus the job's RSS when it forked (counted as if both peaks coincided: an upper bound)
    job_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    child_extra = max(0.0, child_mb - fork_rss[0]) if fork_rss else 0.0
    rss_mb = pss.peak_mb  # the target's measure: the job and its child together (PSS, sampled every 0.1 s)
    during = [lab for lab, a, b in spans if a <= pss.peak_at <= b]
    peak_stage = during[-1] if during else "between stages"
    n_nodes = next((c[0][0].n_nodes for c in calls), 0)
    import warnings

    from jlp_geo.analysis.coverage import nearest_by_category

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine_rerun, floor = _engine_vs_floor(calls, nearest_by_category)
    iso_bg = _isochrones_alone(calls)
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file()}
    return {"status": status, "total_s": total, "stages": times, "rss_mb": rss_mb, "n_nodes": n_nodes,
            "floor_s": floor, "engine_rerun_s": engine_rerun, "iso_bg_s": iso_bg, "peaks": peaks, "job_mb": job_mb, "child_extra_mb": child_extra, "pss_mb": pss.peak_mb, "peak_stage": peak_stage, "sizes": sizes, "stdout_tail": buf.getvalue().splitlines()[-3:]}


# ---------------------------------------------------------------- the parent: sizes, table, targets


def _fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["100k", "500k"], choices=list(SIZES), help="grid sizes (walk nodes)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "jlp_bench_e2e",
                    help="folder for the generated .osm.pbf files (reused when present) and outputs")
    ap.add_argument("--keep", action="store_true", help="keep the outputs of each run")
    ap.add_argument("--child", nargs=2, type=Path, metavar=("PBF", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    rows = []
    for size in args.sizes:
        pbf = args.work / f"grid_{size}.osm.pbf"
        if not pbf.is_file():
            t0 = time.perf_counter()
            counts = write_grid_pbf(pbf, SIZES[size])
            print(f"wrote {pbf} ({pbf.stat().st_size / 1e6:.1f} MB, {counts['grid_nodes']:,} grid nodes, "
                  f"{counts['ways']:,} ways, {counts['pois']:,} POIs, {counts['parks']:,} parks) in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
        out = args.work / f"out_{size}"
        shutil.rmtree(out, ignore_errors=True)
        print(f"running jlp-geo coverage on {pbf.name} ...", flush=True)
        proc = subprocess.run([sys.executable, __file__, "--child", str(pbf), str(out)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["size"] = size
        rows.append(res)
        print(f"  {size}: total {res['total_s']:.1f} s, peak {res['rss_mb']:.0f} MB; stages "
              + ", ".join(f"{k} {v:.1f}" for k, v in res["stages"].items()), flush=True)
        print(f"  peak memory: job + child together {res['pss_mb']:.0f} MB (PSS, sampled; during: {res['peak_stage']}); job's own peak RSS {res['job_mb']:.0f} MB, "
              f"child's peak beyond the pages it shares {res['child_extra_mb']:.0f} MB (their sum, an upper bound: "
              f"{res['job_mb'] + res['child_extra_mb']:.0f} MB); "
              "job's peak after: " + ", ".join(f"{k} {v:.0f}" for k, v in res.get("peaks", {}).items()), flush=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)

    labels = ["read OSM", "walk network", "services", "engine", "H3 hexes", "isochrones", "write GPKG", "tables", "map"]
    print()
    print(f"end-to-end `jlp-geo coverage` on synthetic grids (2 cores: {os.cpu_count()} CPUs visible); seconds")
    print("isochrones = the job's wait for the service areas drawn in a forked process meanwhile; iso bg = their own "
          "compute time, re-run alone after the job; peak MB = the job and its forked child together (proportional set size, sampled every 0.1 s)")
    head = f"{'size':<6}{'nodes':>10}{'total':>8}" + "".join(f"{lab:>13}" for lab in labels) + f"{'other':>8}"
    head += f"{'peak MB':>9}{'gpkg MB':>9}{'html MB':>9}{'tot/(r+e)':>10}{'eng/floor':>10}{'iso bg':>8}"
    print(head)
    targets = []
    for r in rows:
        st = r["stages"]
        other = r["total_s"] - sum(st.values())
        re_ = st.get("read OSM", 0) + st.get("engine", 0)
        ratio = r["total_s"] / re_ if re_ else float("nan")
        ef = r["engine_rerun_s"] / r["floor_s"] if r["floor_s"] else float("nan")
        gpkg = r["sizes"].get("coverage.gpkg", 0) / 1e6
        html = r["sizes"].get("coverage.html", 0) / 1e6
        line = f"{r['size']:<6}{r['n_nodes']:>10,}{r['total_s']:>8.1f}" + "".join(f"{_fmt_s(st.get(lab)):>13}" for lab in labels)
        line += f"{other:>8.1f}{r['rss_mb']:>9.0f}{gpkg:>9.1f}{html:>9.2f}{ratio:>10.2f}{ef:>10.2f}{r.get('iso_bg_s', float('nan')):>8.1f}"
        print(line)
        targets.append((f"{r['size']}: total <= 3 x (read + engine)", ratio <= 3, f"{ratio:.2f}x"))
        targets.append((f"{r['size']}: engine <= 1.2 x scipy floor (same network, same process)", ef <= 1.2, f"{ef:.2f}x"))
        if r["size"] == "500k":
            targets += [
                ("500k: wall <= 90 s", r["total_s"] <= 90, f"{r['total_s']:.1f} s"),
                ("500k: peak memory <= 2 GB (job + child, PSS)", r["rss_mb"] <= 2048, f"{r['rss_mb']:.0f} MB"),
                ("500k: coverage.gpkg <= 200 MB", gpkg <= 200, f"{gpkg:.1f} MB"),
                ("500k: coverage.html <= 5 MB", html <= 5, f"{html:.2f} MB"),
            ]
        if r["size"] == "2M":
            targets += [
                ("2M: wall <= 360 s", r["total_s"] <= 360, f"{r['total_s']:.1f} s"),
                ("2M: peak memory <= 8 GB (job + child, PSS)", r["rss_mb"] <= 8192, f"{r['rss_mb']:.0f} MB"),
            ]
    print()
    print("targets (issue 14):")
    for name, ok, val in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:<62} {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
