"""Writing outputs: GeoPackage (QGIS styles, metadata, atomic) and tables (CSV/Excel).

Everything is written to a temporary file beside the target and moved into
place with :func:`os.replace` only once complete, so a failed run never leaves a
half-written GeoPackage, table or map.

GeoPackages are written as GPKG 1.2 (QGIS >= 3.22 and ArcGIS Pro >= 3.1 read it),
with a QGIS ``layer_styles`` table holding one default style per layer (Chinese
labels) and dataset/layer metadata (sources, licences, precision notes) in the
standard ``gpkg_metadata`` tables written by GDAL.
"""

from .gpkg import GPKG_VERSION, read_gpkg_info, write_geopackage
from .qgis_style import qgis_style_qml, write_layer_styles
from .staging import atomic_path, staged_outputs
from .tables import BASE_HEADERS_ZH, headers_zh, table_from_layer, write_csv, write_excel

__all__ = [
    "BASE_HEADERS_ZH",
    "GPKG_VERSION",
    "atomic_path",
    "headers_zh",
    "qgis_style_qml",
    "read_gpkg_info",
    "staged_outputs",
    "table_from_layer",
    "write_csv",
    "write_excel",
    "write_geopackage",
    "write_layer_styles",
]
