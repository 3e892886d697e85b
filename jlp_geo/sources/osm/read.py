"""Any OSM input, one call: a ``.osm.pbf`` / ``.osm`` file or a saved Overpass JSON -> :class:`OsmData`.

:func:`read_osm` picks the reader from the file name; :func:`cached_osm_path`
finds what ``jlp-geo fetch`` left in the cache (:data:`CACHED_OSM_NAMES`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import InputDataError, MissingInputError
from ...settings import get_settings
from .data import OsmData
from .files import read_osm_file
from .overpass import osm_from_overpass_json

__all__ = ["CACHED_OSM_NAMES", "cached_osm_path", "read_osm"]

CACHED_OSM_NAMES = ("jiulongpo.overpass.json", "chongqing-latest.osm.pbf")
"""File names ``jlp-geo fetch`` saves in ``<cache_dir>/osm``, in the order :func:`cached_osm_path` prefers them."""


def cached_osm_path(cache_dir: str | Path | None = None) -> Path | None:
    """The OSM data ``jlp-geo fetch`` left in the cache, if any (Overpass JSON first, then Geofabrik PBF).

    Parameters
    ----------
    cache_dir
        Folder to look in; default ``get_settings().cache_dir / 'osm'``.

    Returns
    -------
    Path or None
        The first of :data:`CACHED_OSM_NAMES` that exists there, else None.
    """
    folder = Path(cache_dir) if cache_dir else get_settings().cache_dir / "osm"
    for name in CACHED_OSM_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def read_osm(path: str | Path, polygon: object | None = None) -> OsmData:
    """Read OSM data from a ``.osm.pbf`` / ``.osm`` file or a saved Overpass JSON (``.json``).

    Parameters
    ----------
    path
        A ``.json`` file goes through :func:`osm_from_overpass_json`, anything else
        through :func:`read_osm_file`.
    polygon
        Optional study area, clipped with the rule of :func:`~jlp_geo.sources.osm.clip_osm`.

    Returns
    -------
    OsmData

    Raises
    ------
    MissingInputError
        If the file does not exist, or nothing lies inside *polygon*.
    InputDataError
        If the file cannot be read as OSM data.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise MissingInputError("OSM file not found", where=str(path), fix="check --osm FILE or run jlp-geo fetch")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputDataError(f"not a readable Overpass JSON file: {exc}", where=str(path), fix="run jlp-geo fetch again") from exc
        return osm_from_overpass_json(data, polygon=polygon, source=f"Overpass API (saved {path.name})")
    return read_osm_file(path, polygon=polygon)
