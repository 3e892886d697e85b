"""Typed library defaults: folders, cache and CRS.

Tests and scripts redirect them with :func:`configure` (or the ``JLP_GEO_*``
environment variables) instead of patching module globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _default_layers_dir() -> Path:
    """Locate the project's ``layers/`` data folder (profile + digitised plan layers)."""
    env = os.environ.get("JLP_GEO_LAYERS_DIR")
    if env:
        return Path(env)
    for candidate in (_PACKAGE_DIR.parent / "layers", _PACKAGE_DIR / "_layers"):
        if (candidate / "jiulongpo.yml").is_file():
            return candidate
    return _PACKAGE_DIR.parent / "layers"


@dataclass(frozen=True)
class Settings:
    """Library-wide defaults.

    Attributes
    ----------
    layers_dir
        Folder holding ``jiulongpo.yml`` and the digitised plan layers.
    cache_dir
        Folder for downloaded data (Overpass responses, rasters).
    storage_crs
        CRS in which layers are stored and exported (CGCS2000 geographic).
    analysis_crs
        Metric CRS for measuring (CGCS2000 3-degree Gauss-Krüger, CM 105E).
    display_crs
        CRS used only for web maps (WGS84; Leaflet expects it).
    """

    layers_dir: Path = _default_layers_dir()
    cache_dir: Path = Path(os.environ.get("JLP_GEO_CACHE_DIR", Path.home() / ".cache" / "jlp_geo"))
    storage_crs: str = "EPSG:4490"
    analysis_crs: str = "EPSG:4544"
    display_crs: str = "EPSG:4326"


_current = Settings()


def get_settings() -> Settings:
    """Return the settings in force."""
    return _current


def configure(**changes: object) -> Settings:
    """Replace some settings (e.g. ``configure(cache_dir=tmp_path)``) and return the new ones."""
    global _current
    _current = replace(_current, **changes)  # type: ignore[arg-type]
    return _current
