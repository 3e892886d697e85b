"""How a value is written in a report: numbers, gaps to a target, sources, missing values.

Every function returns *plain text* (never HTML): the page templates escape it on the
way out (:mod:`jlp_geo.reports.templating`), and the SVG charts escape it when they
draw it (:mod:`jlp_geo.reports.charts`).  Both reports use these, so a number looks
the same in a table, in a chart label and in either report.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["NO_VALUE", "format_gap", "format_number", "format_value", "is_missing", "is_number", "source_text"]

#: Shown where a value is missing or not a finite number.
NO_VALUE = "—"


def is_number(value: object) -> bool:
    """Whether *value* is a finite real number (``bool`` is not a number here).

    Parameters
    ----------
    value
        Anything.

    Returns
    -------
    bool
        True for finite ``int`` / ``float`` / NumPy numbers.
    """
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def is_missing(value: object) -> bool:
    """Whether *value* is ``None`` or a NaN-like missing value (NaN, ``pandas.NA``, ``NaT``).

    Parameters
    ----------
    value
        Anything.

    Returns
    -------
    bool
        True when there is nothing to show.
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 -- NaN, pandas.NA, NaT
    except (TypeError, ValueError):
        return False


def format_value(value: object, unit: str = "", digits: int | None = None) -> str:
    """An indicator value with its unit: ``"45.3%"``, ``"12.34 km"``, ``"1,200 m²"``.

    Parameters
    ----------
    value
        The number; anything that is not a finite number gives ``"—"``.
    unit
        Unit written after the number (``%`` directly, others after a space).
    digits
        Decimals; default 1 for ``%`` and ``年``, 2 for ``km``, else 0.

    Returns
    -------
    str
        Plain text with thousands separators.
    """
    if not is_number(value):
        return NO_VALUE
    v = float(value)  # type: ignore[arg-type]
    if digits is None:
        digits = 1 if unit in ("%", "年") else (2 if unit == "km" else 0)
    text = f"{v:,.{digits}f}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def format_gap(value: object, unit: str) -> str:
    """A signed gap to a target: ``"+3.2 个百分点"``, ``"−1.50 km"``, ``"±0.00 年"``.

    Parameters
    ----------
    value
        Value minus target; anything that is not a finite number gives ``"—"``.
    unit
        Unit of the value; a gap in ``%`` is written in percentage points (个百分点).

    Returns
    -------
    str
        Plain text.
    """
    if not is_number(value):
        return NO_VALUE
    v = float(value)  # type: ignore[arg-type]
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    digits = 1 if unit in ("%", "年") else 2
    return f"{sign}{abs(v):,.{digits}f}{' 个百分点' if unit == '%' else ' ' + unit}"


def format_number(value: object, digits: int | str = 2) -> str:
    """A table number: *digits* decimals with thousands separators, or a format spec.

    Parameters
    ----------
    value
        Anything; a value that is not a number is written as text (missing as ``""``),
        a non-finite number as ``"—"``.
    digits
        Decimals (``int``) or a :func:`format` spec string such as ``".1f"``.

    Returns
    -------
    str
        Plain text.
    """
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "" if is_missing(value) else str(value)
    if not math.isfinite(f):
        return NO_VALUE
    return format(f, digits) if isinstance(digits, str) else f"{f:,.{digits}f}"


def source_text(source: object, date: object) -> str:
    """A short "data source, date" note (``OpenStreetMap via`` shortened to ``OSM:``).

    Parameters
    ----------
    source, date
        Source description and its date; the date is left out when the source already
        names it or it is ``"unknown"``.

    Returns
    -------
    str
        Plain text, ``"—"`` when there is neither.
    """
    src, dt = str(source or ""), str(date or "")
    text = src if (not dt or dt in src or dt == "unknown") else f"{src}, {dt}"
    return text.replace("OpenStreetMap via ", "OSM: ") if text else NO_VALUE
