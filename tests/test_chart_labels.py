"""Chart labels in a real browser: no label overlaps another label or crosses a data line (headless Chromium).

The landfill fill-up chart (waste report 图2) with the plan's figures: 173.54 and 45.73 万立方米/年 against
712 and 726 万立方米 (第八条（四）, 附表1 at the 1.8 t/m³ density parameter, 第十九条/第二十七条); the same chart
with a third, slower rate pushes the year labels to the right edge.
"""

from __future__ import annotations

import pytest

from jlp_geo.reports.charts import fill_up_chart

_MEASURE = """() => {
  const svg = document.querySelector('svg');
  const texts = [...svg.querySelectorAll('text:not([transform])')].map(t => { const b = t.getBBox(); return {s: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; });
  const lines = [...svg.querySelectorAll('line[stroke-width="2.2"]')].map(l => ['x1','y1','x2','y2'].map(a => +l.getAttribute(a)));
  const vb = svg.viewBox.baseVal;
  return {texts, lines, width: vb.width, height: vb.height};
}"""


def _crosses(seg: list[float], box: dict) -> bool:
    """Does the segment pass through the box (sampled every 0.5 px along the segment)?"""
    x1, y1, x2, y2 = seg
    n = int(max(abs(x2 - x1), abs(y2 - y1)) * 2) + 1
    return any(box["x"] < x1 + (x2 - x1) * i / n < box["x"] + box["w"] and box["y"] < y1 + (y2 - y1) * i / n < box["y"] + box["h"]
               for i in range(n + 1))


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.mark.browser
@pytest.mark.parametrize("rates", [
    [(173.54, "173.54 万立方米/年 — 第八条（四）需消纳量 × 填埋比例 1", "#b2182b"),
     (45.73, "45.73 万立方米/年 — 达到附表1综合利用率73%时的填埋量（密度 1.8 吨/立方米，参数）", "#2166ac")],
    [(173.54, "全部填埋", "#b2182b"), (45.73, "达到73%", "#2166ac"), (30.0, "更慢 slower", "#1b7837")],
])
def test_fill_up_chart_labels_do_not_collide(browser_page, tmp_path, rates) -> None:
    capacities = [(712.0, "库容 712 万立方米（岩洞湾 312）", "#b35806"), (726.0, "库容 726 万立方米（岩洞湾 326）", "#542788")]
    svg = fill_up_chart(rates, capacities, 2027, x_label="年份 year", y_label="累计填埋量 万立方米")
    page = tmp_path / "chart.html"
    page.write_text(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><body style="margin:0">{svg}</body></html>', encoding="utf-8")
    got = browser_page(page).page.evaluate(_MEASURE)
    texts = [t for t in got["texts"] if t["w"] > 0]
    labels = [t for t in texts if t["s"][0].isdigit() and t["s"].endswith(" 年") or t["s"].startswith("库容")]
    assert len(labels) == len(rates) + 2  # one year label per rate line, one label per capacity line
    for t in texts:  # (the rotated y-axis title is left out: getBBox gives its unrotated box)
        assert 0 <= t["x"] and t["x"] + t["w"] <= got["width"] + 0.5, t  # inside the chart
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not _overlap(a, b), (a["s"], b["s"])
    for t in labels:
        assert not any(_crosses(seg, t) for seg in got["lines"]), t["s"]


def test_report_shows_the_balance_as_a_reader_table_not_a_dataframe_dump() -> None:
    from jlp_geo.analysis.indicators import analyse_indicators
    from jlp_geo.analysis.waste import analyse_waste
    from jlp_geo.reports.indicators import render_report

    waste = analyse_waste()
    html = str(render_report(analyse_indicators(waste=waste)))
    for code in ("check_id", "stream_zh", "item_en", "tgt_solid_total"):
        assert code not in html, code  # no raw column names
    assert "核算项" in html and "规划值" in html
    first = waste.balance.iloc[0]
    assert f"{first['value']:,.2f} {first['unit']}" in html  # 173.54 万立方米/年: the figure with its unit, 2 decimals
