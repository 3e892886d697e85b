"""Census residents per 镇街 from a planner's CSV (``name_zh``, ``population``, optional ``source``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputDataError, MissingInputError
from ..notices import warn

__all__ = ["read_census"]


def read_census(path: str | Path) -> tuple[dict[str, float], str]:
    """Read residents per 镇街 from a CSV (``name_zh``, ``population``, optional ``source``)."""
    path = Path(path)
    if not path.is_file():
        raise MissingInputError("census file not found", where=f"--census {path}", fix="check the path")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves CSV as GBK
            df = pd.read_csv(path, encoding="gbk")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputDataError(f"cannot read the census CSV: {exc}", where=f"--census {path}", fix="save it as UTF-8 CSV") from exc
        warn(f"--census {path.name}: 文件不是 UTF-8，按 GBK 读取 — the CSV is not UTF-8: read as GBK (Excel on Chinese Windows)")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputDataError(f"cannot read the census CSV: {exc}", where=f"--census {path}", fix="save it as UTF-8 CSV") from exc
    missing = [c for c in ("name_zh", "population") if c not in df.columns]
    if missing:
        raise InputDataError(f"missing column(s) {missing}; the file has {list(df.columns)}", where=f"--census {path}",
                             fix="use the header: name_zh,population[,source]")
    pop = pd.to_numeric(df["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        rows = [int(i) + 2 for i in df.index[pop.isna() | (pop < 0)]][:10]
        raise InputDataError(f"population is not a non-negative number on line(s) {rows}", where=f"--census {path}")
    source = "; ".join(sorted(set(df["source"].dropna().astype(str)))) if "source" in df.columns else f"census file {path.name}"
    return dict(zip(df["name_zh"].astype(str), pop.astype(float))), source
