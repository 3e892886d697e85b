"""Profile loading: the real profile's figures, and errors a planner can act on."""

from pathlib import Path

import pytest
import yaml

from jlp_geo import ProfileError, load_profile
from jlp_geo.settings import get_settings

PROFILE = get_settings().layers_dir / "jiulongpo.yml"


def test_real_profile_counts_and_areas():
    p = load_profile()
    assert len(p.townships) == 19
    assert sum(t.administered_by == "district" for t in p.townships) == 13
    assert {t.name_zh for t in p.townships if t.administered_by == "high_tech_zone"} == {
        "含谷镇", "金凤镇", "白市驿镇", "走马镇", "石板镇", "巴福镇"}
    assert sum(t.area_km2 for t in p.townships) == pytest.approx(430.78, abs=1e-9)
    # 235.73 directly administered + 195.05 高新区 (the district's own split)
    assert sum(t.area_km2 for t in p.townships if t.administered_by == "district") == pytest.approx(235.73, abs=1e-9)
    assert [c.name_zh for c in p.clusters] == ["九龙新城", "杨谢石黄九", "东三街", "中梁山华岩"]
    assert set(next(c.members for c in p.clusters if c.name_zh == "中梁山华岩")) == {"中梁山街道", "华岩镇"}
    assert all(len(t.code) == 12 and t.code.startswith("500107") for t in p.townships)
    assert p.storage_crs == "EPSG:4490" and p.analysis_crs == "EPSG:4544"
    assert "铝基新材料" in p.clusters[0].function  # quoted from 第三十章 第一节


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    mutate(raw)
    out = tmp_path / "profile.yml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return out


def test_analysis_crs_override_and_refusal(tmp_path):
    assert load_profile(analysis_crs="EPSG:4545").analysis_crs == "EPSG:4545"
    with pytest.raises(ProfileError, match="geographic"):
        load_profile(analysis_crs="EPSG:4326")
    with pytest.raises(ProfileError, match="3857"):
        load_profile(analysis_crs="EPSG:3857")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["townships"][0].update(code="50010700100"), r"(?s)12-digit.*杨家坪街道"),
        (lambda r: r["townships"][3].update(cluster="不存在"), r"(?s)not one of the profile's clusters.*石坪桥街道"),
        (lambda r: r["townships"][4].update(area_km2=9.0), r"add up to 434\.64"),
        (lambda r: r["townships"][2].pop("name_en"), r"(?s)missing field 'name_en'.*谢家湾街道"),
        (lambda r: r["townships"][14].update(cluster="东三街"), r"高新区 belong to no cluster"),
        (lambda r: r["boundary"].update(source="amap"), r"boundary.source"),
    ],
)
def test_profile_errors_name_the_entry(tmp_path, mutate, message):
    with pytest.raises(ProfileError, match=message) as info:
        load_profile(_write(tmp_path, mutate))
    assert "profile.yml" in str(info.value)


def test_missing_and_broken_profile(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("name_zh: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="line"):
        load_profile(bad)
