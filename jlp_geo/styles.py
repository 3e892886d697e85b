"""Layer display styles, read from ``layers/styles.yml`` (one table for QGIS and web maps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ProfileError
from .settings import get_settings


@dataclass(frozen=True)
class LayerStyle:
    """How one layer is drawn and labelled."""

    name: str
    title_zh: str
    title_en: str
    group: str
    geometry: str
    colour: str
    fill_opacity: float = 0.2
    width: float = 1.5
    dash: str | None = None
    label_field: str = "name_zh"
    category_field: str | None = None
    categories: dict[str, str] = field(default_factory=dict)

    def colour_of(self, value: object) -> str:
        """Colour for a feature whose category value is *value*."""
        return self.categories.get(str(value), self.colour)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, LayerStyle]:
    if not path.is_file():
        raise ProfileError("layer style table not found", where=str(path), fix="restore layers/styles.yml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {name: LayerStyle(name=name, **spec) for name, spec in raw.items()}


def load_styles(path: str | Path | None = None) -> dict[str, LayerStyle]:
    """Return ``{layer name: LayerStyle}`` from *path* (default ``layers/styles.yml``)."""
    return _load(Path(path) if path else get_settings().layers_dir / "styles.yml")


def style_for(layer: str) -> LayerStyle:
    """Style of *layer*; a neutral grey style for layers not in the table."""
    styles = load_styles()
    if layer in styles:
        return styles[layer]
    return LayerStyle(name=layer, title_zh=layer, title_en=layer, group="其他 Other", geometry="any", colour="#555555")
