"""Benchmark: reading + classifying Amap POI exports and merging services across sources.

Synthetic data (benchmarks only, never a map): N POIs scattered over the Jiulongpo box with a mix of
typecodes, written as an Amap JSON response in GCJ-02.  Prints the time of each stage and the merge
(KD-tree pairs within the distance, then name similarity) against a naive all-pairs baseline run in the
same process, with the ratio, and checks that both merge the same rows.

Run: ``.venv/bin/python scripts/bench_services.py [N]`` (default 4,000; the baseline is O(N²)).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from jlp_geo.crs import wgs84_to_gcj02
from jlp_geo.layers.external import services_from_pois
from jlp_geo.layers.merge import DEFAULT_MERGE_DISTANCE_M, DEFAULT_NAME_SIMILARITY, merge_services, name_similarity
from jlp_geo.sources.pois import read_pois

CODES = ["141204", "141203", "090300", "060400", "150700", "170200", "050000"]


def naive_pairs(xy: np.ndarray, names: list[str], cats: list[str], src: list[str]) -> int:
    """All pairs: same category, different source, within the distance and similar names (count)."""
    n = 0
    for i in range(len(xy)):
        d = np.hypot(*(xy[i + 1:] - xy[i]).T)
        for j in np.flatnonzero(d <= DEFAULT_MERGE_DISTANCE_M) + i + 1:
            if cats[i] == cats[j] and src[i] != src[j] and name_similarity(names[i], names[j]) >= DEFAULT_NAME_SIMILARITY:
                n += 1
    return n


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(106.30, 106.55, n), rng.uniform(29.30, 29.55, n)
    gcj = [wgs84_to_gcj02(a, b) for a, b in zip(lon, lat)]
    pois = [{"id": f"B{i:08d}", "name": f"设施{i % (n // 8)}", "type": "", "typecode": str(c), "location": f"{x:.6f},{y:.6f}"}
            for i, ((x, y), c) in enumerate(zip(gcj, rng.choice(CODES, n)))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "amap.json"
        path.write_text(json.dumps({"status": "1", "pois": pois}, ensure_ascii=False), encoding="utf-8")
        t = time.perf_counter()
        gdf = read_pois(path)
        t_read = time.perf_counter() - t
    t = time.perf_counter()
    svc, unknown = services_from_pois(gdf, crs="EPSG:4544")
    t_cls = time.perf_counter() - t
    half = len(svc) // 2
    a, b = svc.iloc[:half].assign(source="A"), svc.iloc[half:].assign(source="B")
    t = time.perf_counter()
    merged = merge_services([a, b])
    t_merge = time.perf_counter() - t
    both = pd.concat([a, b], ignore_index=True)
    xy = np.column_stack([both.geometry.x, both.geometry.y])
    t = time.perf_counter()
    pairs = naive_pairs(xy, both["name"].tolist(), both["category"].tolist(), both["source"].tolist())
    t_naive = time.perf_counter() - t
    print(f"{n:,} POIs: read + exact GCJ-02 inverse {t_read:.2f} s; classify {t_cls:.2f} s -> {len(svc):,} service rows, "
          f"{int(unknown['count'].sum()):,} POIs of unknown type")
    print(f"merge {len(both):,} rows: {t_merge:.3f} s (KD-tree) vs naive all-pairs {t_naive:.3f} s -> ratio {t_naive / t_merge:.1f}x; "
          f"merged {merged.attrs['merge']['merged_rows']} rows, naive candidate pairs {pairs}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
