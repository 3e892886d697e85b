"""Writing outputs: GeoPackage (QGIS styles, metadata, atomic) and tables (CSV/Excel).

Everything is written to a temporary file beside the target and moved into
place with :func:`os.replace` only once complete, so a failed run never leaves a
half-written GeoPackage, table or map.

GeoPackages are written as GPKG 1.2 (QGIS >= 3.22 and ArcGIS Pro >= 3.1 read it; GDAL's
``validate_gpkg.py`` passes), one layer per geometry type, with a QGIS ``layer_styles`` table
holding one default style per layer (Chinese labels, complete label settings, categorised or
graduated symbols from ``layers/styles.yml``), QGIS layer metadata (QMD) and dataset/layer
metadata (sources, licences, precision notes) in the standard ``gpkg_metadata`` tables.
Excel workbooks get widths, number formats, a frozen header and a filter
(``layers/table_columns.csv``).
"""

from .gpkg import GPKG_VERSION, read_gpkg_info, split_by_geometry, valid_geometries, write_geopackage
from .qgis_style import gpkg_timestamp, layer_qmd, qgis_style_qml, write_layer_styles
from .staging import atomic_path, staged_outputs
from .tables import BASE_HEADERS_ZH, column_format, display_width, headers_zh, table_from_layer, write_csv, write_excel

__all__ = [
    "BASE_HEADERS_ZH",
    "GPKG_VERSION",
    "atomic_path",
    "column_format",
    "display_width",
    "gpkg_timestamp",
    "headers_zh",
    "layer_qmd",
    "qgis_style_qml",
    "read_gpkg_info",
    "split_by_geometry",
    "staged_outputs",
    "table_from_layer",
    "valid_geometries",
    "write_csv",
    "write_excel",
    "write_geopackage",
    "write_layer_styles",
]
