"""Make untrusted text (OSM names, user files, layer titles) safe in a map page.

folium 0.20 pastes popup HTML, tooltip text and layer names into the page as they
are: into HTML, into JavaScript template literals (`` `...` ``) and into quoted JS
strings.  :func:`escape_text` replaces every character that is special in *any*
of those contexts by an HTML character reference, so the result

* displays as the original text when the browser parses it as HTML (Leaflet
  puts popups, tooltips and layer-control labels in via ``innerHTML``);
* cannot open or close a tag, an attribute, a ``<script>`` block, a JS string
  (``'`` ``"``), a template literal (`` ` ``) or a ``${...}`` substitution, and
  contains no backslash escape nor raw line break.

:func:`popup_html` builds a popup from such values, :func:`script_json` embeds
data in a ``<script>`` block, and :func:`safe_colour` lets only plain hex
colours into ``style`` attributes and scripts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

__all__ = ["escape_multiline", "escape_text", "is_missing", "popup_html", "safe_colour", "script_json"]

#: Character -> HTML character reference.  ``&`` comes first (it is applied in one pass anyway).
_ENTITIES: dict[str, str] = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",
    "$": "&#36;",
    "{": "&#123;",
    "\\": "&#92;",
    "\n": "&#10;",
    "\r": "&#13;",
    "\u2028": "&#8232;",  # JS line terminators: end a quoted string in older engines
    "\u2029": "&#8233;",
}
#: C0 controls other than tab/newline/carriage return, and DEL: not allowed in HTML text; dropped.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPECIAL_RE = re.compile("[" + re.escape("".join(_ENTITIES)) + "]")


def is_missing(value: object) -> bool:
    """Whether *value* shows as nothing: ``None``, NaN, ``pandas.NA`` or ``NaT``.

    Parameters
    ----------
    value
        Any value.

    Returns
    -------
    bool
        True for ``None`` and for values unequal to themselves.
    """
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:  # pandas.NA / NaT without importing pandas
        return bool(value != value)  # noqa: PLR0124
    except (TypeError, ValueError):
        return False


def escape_text(s: object) -> str:
    """Escape *s* for HTML and for JavaScript strings and template literals.

    Parameters
    ----------
    s
        Any value; ``None`` and NaN give ``""``, other non-strings are passed
        through :func:`str` first.

    Returns
    -------
    str
        The text with ``& < > " ' ` $ { \\`` and line breaks (``\\n``, ``\\r``,
        U+2028, U+2029) replaced by HTML character references, and other
        control characters removed.

    Examples
    --------
    >>> escape_text("<b>杨家坪</b> & `${x}`")
    '&lt;b&gt;杨家坪&lt;/b&gt; &amp; &#96;&#36;&#123;x}&#96;'
    """
    if is_missing(s):
        return ""
    text = _CONTROL_RE.sub("", str(s))
    return _SPECIAL_RE.sub(lambda m: _ENTITIES[m.group(0)], text)


def escape_multiline(s: object) -> str:
    """Like :func:`escape_text`, but line breaks become ``<br>`` (for popup cells)."""
    text = escape_text(s).replace("&#13;&#10;", "&#10;").replace("&#13;", "&#10;")
    return text.replace("&#10;", "<br>")


def popup_html(title: object, rows: Iterable[tuple[object, object]], subtitle: object = None) -> str:
    """Build popup HTML from untrusted values: a bold title and a two-column table.

    Parameters
    ----------
    title
        First line (e.g. ``name_zh``).
    rows
        ``(label, value)`` pairs; rows whose value is missing or empty are left out.
    subtitle
        Optional second line (e.g. ``name_en``).

    Returns
    -------
    str
        HTML in which every piece of *title*, *subtitle* and *rows* is escaped
        with :func:`escape_text` (values with :func:`escape_multiline`).
    """
    parts = [f'<div class="jlp-popup"><b>{escape_text(title)}</b>']
    sub = escape_text(subtitle)
    if sub:
        parts.append(f"<br><i>{sub}</i>")
    cells = []
    for label, value in rows:
        shown = escape_multiline(value)
        if shown:
            cells.append(f"<tr><th>{escape_text(label)}</th><td>{shown}</td></tr>")
    if cells:
        parts.append("<table>" + "".join(cells) + "</table>")
    parts.append("</div>")
    return "".join(parts)


_JINJA_OPEN_RE = re.compile(r"\{(?=[{%#])")


def script_json(obj: object) -> str:
    """Serialise *obj* as compact JSON that is safe inside an HTML ``<script>`` block.

    Non-ASCII text stays UTF-8 (a Chinese character costs 3 bytes, not the 6
    of ``\\uXXXX``).  ``</`` becomes ``<\\/`` and ``<!--`` becomes
    ``\\u003c!--``, so the data can neither close the script element nor
    switch the HTML parser into its escaped-comment state; U+2028/U+2029 are
    written as escapes.  ``json.loads`` of the result gives *obj* back.

    Examples
    --------
    >>> script_json({"p": "<b>杨家坪</b><!--"})
    '{"p":"<b>杨家坪<\\\\/b>\\\\u003c!--"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # branca renders generated scripts a second time as Jinja templates: a "{" that opens
    # "{{", "{%" or "{#" is written as the JSON escape \u007b (same string once parsed)
    text = _JINJA_OPEN_RE.sub(r"\\u007b", text)
    return (
        text.replace("<!--", "\\u003c!--")
        .replace("</", "<\\/")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def safe_colour(value: object, default: str = "#555555") -> str:
    """Return *value* if it is a hex colour (``#rgb`` .. ``#rrggbbaa``), else *default*.

    Colours end up in ``style`` attributes and JS; anything that is not a plain
    hex colour is replaced rather than escaped.

    Parameters
    ----------
    value
        Candidate colour (e.g. from ``layers/styles.yml``).
    default
        Colour used instead of anything else.

    Returns
    -------
    str
        *value* or *default*.
    """
    return value if isinstance(value, str) and _COLOUR_RE.match(value) else default
