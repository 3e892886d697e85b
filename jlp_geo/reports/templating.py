"""How a report page is rendered: the Jinja2 environment and the table/figure pieces it is fed.

The templates live in ``jlp_geo/reports/templates/`` (package data).  Every ``{{ value }}``
is escaped on the way out with :func:`jlp_geo.viz.escape.escape_text`, which is stricter
than Jinja's own escaping (it also neutralises backticks, ``$``, ``{`` and line breaks) and
writes missing values (``None``, NaN) as nothing.  The only values that pass unescaped are
:class:`markupsafe.Markup` ones: template macros and the SVG charts of
:mod:`jlp_geo.reports.charts`, which escape every data string they contain themselves.

Reports describe their content with three small value types instead of HTML:

* :class:`Cell` -- a table cell with an English part, a CSS class or bold text;
* :class:`Table` -- headers, rows of cells, column widths, numeric columns, row classes;
* :class:`Figure` -- an SVG chart with its caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..viz.escape import escape_text

__all__ = ["Cell", "Figure", "Table", "environment", "escape_output", "render_template"]


@dataclass(frozen=True)
class Cell:
    """A table cell that is more than plain text.

    Attributes
    ----------
    text
        The text (escaped when rendered).
    en
        English text shown after it in a ``<span class="en">`` (optional).
    css
        CSS class of a ``<span>`` around *text* (``"yes"``, ``"no"``, ``"status-nc"`` …); None for no span.
    bold
        Write *text* in bold.
    """

    text: str
    en: str = ""
    css: str | None = None
    bold: bool = False


@dataclass(frozen=True)
class Table:
    """A table for the ``table`` template macro.

    Attributes
    ----------
    headers
        ``(Chinese, English)`` per column; English may be ``""``.
    rows
        One sequence of cells per row: plain values (escaped when rendered) or :class:`Cell`.
    widths
        Column widths in % of the page width (a ``<colgroup>``); None lets the browser decide.
    numeric
        Indices of right-aligned numeric columns.
    row_classes
        CSS class per row (``""`` for none), e.g. ``"whole"`` or ``"flag"``.
    """

    headers: Sequence[tuple[str, str]]
    rows: Sequence[Sequence[object]]
    widths: Sequence[float] | None = None
    numeric: Sequence[int] = ()
    row_classes: Sequence[str] | None = None


@dataclass(frozen=True)
class Figure:
    """An inline SVG chart and its caption, for the ``figure`` template macro.

    Attributes
    ----------
    svg
        The chart from :mod:`jlp_geo.reports.charts` (already escaped inside).
    caption
        Caption text (escaped when rendered).
    """

    svg: Markup
    caption: str


def escape_output(value: object) -> Markup:
    """Escape one template output value (the environment's ``finalize``).

    Parameters
    ----------
    value
        A value from ``{{ … }}``.

    Returns
    -------
    Markup
        *value* itself if it is already markup (a macro result, a chart), else
        :func:`~jlp_geo.viz.escape.escape_text` of it (``None`` and NaN give ``""``).
    """
    if hasattr(value, "__html__"):
        return Markup(value)
    return Markup(escape_text(value))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescaping, strict undefined).

    Returns
    -------
    jinja2.Environment
        Loads ``jlp_geo/reports/templates``; ``cell`` is a test for :class:`Cell` values.
    """
    env = Environment(
        loader=PackageLoader("jlp_geo.reports", "templates"),
        autoescape=True,
        finalize=escape_output,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.tests["cell"] = lambda v: isinstance(v, Cell)
    return env


def render_template(name: str, **context: object) -> str:
    """Render the template *name* with *context*.

    Parameters
    ----------
    name
        File name in ``jlp_geo/reports/templates`` (e.g. ``"indicator_report.html.j2"``).
    **context
        Template variables.

    Returns
    -------
    str
        The rendered page.
    """
    return environment().get_template(name).render(**context)
