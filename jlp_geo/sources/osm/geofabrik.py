"""The Geofabrik extract: the offline channel's source file, downloaded on a connected machine.

:func:`fetch_geofabrik` downloads (and MD5-checks) an extract such as
:data:`GEOFABRIK_CHONGQING_URL`; :func:`jlp_geo.sources.osm.read_osm_file` reads it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ...errors import MissingInputError
from ...settings import get_settings

__all__ = ["GEOFABRIK_CHONGQING_URL", "fetch_geofabrik"]

GEOFABRIK_CHONGQING_URL = "https://download.geofabrik.de/asia/china/chongqing-latest.osm.pbf"
"""Geofabrik's daily Chongqing extract (the offline alternative to Overpass)."""


def fetch_geofabrik(
    dest_dir: str | os.PathLike[str] | None = None,
    url: str = GEOFABRIK_CHONGQING_URL,
    timeout: int = 600,
) -> Path:
    """Download a Geofabrik extract (default: Chongqing), verify its MD5, return the path.

    Needs internet; never called by the tests.  The file is written to
    ``<dest_dir>/<name>.part`` and renamed only once complete and verified
    against Geofabrik's ``<url>.md5``.

    Parameters
    ----------
    dest_dir
        Folder; default ``get_settings().cache_dir / 'geofabrik'``.
    url
        Extract URL, default :data:`GEOFABRIK_CHONGQING_URL`.
    timeout
        HTTP timeout in seconds.

    Returns
    -------
    Path
        The downloaded ``.osm.pbf`` (read it with :func:`read_osm_file`).

    Raises
    ------
    MissingInputError
        If the download fails or the checksum does not match.
    """
    import requests

    folder = Path(dest_dir) if dest_dir is not None else get_settings().cache_dir / "geofabrik"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[-1]
    part = target.with_name(target.name + ".part")
    fix = f"download {url} with a browser on a connected machine and copy it to {target}"
    try:
        expected = requests.get(url + ".md5", timeout=timeout).text.split()[0].strip().lower()
        md5 = hashlib.md5()  # noqa: S324 - integrity check against Geofabrik's published MD5
        with requests.get(url, stream=True, timeout=timeout) as resp:
            resp.raise_for_status()
            with part.open("wb") as fh:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    fh.write(chunk)
                    md5.update(chunk)
    except (requests.exceptions.RequestException, OSError, IndexError) as exc:
        part.unlink(missing_ok=True)
        raise MissingInputError(f"could not download the OSM extract: {exc}", where=url, fix=fix) from exc
    if md5.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise MissingInputError("the downloaded extract does not match Geofabrik's MD5 checksum", where=url, fix=fix)
    part.replace(target)
    return target
