"""Which OSM ways join the walk or drive network, and the input checks both builders share.

:func:`walk_exclusion_reason` and :func:`drive_exclusion_reason` give the reason a
way is left out (or None); the rules are set out in :mod:`jlp_geo.network`.
:func:`filter_ways` applies either one to a ways table and counts the dropped
ways by reason.  Tag values are compared exactly, split on ``;``
(:func:`tag_values`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputDataError

__all__ = [
    "ONEWAY_FORWARD",
    "check_tables",
    "drive_exclusion_reason",
    "filter_ways",
    "tag_flag",
    "tag_values",
    "walk_exclusion_reason",
]

_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bus_guideway|construction|cycleway|motor|no|planned|"
    "platform|proposed|raceway|razed|rest_area|services"
)
_SIDEWALK_KEYS: tuple[str, ...] = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
_SIDEWALK_PRESENT: frozenset[str] = frozenset({"yes", "both", "left", "right"})
_FOOT_ALLOWED: frozenset[str] = frozenset({"yes", "designated", "permissive"})
ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "true", "1"})
"""``oneway`` / ``oneway:foot`` values that allow only the way's own direction."""

_DRIVE_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|"
    "pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"
)
_DRIVE_EXCLUDED_SERVICE: frozenset[str] = frozenset({"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"})


def tag_values(tags: Mapping[str, Any], key: str) -> set[str]:
    """The values of one tag, split on ``;``, stripped and lower-cased.

    Parameters
    ----------
    tags
        A way's OSM tags.
    key
        Tag key.

    Returns
    -------
    set of str
        Empty if the tag is absent (or NaN).
    """
    value = tags.get(key)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    return {part.strip().lower() for part in str(value).split(";")}


def tag_flag(tags: Mapping[str, Any], key: str) -> bool:
    """True if the tag is present with any value other than ``no`` (e.g. ``bridge=viaduct``).

    Parameters
    ----------
    tags
        A way's OSM tags.
    key
        Tag key.

    Returns
    -------
    bool
    """
    vals = tag_values(tags, key)
    return bool(vals) and vals != {"no"}


def walk_exclusion_reason(tags: Mapping[str, Any]) -> str | None:
    """Why a way is not part of the walk network, or None if it is.

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    str or None
        A short reason (``"no highway"``, ``"highway=motorway"``, ``"foot=no"``, ...)
        or None for a walkable way.  See :mod:`jlp_geo.network` for the rules.
    """
    if not isinstance(tags, Mapping):
        return "no highway"
    highway = tags.get("highway")
    if highway is None or (isinstance(highway, float) and np.isnan(highway)) or str(highway) == "":
        return "no highway"
    highway = str(highway)
    if _EXCLUDED_HIGHWAY.search(highway):
        return f"highway={highway}"
    if "yes" in tag_values(tags, "area"):
        return "area=yes"
    if "private" in tag_values(tags, "access"):
        return "access=private"
    foot = tag_values(tags, "foot")
    if "no" in foot:
        return "foot=no"
    if "private" in tag_values(tags, "service"):
        return "service=private"
    for key in _SIDEWALK_KEYS:
        if "separate" in tag_values(tags, key):
            return f"{key}=separate"
    if highway in ("trunk", "trunk_link"):
        has_sidewalk = any(tag_values(tags, k) & _SIDEWALK_PRESENT for k in _SIDEWALK_KEYS)
        if not has_sidewalk and not (foot & _FOOT_ALLOWED):
            return f"highway={highway} without sidewalk"
    return None


def drive_exclusion_reason(tags: Mapping[str, Any]) -> str | None:
    """Why a way is not part of the drive network for haul trucks, or None if it is.

    After OSMnx's ``drive`` network type (``osmnx._overpass._get_network_filter``): a way needs
    ``highway``; it is dropped when ``highway`` matches
    ``abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|path|
    pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track`` (searched as
    Overpass does), ``area=yes``, ``access=private``, ``motor_vehicle=no``, ``motorcar=no`` or ``service`` in
    ``alley|driveway|emergency_access|parking|parking_aisle|private``.  One addition for haul trucks:
    ``hgv=no`` is dropped.  Tag values are compared exactly (split on ``;``).

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    str or None
        A short reason (``"highway=footway"``, ``"hgv=no"``, ``"service=parking_aisle"``, ...)
        or None for a drivable way.
    """
    if not isinstance(tags, Mapping):
        return "no highway"
    highway = tags.get("highway")
    if highway is None or (isinstance(highway, float) and np.isnan(highway)) or str(highway) == "":
        return "no highway"
    highway = str(highway)
    if _DRIVE_EXCLUDED_HIGHWAY.search(highway):
        return f"highway={highway}"
    if "yes" in tag_values(tags, "area"):
        return "area=yes"
    if "private" in tag_values(tags, "access"):
        return "access=private"
    for key in ("motor_vehicle", "motorcar", "hgv"):
        if "no" in tag_values(tags, key):
            return f"{key}=no"
    if tag_values(tags, "service") & _DRIVE_EXCLUDED_SERVICE:
        return "service=" + ";".join(sorted(tag_values(tags, "service") & _DRIVE_EXCLUDED_SERVICE))
    return None


def check_tables(nodes: pd.DataFrame, ways: pd.DataFrame) -> None:
    """Raise :class:`InputDataError` if the OSM node/way tables lack a needed column.

    Parameters
    ----------
    nodes
        Needs ``id``, ``lon``, ``lat``.
    ways
        Needs ``id``, ``refs``, ``tags``.

    Raises
    ------
    InputDataError
        Naming the missing columns.
    """
    for table, name, cols in ((nodes, "nodes", ("id", "lon", "lat")), (ways, "ways", ("id", "refs", "tags"))):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise InputDataError(
                f"the OSM {name} table lacks columns {missing}",
                where=f"{name} table",
                fix=f"give a table with columns {list(cols)} (as produced by jlp_geo.sources.osm)",
            )


def filter_ways(
    ways: pd.DataFrame, exclusion_reason: Callable[[Mapping[str, Any]], str | None], meta: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[list[int]], np.ndarray]:
    """Keep the ways *exclusion_reason* accepts; count the dropped ones by reason in *meta*.

    Parameters
    ----------
    ways
        Columns ``id``, ``refs``, ``tags``.
    exclusion_reason
        :func:`walk_exclusion_reason` or :func:`drive_exclusion_reason`.
    meta
        Build counts; needs a ``"ways_dropped"`` dict, gets ``"ways_kept"``.

    Returns
    -------
    tuple
        The kept ways' tags, node refs and ids (int64 array).
    """
    tags_list = list(ways["tags"])
    reasons = [exclusion_reason(t) for t in tags_list]
    keep = np.array([r is None for r in reasons], dtype=bool)
    for r in reasons:
        if r is not None:
            meta["ways_dropped"][r] = meta["ways_dropped"].get(r, 0) + 1
    meta["ways_kept"] = int(keep.sum())
    kept_tags = [t for t, k in zip(tags_list, keep) if k]
    kept_refs = [list(r) if r is not None else [] for r, k in zip(ways["refs"], keep) if k]
    return kept_tags, kept_refs, np.asarray(ways["id"], dtype=np.int64)[keep]
