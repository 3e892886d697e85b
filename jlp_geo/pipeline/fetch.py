"""``make run`` on a machine with internet: get the district's OSM data when none is given or cached.

:func:`osm_for_build` is what ``jlp-geo build --fetch`` does before the build: if no
``--osm`` was given and ``jlp-geo fetch`` left nothing in the cache, a **short**
connectivity check (:func:`internet_reachable`: one HTTPS request to the Overpass
server's status page with a 3-second limit, name lookup and TLS included -- a bare TCP
connection is not enough, some networks accept every connection) decides: online, the district polygon's
data is fetched through osmnx's Overpass client (:func:`jlp_geo.sources.osm.fetch_overpass`)
and cached where :func:`jlp_geo.sources.osm.cached_osm_path` finds it, so the
15-minute analysis runs from the first command; offline, one line says that the data
could not be reached and how to supply it -- no long timeout, no traceback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from ..config import Profile
from ..io import atomic_path
from ..layers.admin import build_district
from ..settings import get_settings
from ..sources.osm import cached_osm_path, fetch_overpass

__all__ = ["CONNECT_TIMEOUT_S", "OVERPASS_STATUS_URL", "internet_reachable", "osm_for_build"]

#: the status page of the server osmnx sends Overpass queries to (its default endpoint)
OVERPASS_STATUS_URL = "https://overpass-api.de/api/status"
#: how long the connectivity check may take, seconds (name lookup included)
CONNECT_TIMEOUT_S = 3.0
CACHE_NAME = "jiulongpo.overpass.json"


def internet_reachable(url: str = OVERPASS_STATUS_URL, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
    """True if *url* answers HTTP 200 within *timeout_s* seconds.

    The probe runs in a daemon thread joined with the time limit, so a name lookup
    that hangs on a machine without DNS cannot stretch the check.
    """
    import requests

    answer: list[bool] = []

    def probe() -> None:
        try:
            answer.append(requests.get(url, timeout=timeout_s).status_code == 200)
        except (requests.RequestException, OSError):
            answer.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return bool(answer and answer[0])


def osm_for_build(
    profile: Profile,
    *,
    check: Callable[[], bool] = internet_reachable,
) -> tuple[Path | None, str]:
    """The cached OSM data, or the district's data fetched now when online.

    Parameters
    ----------
    profile
        Study-area profile (its district polygon is the Overpass query area).
    check
        Connectivity check (default :func:`internet_reachable`; tests pass their own).

    Returns
    -------
    path : Path or None
        The OSM file to use (cached or just fetched), None offline.
    message : str
        One line for the summary: what was fetched, or that it could not be and how to
        supply the data.
    """
    cached = cached_osm_path()
    if cached is not None:
        return cached, f"OSM data from the cache: {cached}"
    if not check():
        return None, (
            f"离线 offline: {OVERPASS_STATUS_URL} not reachable within {CONNECT_TIMEOUT_S:g} s, no OSM data fetched — "
            "give --osm FILE (Geofabrik's chongqing-latest.osm.pbf) or run `jlp-geo fetch` on a machine with internet"
        )
    polygon = build_district(profile).geometry.iloc[0]
    osm = fetch_overpass(polygon)
    path = get_settings().cache_dir / "osm" / CACHE_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(osm.to_overpass_json(), ensure_ascii=False), encoding="utf-8")
    return path, f"OSM data fetched from the Overpass API ({osm.provenance}; © OpenStreetMap contributors, ODbL 1.0), cached at {path}"
