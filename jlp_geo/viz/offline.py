"""Self-contained HTML for folium maps: every script and stylesheet inline, nothing fetched.

folium 0.20 links Leaflet, jQuery, Bootstrap, Font Awesome and plugin files from
CDNs.  Planners open maps by double-click, often on an intranet without internet,
so :func:`render_offline` replaces each such link by the vendored copy in
``jlp_geo/viz/assets/`` (see ``assets/MANIFEST.json`` and
``scripts/vendor_assets.py``) or drops it when the page does not need it:

============================  ===============================================
CDN resource                  offline page
============================  ===============================================
leaflet 1.9.x js/css          inlined (vendored 1.9.4)
leaflet.fullscreen 3.x        inlined
leaflet-groupedlayercontrol   inlined
jQuery 3.x                    inlined only if the page script uses ``$``/jQuery
                              (folium.Popup with HTML does)
Bootstrap js/css, glyphicons  dropped: nothing in these maps uses them
Font Awesome, awesome-markers dropped; a map that uses ``folium.Icon``
                              (``L.AwesomeMarkers``) is refused, because its
                              icon fonts are not bundled
============================  ===============================================

Maps that use ``L.marker`` get Leaflet's marker images as ``data:`` URIs.  Tile
URL templates (optional basemaps) stay in the page's JavaScript: they are only
fetched when a user picks that basemap while online.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import folium

from ..errors import OutputError

__all__ = ["external_references", "render_offline", "save_map"]


@dataclass(frozen=True)
class _Rule:
    url: re.Pattern[str]
    asset: str | None  # path under assets/, None = drop the link
    needed_if: re.Pattern[str] | None = None  # inline only if the page's own code matches


_JQUERY_USE = re.compile(r"(?<![\w$])(?:\$\s*\(|\$\.|jQuery\b)")
_RULES: tuple[_Rule, ...] = (
    _Rule(re.compile(r"/leaflet@1\.9\.\d+/dist/leaflet\.js$"), "leaflet/leaflet.js"),
    _Rule(re.compile(r"/leaflet@1\.9\.\d+/dist/leaflet\.css$"), "leaflet/leaflet.css"),
    _Rule(re.compile(r"/jquery-3\.\d+\.\d+(?:\.min)?\.js$"), "jquery/jquery.min.js", _JQUERY_USE),
    _Rule(re.compile(r"/leaflet\.fullscreen@3\.[\d.]+/Control\.FullScreen(?:\.min)?\.js$"), "leaflet.fullscreen/Control.FullScreen.js"),
    _Rule(re.compile(r"/leaflet\.fullscreen@3\.[\d.]+/Control\.FullScreen\.css$"), "leaflet.fullscreen/Control.FullScreen.css"),
    _Rule(
        re.compile(r"/leaflet-groupedlayercontrol/0\.6\.1/leaflet\.groupedlayercontrol\.min\.js$"),
        "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js",
    ),
    _Rule(
        re.compile(r"/leaflet-groupedlayercontrol/0\.6\.1/leaflet\.groupedlayercontrol\.min\.css$"),
        "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css",
    ),
    _Rule(re.compile(r"/bootstrap@[\d.]+/dist/(?:js|css)/bootstrap[\w.]*\.(?:js|css)$"), None),
    _Rule(re.compile(r"/bootstrap/3\.0\.0/css/bootstrap-glyphicons\.css$"), None),
    _Rule(re.compile(r"/fontawesome-free@[\d.]+/css/all\.min\.css$"), None),
    _Rule(re.compile(r"/Leaflet\.awesome-markers/[\d.]+/leaflet\.awesome-markers\.(?:js|css)$"), None),
    _Rule(re.compile(r"/leaflet\.awesome\.rotate\.min\.css$"), None),
)

_SCRIPT_LINK_RE = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*>\s*</script>", re.I)
_CSS_LINK_RE = re.compile(
    r"<link\b(?=[^>]*\brel\s*=\s*[\"']?stylesheet)[^>]*?\bhref\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*/?>", re.I
)
_SCRIPT_BLOCK_RE = re.compile(r"(<script\b[^>]*>)(.*?)(</script\s*>)", re.I | re.S)
_STYLE_BLOCK_RE = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.I | re.S)
_MARKER_USE = re.compile(r"\bL\.marker\s*\(|\bnew\s+L\.Marker\s*\(")
_AWESOME_USE = re.compile(r"\bL\.AwesomeMarkers\b")


@lru_cache(maxsize=None)
def _asset_text(rel: str) -> str:
    try:
        return (resources.files("jlp_geo.viz") / "assets" / rel).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise OutputError(
            f"vendored map asset {rel!r} is missing",
            where="jlp_geo/viz/assets",
            fix="reinstall jlp_geo, or run scripts/vendor_assets.py in a source checkout",
        ) from exc


def _safe_js(code: str) -> str:
    # Inline code must not end the <script> element early nor enter the
    # "script data escaped" state; "<\/" and "<\!" mean the same inside JS strings/regexes.
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.I).replace("<!--", "<\\!--")


def _safe_css(code: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", code, flags=re.I)


def _inline(kind: str, rel: str) -> str:
    if kind == "js":
        return f"<script>/* {rel} (jlp_geo vendored) */\n{_safe_js(_asset_text(rel))}</script>"
    return f"<style>/* {rel} (jlp_geo vendored) */\n{_safe_css(_asset_text(rel))}</style>"


def _page_code(html: str) -> str:
    """The page's own JavaScript (everything inside <script> blocks before inlining)."""
    return "\n".join(m.group(2) for m in _SCRIPT_BLOCK_RE.finditer(html))


def _rule_for(url: str) -> _Rule:
    for rule in _RULES:
        if rule.url.search(url):
            return rule
    raise OutputError(
        f"the map links {url}, which has no vendored offline copy",
        where="jlp_geo.viz.offline",
        fix="add the package to scripts/vendor_assets.py and a rule to jlp_geo.viz.offline._RULES, "
        "or do not use the folium element that needs it",
    )


def _inline_links(html: str) -> str:
    code = _page_code(html)
    if _AWESOME_USE.search(code):
        raise OutputError(
            "the map uses folium.Icon (Leaflet.awesome-markers), whose icon fonts are not bundled for offline use",
            where="jlp_geo.viz.offline",
            fix="draw points with folium.CircleMarker / folium.Circle or a DivIcon",
        )
    needs_marker_images = bool(_MARKER_USE.search(code))

    def replace(kind: str):
        def repl(m: re.Match[str]) -> str:
            url = m.group("url")
            if url.startswith("data:"):
                return m.group(0)
            rule = _rule_for(url)
            if rule.asset is None or (rule.needed_if is not None and not rule.needed_if.search(code)):
                return ""
            out = _inline(kind, rule.asset)
            if rule.asset == "leaflet/leaflet.js" and needs_marker_images:
                out += _inline("js", "leaflet/default-icon.js")
            return out

        return repl

    html = _SCRIPT_LINK_RE.sub(replace("js"), html)
    return _CSS_LINK_RE.sub(replace("css"), html)


_FETCH_TAG_RE = re.compile(
    r"<(?P<tag>script|link|img|iframe|frame|source|embed|object|video|audio|track|input|image|use)\b(?P<attrs>[^>]*)>", re.I
)
_URL_ATTR_RE = re.compile(
    r"(?<![\w-])(?P<attr>src|href|data|srcset|poster|xlink:href)\s*=\s*(?:\"(?P<q2>[^\"]*)\"|'(?P<q1>[^']*)'|(?P<bare>[^\s>]+))",
    re.I,
)
_FETCHING_REL_RE = re.compile(r"\brel\s*=\s*[\"']?[^\"'>]*\b(?:stylesheet|icon|preload|modulepreload|manifest|prefetch)", re.I)
_CSS_URL_RE = re.compile(r"url\(\s*[\"']?(?!data:|#)(?P<url>[^\"')\s]+)", re.I)
_CSS_IMPORT_RE = re.compile(r"@import\s+(?P<url>[^;]+)", re.I)


def external_references(html: str) -> list[str]:
    """List everything in *html* that a browser would fetch from outside the page.

    Scans tags that load resources (``script``/``link``/``img``/``iframe``/...,
    outside script bodies), ``url(...)`` and ``@import`` in ``<style>`` blocks and
    ``style`` attributes.  ``data:`` URIs and in-page ``#fragments`` are fine;
    anything else -- ``http(s)://``, protocol-relative ``//`` or relative files
    (which a map opened from disk cannot rely on) -- is reported.  ``<a href>``
    links are not fetches and are ignored, and so are tile-URL templates inside
    JavaScript (fetched only when a user picks that basemap).

    Parameters
    ----------
    html
        A complete page.

    Returns
    -------
    list of str
        ``"<tag attr=url>"`` / ``"css url(...)"`` descriptions; empty when the
        page is self-contained.
    """
    found: list[str] = []
    markup = _SCRIPT_BLOCK_RE.sub(lambda m: m.group(1) + m.group(3), html)
    for tm in _FETCH_TAG_RE.finditer(markup):
        tag, attrs = tm.group("tag").lower(), tm.group("attrs")
        if tag == "link" and not _FETCHING_REL_RE.search(attrs):
            continue
        for am in _URL_ATTR_RE.finditer(attrs):
            url = next(g for g in (am.group("q2"), am.group("q1"), am.group("bare")) if g is not None).strip()
            if url and not url.startswith(("data:", "#")):
                found.append(f"<{tag} {am.group('attr')}={url}>")
    css_chunks = [m.group(2) for m in _STYLE_BLOCK_RE.finditer(markup)]
    css_chunks += re.findall(r"\bstyle\s*=\s*\"([^\"]*)\"", markup, re.I)
    css_chunks += re.findall(r"\bstyle\s*=\s*'([^']*)'", markup, re.I)
    for css in css_chunks:
        found += [f"css url({m.group('url')})" for m in _CSS_URL_RE.finditer(css)]
        found += [f"css @import {m.group('url').strip()}" for m in _CSS_IMPORT_RE.finditer(css)]
    return found


def render_offline(m: folium.Map) -> str:
    """Render *m* to one self-contained HTML page (no network needed to open it).

    Parameters
    ----------
    m
        A folium map (or any element whose root is a branca Figure).

    Returns
    -------
    str
        The page, with every CDN script/stylesheet replaced by its vendored copy
        or dropped (see the module docstring).

    Raises
    ------
    OutputError
        If the map needs a resource that is not vendored, or anything external
        is left after inlining.
    """
    html = _inline_links(m.get_root().render())
    leftovers = external_references(html)
    if leftovers:
        raise OutputError(
            "the map would fetch resources from outside the file: " + ", ".join(leftovers[:5]),
            where="jlp_geo.viz.offline.render_offline",
            fix="inline the resource (data: URI or vendored asset) instead of linking it",
        )
    return html


def save_map(m: folium.Map | str, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained map page to *path* atomically.

    The page is written to a temporary file in the same folder and moved over
    *path* with :func:`os.replace`, so a reader never sees half a file and a
    failed write leaves any previous map in place.

    Parameters
    ----------
    m
        A folium map (rendered with :func:`render_offline`) or an already
        rendered page.
    path
        Target ``.html`` file; missing parent folders are created.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        If the page is not self-contained, or the file cannot be written.
    """
    html = m if isinstance(m, str) else render_offline(m)
    leftovers = external_references(html)
    if leftovers:
        raise OutputError(
            "the map page links resources outside the file: " + ", ".join(leftovers[:5]),
            where=str(path),
            fix="build the page with jlp_geo.viz.render_offline",
        )
    target = Path(path)
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as fh:
            tmp_name = fh.name
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except OSError as exc:
        if tmp_name and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise OutputError(
            f"could not write the map: {exc.strerror or exc}",
            where=str(target),
            fix="check that the folder exists and is writable, and that the file is not open elsewhere",
        ) from exc
    return target
