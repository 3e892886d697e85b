"""Offline interactive maps (folium/Leaflet): the only place that goes to EPSG:4326 for display.

* :func:`render_offline` / :func:`save_map` -- one self-contained HTML page, every
  script and stylesheet inline (vendored in ``assets/``, see ``assets/README.md``);
* :func:`escape_text` -- untrusted text made safe for HTML and JS strings/template literals;
* :func:`write_atlas` -- the planning atlas of all plan layers;
* :func:`write_coverage_map` -- the 15-minute coverage map of a coverage analysis;
* :func:`jlp_geo.viz.waste_map.write_waste_map` -- the construction-waste map (import it
  from its module: it needs :mod:`jlp_geo.analysis.waste`).

Layout: each map is one assembly module (``atlas``, ``coverage_map``, ``waste_map``)
plus the modules that build its embedded data (``layer_features``; ``coverage_data``,
``coverage_hexes``, ``coverage_areas`` and ``coverage_runtime``; ``waste_features``); shared by all three are ``page``
(stylesheet, basemaps, tools, writing), ``controls`` (Leaflet controls),
``geometry`` (simplify, round, encode) and ``escape`` / ``offline``.
"""

from .atlas import atlas_map, write_atlas
from .coverage_map import write_coverage_map, coverage_map
from .escape import escape_text, popup_html
from .offline import external_references, render_offline, save_map

__all__ = [
    "atlas_map",
    "write_atlas",
    "write_coverage_map",
    "coverage_map",
    "escape_text",
    "external_references",
    "popup_html",
    "render_offline",
    "save_map",
]
