"""Deterministic map pages, which let the repository keep the default build's maps in ``maps/``.

folium's random element ids are renumbered (:func:`jlp_geo.viz.stable_ids.stable_element_ids`), so the same
data gives the same bytes. ``make run`` (or ``make maps``) regenerates ``maps/`` from an offline build with no
cached OSM data; ``tests/test_wheel.py`` compares ``maps/`` with the installed wheel's build of the same (one
build for both checks).
"""

from __future__ import annotations

from jlp_geo.viz.stable_ids import stable_element_ids


def test_stable_ids_renumber_consistently() -> None:
    a, b = "a" * 32, "0123456789abcdef" * 2
    html = f'<div id="map_{a}"></div><script>var map_{a} = L.map("map_{a}"); var geo_json_{b} = 1; x_{a}</script> h3 8940197549bffff'
    out = stable_element_ids(html)
    assert out == ('<div id="map_000001"></div><script>var map_000001 = L.map("map_000001"); var geo_json_000002 = 1; x_000001</script>'
                   " h3 8940197549bffff")
