"""The Geofabrik extract: the offline channel's source file, downloaded on a connected machine.

:func:`fetch_geofabrik` downloads an extract such as :data:`GEOFABRIK_CHONGQING_URL` with
`pooch <https://www.fatiando.org/pooch>`_ (retries with back-off, MD5 check against Geofabrik's
published ``.md5``, the file moved into place only when it matches) and a downloader that resumes an
interrupted download from its ``.part`` file (HTTP ``Range``) and shows progress
(:func:`jlp_geo.progress.track`); :func:`jlp_geo.sources.osm.read_osm_file` reads it.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from ...errors import MissingInputError
from ...progress import log, track
from ...settings import get_settings

__all__ = ["GEOFABRIK_CHONGQING_URL", "ResumingDownloader", "fetch_geofabrik"]

GEOFABRIK_CHONGQING_URL = "https://download.geofabrik.de/asia/china/chongqing-latest.osm.pbf"
"""Geofabrik's daily Chongqing extract (the offline alternative to Overpass)."""

_CHUNK = 1 << 20


class ResumingDownloader:
    """A pooch downloader that resumes from ``<part>`` (HTTP ``Range``) and reports progress.

    Parameters
    ----------
    part
        The partial file kept between attempts and runs (``<extract>.part``).
    timeout
        HTTP timeout in seconds.
    """

    def __init__(self, part: Path, timeout: int = 600) -> None:
        self.part = Path(part)
        self.timeout = timeout

    def __call__(self, url: str, output_file: Any, pooch: Any = None, check_only: bool = False) -> bool | None:
        """Download *url* into *output_file* (a path), continuing a previous partial download."""
        import requests

        if check_only:
            return requests.head(url, timeout=self.timeout, allow_redirects=True).ok
        have = self.part.stat().st_size if self.part.is_file() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, stream=True, timeout=self.timeout, headers=headers) as resp:
            if not (have and resp.status_code == 416):  # 416: the part already holds the whole file
                resp.raise_for_status()
                if have and resp.status_code != 206:  # the server ignored Range: start again
                    have = 0
                if have:
                    log.info("继续下载 resuming %s at %.1f MB", url, have / 1e6)
                size = int(resp.headers.get("content-length") or 0)
                chunks = resp.iter_content(chunk_size=_CHUNK)
                with self.part.open("ab" if have else "wb") as fh:
                    for chunk in track(chunks, f"下载 downloading {url.rsplit('/', 1)[-1]}", total=math.ceil(size / _CHUNK) or None):
                        fh.write(chunk)
        shutil.move(str(self.part), str(output_file))
        return None


def fetch_geofabrik(
    dest_dir: str | os.PathLike[str] | None = None,
    url: str = GEOFABRIK_CHONGQING_URL,
    timeout: int = 600,
    retries: int = 3,
) -> Path:
    """Download a Geofabrik extract (default: Chongqing), verify its MD5, return the path.

    Needs internet.  An interrupted download continues from ``<dest_dir>/<name>.part``;
    the file is moved into place only once complete and matching Geofabrik's ``<url>.md5``;
    a file already there with the right MD5 is not downloaded again.

    Parameters
    ----------
    dest_dir
        Folder; default ``get_settings().cache_dir / 'geofabrik'``.
    url
        Extract URL, default :data:`GEOFABRIK_CHONGQING_URL`.
    timeout
        HTTP timeout in seconds.
    retries
        Further attempts after a failed or corrupt download (pooch waits 1, 2, … s between them).

    Returns
    -------
    Path
        The downloaded ``.osm.pbf`` (read it with :func:`read_osm_file`).

    Raises
    ------
    MissingInputError
        If the download fails or the checksum does not match.
    """
    import pooch
    import requests

    folder = Path(dest_dir) if dest_dir is not None else get_settings().cache_dir / "geofabrik"
    folder.mkdir(parents=True, exist_ok=True)
    base, name = url.rsplit("/", 1)
    target = folder / name
    fix = f"download {url} with a browser on a connected machine and copy it to {target}"
    try:
        md5 = requests.get(url + ".md5", timeout=timeout)
        md5.raise_for_status()
        expected = md5.text.split()[0].strip().lower()
        fetcher = pooch.create(path=folder, base_url=base + "/", registry={name: f"md5:{expected}"}, retry_if_failed=retries)
        path = fetcher.fetch(name, downloader=ResumingDownloader(folder / f"{name}.part", timeout=timeout))
    except (requests.exceptions.RequestException, OSError, IndexError) as exc:
        raise MissingInputError(f"could not download the OSM extract: {exc}", where=url, fix=fix) from exc
    except ValueError as exc:  # pooch: the file's MD5 differs from the published one (after every retry)
        raise MissingInputError(f"the downloaded extract does not match Geofabrik's MD5 checksum ({exc})", where=url, fix=fix) from exc
    return Path(path)
