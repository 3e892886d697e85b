"""Open GeoPackages in headless QGIS with their default styles, render them and report what QGIS did.

Run with the system Python that has PyQGIS (Debian ``python3-qgis``), not the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/clients/qgis_check.py OUT.png a.gpkg [b.gpkg ...]

Prints one JSON object: per layer the renderer type, symbol colours, legend labels, label
settings, QMD metadata and, for point layers, how many located features were drawn with a
marker (checked on the rendered image at each point's pixel); for the first GeoPackage
rendered with all its layers, the number of labels QGIS placed.
"""

from __future__ import annotations

import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProviderRegistry,
    QgsRectangle,
    QgsRenderContext,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

SIZE = (1600, 1600)


def open_layers(path: str) -> list[QgsVectorLayer]:
    meta = QgsProviderRegistry.instance().providerMetadata("ogr")
    layers = []
    for sub in meta.querySublayers(path):
        if sub.name() == "layer_styles":
            continue
        layer = QgsVectorLayer(f"{path}|layername={sub.name()}", sub.name(), "ogr")
        if layer.isValid():
            layers.append(layer)
    return layers


def render(layers: list[QgsVectorLayer], png: str | None):
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))  # first layer at the bottom, like the GeoPackage order
    extent = QgsRectangle()
    for layer in layers:
        if layer.featureCount() and not layer.extent().isNull():  # a single point has an empty (zero-size) extent
            extent.combineExtentWith(layer.extent())
    extent.grow(max(extent.width(), extent.height(), 0.01) * 0.05)  # also for a single point
    settings.setExtent(extent)
    settings.setOutputSize(QSize(*SIZE))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setDestinationCrs(layers[0].crs())
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if png:
        image.save(png)
    results = job.takeLabelingResults()
    labels = results.allLabels() if results is not None else []
    return settings, image, labels


def describe(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    ctx = QgsRenderContext()
    symbols = renderer.symbols(ctx) if renderer else []
    legend = [item.label() for item in renderer.legendSymbolItems()] if renderer else []
    labeling = layer.labeling()
    pal = labeling.settings() if labeling is not None and hasattr(labeling, "settings") else None
    md = layer.metadata()
    return {
        "geometry": QgsWkbTypes.geometryDisplayString(layer.geometryType()),
        "features": layer.featureCount(),
        "renderer": renderer.type() if renderer else None,
        "colours": sorted({s.color().name() for s in symbols}),
        "symbol_types": sorted({int(s.type()) for s in symbols}),
        "legend": legend,
        "labels_enabled": bool(layer.labelsEnabled()),
        "label_field": pal.fieldName if pal else None,
        "obstacle_type": int(pal.obstacleSettings().type()) if pal else None,
        "priority": pal.priority if pal else None,
        "placement_flags": int(pal.placementFlags) if pal else None,
        "md_title": md.title(),
        "md_abstract": md.abstract()[:200],
        "md_licences": list(md.licenses()),
    }


def markers_drawn(layer: QgsVectorLayer, settings: QgsMapSettings, image) -> tuple[int, int]:
    """(located point features, those with a non-white pixel within 2 px of their position)."""
    xform = settings.mapToPixel()
    located = drawn = 0
    for feature in layer.getFeatures():
        geom = feature.geometry()
        if geom.isNull() or geom.isEmpty():
            continue
        for part in geom.asMultiPoint() if geom.isMultipart() else [geom.asPoint()]:
            located += 1
            px = xform.transform(QgsPointXY(part))
            x, y = int(round(px.x())), int(round(px.y()))
            hit = any(
                0 <= x + dx < image.width() and 0 <= y + dy < image.height()
                and QColor(image.pixel(x + dx, y + dy)).lightness() < 240
                for dx in range(-2, 3) for dy in range(-2, 3)
            )
            drawn += int(hit)
    return located, drawn


def main(argv: list[str]) -> int:
    png, paths = argv[1], argv[2:]
    app = QgsApplication([], False)
    app.initQgis()
    report: dict = {"files": {}}
    for i, path in enumerate(paths):
        layers = open_layers(path)
        info = {layer.name(): describe(layer) for layer in layers}
        if i == 0:
            _, _, labels = render(layers, png)
            report["labels_placed"] = len(labels)
            report["labels_by_layer"] = {}
            ids = {layer.id(): layer.name() for layer in layers}
            for label in labels:
                name = ids.get(label.layerID, "?")
                report["labels_by_layer"][name] = report["labels_by_layer"].get(name, 0) + 1
        for layer in layers:
            if layer.geometryType() == QgsWkbTypes.PointGeometry and layer.featureCount():
                settings, image, _ = render([layer], None)
                info[layer.name()]["points_located"], info[layer.name()]["points_drawn"] = markers_drawn(layer, settings, image)
        report["files"][path] = info
    print(json.dumps(report, ensure_ascii=False), flush=True)
    sys.stderr.flush()
    os._exit(0)  # QgsApplication.exitQgis() can crash on teardown in headless PyQGIS 3.22


if __name__ == "__main__":
    sys.exit(main(sys.argv))
