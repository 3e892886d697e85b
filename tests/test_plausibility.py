"""Plausibility against the district and data-coverage shares, on small shapes with known answers."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from jlp_geo.analysis.data_coverage import WHOLE, analyse_data_coverage
from jlp_geo.errors import CRSError, InputDataError
from jlp_geo.notices import collect_warnings
from jlp_geo.sources.plausibility import check_in_study_area, check_township_tiling, tolerances

CRS = "EPSG:4544"  # metric: shapes in metres around (500 km E, 3 265 km N) ≈ 106E 29.5N
X0, Y0 = 500_000.0, 3_265_000.0


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0 * 1000, Y0 + y0 * 1000, X0 + x1 * 1000, Y0 + y1 * 1000)


DISTRICT = box(0, 0, 10, 10)  # 100 km²
OFFICIAL = {"A": 50.0, "B": 50.0}


def towns(*geoms):
    return gpd.GeoDataFrame({"name_zh": ["A", "B"]}, geometry=list(geoms), crs=CRS)


def test_exact_tiling_passes_silently():
    with collect_warnings() as w:
        fit = check_township_tiling(towns(box(0, 0, 5, 10), box(5, 0, 10, 10)), DISTRICT, OFFICIAL, analysis_crs=CRS, where="t")
    assert fit.gap_share == pytest.approx(0) and fit.overlap_share == pytest.approx(0) and fit.outside_share == pytest.approx(0)
    assert fit.area_ratio == pytest.approx({"A": 1.0, "B": 1.0}) and w == []


def test_marginal_overlap_warns_with_its_share():
    # B starts 0.3 km early: 3 km² counted twice = 3 % of the district; A 50 km², B 53 km² (ratio 1.06)
    with collect_warnings() as w:
        fit = check_township_tiling(towns(box(0, 0, 5, 10), box(4.7, 0, 10, 10)), DISTRICT, OFFICIAL, analysis_crs=CRS, where="t")
    assert fit.overlap_share == pytest.approx(0.03) and fit.area_ratio["B"] == pytest.approx(1.06)
    assert len(w) == 1 and w[0].startswith("警告") and "overlap 重叠 3.0%" in w[0]


def test_gap_and_wrong_areas_stop():
    with pytest.raises(InputDataError, match=r"gap 空隙 30\.0%"):  # A covers 2 km of its 5: 30 km² uncovered
        check_township_tiling(towns(box(0, 0, 2, 10), box(5, 0, 10, 10)), DISTRICT, OFFICIAL, analysis_crs=CRS, where="t")
    tol = dict(tolerances(), tiling_overlap_error=10.0, tiling_outside_error=10.0)
    with pytest.raises(InputDataError, match=r"A 200\.0 km² vs 50"):  # 4× the official area
        check_township_tiling(towns(box(0, 0, 20, 10), box(5, 0, 10, 10)), DISTRICT, OFFICIAL, analysis_crs=CRS, where="t", tol=tol)


def test_layer_far_from_the_district_stops_and_a_far_feature_warns():
    layer = gpd.GeoDataFrame({"name_zh": ["in", "far"]}, geometry=[box(1, 1, 2, 2).centroid, box(25, 1, 26, 2).centroid], crs=CRS)
    with collect_warnings() as w:
        check_in_study_area(layer, DISTRICT, what="--parks x", analysis_crs=CRS, tolerance_km=2.0)
    assert len(w) == 1 and "far (15.5 km)" in w[0]  # 25.5 km − 10 km
    with pytest.raises(CRSError, match=r"nearest is 15\.5 km"):
        check_in_study_area(layer.iloc[[1]], DISTRICT, what="--parks x", analysis_crs=CRS, tolerance_km=2.0)


def test_data_coverage_shares_per_unit():
    district = gpd.GeoDataFrame(geometry=[DISTRICT], crs=CRS)
    units = towns(box(0, 0, 5, 10), box(5, 0, 10, 10))
    osm = box(0, 0, 7.5, 10)  # all of A, half of B
    dc = analyse_data_coverage(district, {"osm": osm, "dem": None}, townships=units, analysis_crs=CRS, footprint_crs=CRS)
    assert dc.share(WHOLE, "osm") == pytest.approx(0.75) and dc.share("A", "osm") == pytest.approx(1.0)
    assert dc.share("B", "osm") == pytest.approx(0.5) and dc.share("A", "dem") == 0.0
    assert dc.label("B") == "部分数据 partial: OSM 50%, DEM 高程 0%"
    assert set(dc.partial_units()) == {WHOLE, "A", "B"}  # the DEM covers nothing anywhere
    assert any("75.0%" in n for n in dc.notes())


def test_a_warning_is_printed_once_per_job_and_collected(capsys):
    from jlp_geo.notices import warn

    with collect_warnings() as outer:
        with collect_warnings() as inner:
            warn("同一输入 the same input")
            warn("同一输入 the same input")  # a second analysis meets it too
    assert capsys.readouterr().err.splitlines() == ["警告 同一输入 the same input"]
    assert outer == inner == ["警告 同一输入 the same input"]
