"""Deterministic element ids for folium pages, so the same data gives the same bytes.

folium/branca name every element ``<kind>_<uuid4 hex>`` (``map_f2f8…``, ``geo_json_64b5…``), so two
builds of the same map differ in hundreds of places. :func:`stable_element_ids` renames them in order
of first appearance (``map_000001``, ``feature_group_000002`` …): the page works the same, and the
repository's ``maps/`` folder can be checked byte for byte against a fresh build.
"""

from __future__ import annotations

import re

__all__ = ["stable_element_ids"]

_ELEMENT_ID = re.compile(r"(?<=[A-Za-z0-9])_([0-9a-f]{32})\b")


def stable_element_ids(html: str) -> str:
    """Replace folium's random 32-hex element ids in *html* by numbers in order of first appearance.

    Parameters
    ----------
    html
        A rendered folium page.

    Returns
    -------
    str
        The page with ``_<32 hex>`` suffixes replaced by ``_000001``, ``_000002`` …; an id that
        appears several times gets the same number everywhere.
    """
    numbers: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return "_" + numbers.setdefault(match.group(1), f"{len(numbers) + 1:06d}")

    return _ELEMENT_ID.sub(number, html)
