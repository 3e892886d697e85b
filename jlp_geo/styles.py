"""Layer display styles, read from ``layers/styles.yml`` (one table for QGIS and web maps)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ProfileError
from .settings import get_settings

__all__ = ["GraduatedClass", "LayerStyle", "load_styles", "style_for"]


@dataclass(frozen=True)
class GraduatedClass:
    """One class of a graduated (choropleth) style: ``lower <= value < upper`` (the last class includes *upper*)."""

    lower: float
    upper: float
    colour: str
    label_zh: str


@dataclass(frozen=True)
class LayerStyle:
    """How one layer is drawn and labelled.

    Attributes
    ----------
    category_field, categories, category_labels
        Categorised style: colour per value of *category_field*; legend labels
        (Chinese) per value from *category_labels*, else from the column
        *category_label_field* of the data, else the value itself; values with no
        colour of their own take a stable colour from *palette*.
    graduated_field, graduated
        Graduated style (coverage shares, waste generation): classes by value.
    label_field
        Field labelled on the map; ``None`` for no labels (e.g. H3 cells).
    """

    name: str
    title_zh: str
    title_en: str
    group: str
    geometry: str
    colour: str
    fill_opacity: float = 0.2
    width: float = 1.5
    dash: str | None = None
    label_field: str | None = "name_zh"
    category_field: str | None = None
    categories: dict[str, str] = field(default_factory=dict)
    category_labels: dict[str, str] = field(default_factory=dict)
    category_label_field: str | None = None
    palette: tuple[str, ...] = ()
    graduated_field: str | None = None
    graduated: tuple[GraduatedClass, ...] = ()
    graduated_unit: str = ""

    def colour_of(self, value: object) -> str:
        """Colour for a feature whose category value is *value* (``categories``, else a stable pick from ``palette``)."""
        text = str(value)
        if text in self.categories:
            return self.categories[text]
        if self.palette:
            return self.palette[zlib.crc32(text.encode("utf-8")) % len(self.palette)]
        return self.colour

    def label_of(self, value: object) -> str:
        """Chinese legend label of category *value* (the value itself when none is given)."""
        return self.category_labels.get(str(value), str(value))


def _style(name: str, spec: dict) -> LayerStyle:
    spec = dict(spec)
    classes = tuple(
        GraduatedClass(float(c["lower"]), float(c["upper"]), str(c["colour"]), str(c["label_zh"]))
        for c in spec.pop("graduated", None) or ()
    )
    palette = tuple(spec.pop("palette", None) or ())
    return LayerStyle(name=name, graduated=classes, palette=palette, **spec)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, LayerStyle]:
    if not path.is_file():
        raise ProfileError("layer style table not found", where=str(path), fix="restore layers/styles.yml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return {name: _style(name, spec) for name, spec in raw.items()}
    except (TypeError, KeyError, ValueError) as exc:
        raise ProfileError(f"bad entry in the layer style table: {exc}", where=str(path),
                           fix="check the keys against jlp_geo.styles.LayerStyle") from exc


def load_styles(path: str | Path | None = None) -> dict[str, LayerStyle]:
    """Return ``{layer name: LayerStyle}`` from *path* (default ``layers/styles.yml``)."""
    return _load(Path(path) if path else get_settings().layers_dir / "styles.yml")


def style_for(layer: str) -> LayerStyle:
    """Style of *layer*; a neutral grey style for layers not in the table."""
    styles = load_styles()
    if layer in styles:
        return styles[layer]
    return LayerStyle(name=layer, title_zh=layer, title_en=layer, group="其他 Other", geometry="any", colour="#555555")
