"""Tables for Excel on Chinese Windows: CSV (UTF-8 with BOM) and formatted .xlsx with Chinese headers, atomic.

The workbooks are meant to be read at once: Chinese headers (the job's own, else
``layers/table_columns.csv``), column widths fitted to the text (CJK characters
count double), number formats per column (percent, thousands, fixed decimals —
the rules are stated once, in ``layers/table_columns.csv``, and listed in each
workbook's ``列说明`` sheet), a frozen header row and a filter. Formats round only
the display; cells keep their full values.
"""

from __future__ import annotations

import fnmatch
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..settings import get_settings
from .staging import atomic_path

__all__ = [
    "BASE_HEADERS_ZH",
    "ColumnFormat",
    "column_format",
    "display_width",
    "headers_zh",
    "load_column_formats",
    "table_from_layer",
    "write_csv",
    "write_excel",
]

#: Chinese headers of the columns shared by all layers; modules add their own.
BASE_HEADERS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称 name_en",
    "source": "来源 source",
    "precision": "精度 precision",
    "uncertainty_m": "位置不确定性(米) uncertainty_m",
    "kind": "类别 kind",
    "status": "状态 status",
    "area_km2": "面积(平方千米) area_km2",
    "notes": "备注 notes",
    "lon": "经度 lon (CGCS2000)",
    "lat": "纬度 lat (CGCS2000)",
    "has_geometry": "已定位 located",
}

_EXCEL_FORMATS = {"percent": "0{d}%", "pct": "#,##0{d}", "decimal": "#,##0{d}", "integer": "#,##0", "year": "0{d}", "text": "@"}
_FORMAT_ZH = {"percent": "百分比", "pct": "百分数（数值已×100）", "decimal": "小数", "integer": "整数（千分位）", "year": "年份", "text": "文本"}


@dataclass(frozen=True)
class ColumnFormat:
    """How one column is shown in Excel: Chinese header (optional), format kind and decimals."""

    header_zh: str | None
    kind: str
    decimals: int
    note_zh: str = ""

    @property
    def excel(self) -> str:
        """The Excel number format code."""
        d = "." + "0" * self.decimals if self.decimals > 0 and self.kind not in ("integer", "text") else ""
        return _EXCEL_FORMATS[self.kind].format(d=d)

    @property
    def rule_zh(self) -> str:
        """The rule in words, e.g. ``百分比，1位小数``."""
        if self.kind in ("text", "integer"):
            return _FORMAT_ZH[self.kind]
        return f"{_FORMAT_ZH[self.kind]}，{self.decimals}位小数"


@lru_cache(maxsize=4)
def load_column_formats(path: Path | None = None) -> tuple[tuple[str, ColumnFormat], ...]:
    """The ``(column pattern, ColumnFormat)`` rules of ``layers/table_columns.csv``, in priority order."""
    path = path or get_settings().layers_dir / "table_columns.csv"
    if not path.is_file():
        return ()
    df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, encoding="utf-8")
    return tuple(
        (r["column"], ColumnFormat(r["header_zh"] or None, r["format"], int(r["decimals"] or 0), r["note_zh"]))
        for _, r in df.iterrows()
    )


def column_format(name: str, series: pd.Series | None = None) -> ColumnFormat:
    """The format of column *name*: the first matching rule, else by its values (integer or 2 decimals).

    A rule's header may hold ``{}``: the part of the name the ``*`` matched (``share_time_*`` →
    ``步行时间覆盖率 {}`` → ``步行时间覆盖率 clinic``).
    """
    for pattern, fmt in load_column_formats():
        if name == pattern or ("*" in pattern and fnmatch.fnmatchcase(name, pattern)):
            if fmt.header_zh and "{}" in fmt.header_zh:
                rest = name[pattern.index("*"): len(name) - (len(pattern) - pattern.index("*") - 1)]
                return ColumnFormat(fmt.header_zh.replace("{}", rest), fmt.kind, fmt.decimals, fmt.note_zh)
            return fmt
    if series is not None and pd.api.types.is_bool_dtype(series):
        return ColumnFormat(None, "text", 0)
    if series is not None and pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").dropna()
        whole = pd.api.types.is_integer_dtype(series) or (len(values) > 0 and bool((values == values.round()).all()))
        return ColumnFormat(None, "integer" if whole else "decimal", 0 if whole else 2, "" if whole else "默认")
    return ColumnFormat(None, "text", 0)


def headers_zh(columns: list[str], extra: Mapping[str, str] | None = None, *, table: bool = False) -> dict[str, str]:
    """Map column names to Chinese headers (base + *extra*), leaving unknown ones as they are.

    With *table*, columns still without one take the header of ``layers/table_columns.csv``
    (the workbooks do; the CSVs keep their headers so that readers of them keep working).
    """
    mapping = {**BASE_HEADERS_ZH, **(extra or {})}
    return {c: mapping.get(c) or (column_format(c).header_zh if table else None) or c for c in columns}


def display_width(text: object) -> int:
    """Width of *text* in monospace cells: East Asian wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def table_from_layer(gdf: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """A plain table of a layer: attributes plus lon/lat of point features (or centroid), no geometry."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        return pd.DataFrame(gdf)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    geom = gdf.geometry
    located = geom.notna() & ~geom.is_empty
    df["has_geometry"] = located.values
    if located.any() and all(t == "Point" for t in geom[located].geom_type):
        df["lon"] = geom.x.round(6).where(located)
        df["lat"] = geom.y.round(6).where(located)
    return df


def write_csv(df: pd.DataFrame, path: str | Path, extra_headers: Mapping[str, str] | None = None) -> Path:
    """Write *df* as CSV for Excel on Chinese Windows: UTF-8 with BOM, Chinese headers, atomic."""
    path = Path(path)
    out = df.rename(columns=headers_zh(list(df.columns), extra_headers))
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def _format_sheet(ws, df: pd.DataFrame, formats: list[ColumnFormat]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    n_rows = len(df) + 1
    for j, (col, fmt) in enumerate(zip(df.columns, formats), 1):
        cell = ws.cell(row=1, column=j)
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sample = df[col].head(300)
        shown = [display_width(v) for v in sample.dropna().astype(str)] if fmt.kind == "text" else [
            display_width(f"{v:,.{fmt.decimals}f}") + (1 if fmt.kind == "percent" else 0)
            for v in pd.to_numeric(sample, errors="coerce").dropna() * (100 if fmt.kind == "percent" else 1)]
        header_w = min(display_width(ws.cell(row=1, column=j).value), 24)
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(60, max([header_w, *shown]) + 2))
        if fmt.kind != "text":
            for i in range(2, n_rows + 1):
                ws.cell(row=i, column=j).number_format = fmt.excel
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{n_rows}"


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | Path, extra_headers: Mapping[str, str] | None = None) -> Path:
    """Write several tables to one formatted .xlsx (sheet names ≤ 31 chars), Chinese headers, atomic.

    Every sheet gets fitted widths, number formats per column (:func:`column_format`),
    a frozen header row and a filter; a last sheet ``列说明`` lists each column's Chinese
    header, English name and format rule (stated once for the whole workbook).
    """
    path = Path(path)
    legend: list[tuple[str, str, str, str]] = []
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, df in sheets.items():
                sheet = name[:31]
                headers = headers_zh(list(df.columns), extra_headers, table=True)
                formats = [column_format(c, df[c]) for c in df.columns]
                df.rename(columns=headers).to_excel(xl, sheet_name=sheet, index=False)
                _format_sheet(xl.sheets[sheet], df, formats)
                legend += [(sheet, headers[c], c, f.rule_zh + (f"（{f.note_zh}）" if f.note_zh else "")) for c, f in zip(df.columns, formats)]
            notes = pd.DataFrame(legend, columns=["工作表 sheet", "中文表头 header", "英文列名 column", "显示格式与舍入 format"])
            notes.to_excel(xl, sheet_name="列说明", index=False)
            _format_sheet(xl.sheets["列说明"], notes, [ColumnFormat(None, "text", 0)] * 4)
    return path
