"""The charts of both reports, as small inline SVG (no script, nothing fetched).

* :func:`bar_panels` -- blocks of horizontal bars (:class:`BarPanel`: one or more series
  per item, optional axis grid and dashed target line) in one SVG, e.g. waste generation vs
  capacity with one scale per unit; :func:`bar_chart` is one such block (coverage per 镇街,
  rail length, landfill life);
* :func:`stacked_bar_chart` -- 100 % stacked bars with a legend (walk-time distribution);
* :func:`fill_up_chart` -- cumulative landfilled volume over time against the landfill
  capacities (waste report), with :func:`fill_up_series` giving each line.

Every text that goes into an SVG -- labels from data, titles, legends, numbers -- passes
:func:`jlp_geo.viz.escape.escape_text` here, so the returned :class:`~markupsafe.Markup`
is safe to put into a page as it is.  Coordinates are in viewBox units; the page CSS
scales the SVG to the page width.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ..viz.escape import escape_text
from .format import format_value, is_number

__all__ = [
    "BAND_COLOURS",
    "PALETTE",
    "BarPanel",
    "bar_chart",
    "bar_panels",
    "fill_up_chart",
    "fill_up_series",
    "stacked_bar_chart",
    "svg_text",
]

#: Series colours of :func:`bar_chart`.
PALETTE = ("#1b6ca8", "#e07b39", "#3a9a5b", "#8e5ea2", "#c44e52", "#7f7f7f")
#: Band colours of :func:`stacked_bar_chart` (green = near, red = far).
BAND_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#b2182b")


def svg_text(x: float, y: float, text: object, *, size: float = 11, anchor: str = "start", fill: str = "#222",
             weight: str = "normal", transform: str = "", halo: bool = False) -> str:
    """One SVG ``<text>`` element; *text* and *fill* are escaped.

    Parameters
    ----------
    x, y
        Position (viewBox units).
    text
        The text (any value; escaped).
    size, anchor, fill, weight
        Font size, ``text-anchor``, colour and weight.
    transform
        Optional SVG ``transform`` (e.g. a rotation).
    halo
        Draw a white outline under the letters, so a line passing behind the text does not hide it.

    Returns
    -------
    str
        SVG markup.
    """
    extra = f' transform="{escape_text(transform)}"' if transform else ""
    if halo:
        extra += ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{escape_text(fill)}" '
            f'font-weight="{weight}"{extra}>{escape_text(text)}</text>')


def _text_width(text: str, size: float) -> float:
    """Approximate width of *text* at font *size*: CJK characters one em, others about half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.56 for ch in text)


def _svg(width: float, height: float, title: str, parts: Sequence[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" role="img" '
            f'aria-label="{escape_text(title)}"><title>{escape_text(title)}</title>')
    return Markup(head + "".join(parts) + "</svg>")


@dataclass(frozen=True)
class BarPanel:
    """One block of horizontal bars in a :func:`bar_panels` chart.

    Attributes
    ----------
    items
        ``(label, values)``; one value per series (NaN = not computed, drawn as "—").
    series
        Series names (a legend is drawn for more than one).
    unit, digits
        Unit and decimals of the value labels and axis (:func:`~jlp_geo.reports.format.format_value`).
    max_value
        Axis maximum (default 100 for %, else 1.1 × the largest value or target).
    target, target_label
        Optional target drawn as a dashed vertical line, and its label.
    title
        Panel title (bold, above the bars).
    colours
        One colour per *item* (single-series panels whose bars differ); default one per series.
    axis
        Draw the vertical grid with axis labels.
    """

    items: Sequence[tuple[str, Sequence[float]]]
    series: Sequence[str] = ("",)
    unit: str = "%"
    digits: int | None = None
    max_value: float | None = None
    target: float | None = None
    target_label: str = ""
    title: str = ""
    colours: Sequence[str] | None = None
    axis: bool = True


def _panel(p: BarPanel, y_top: int, width: int, label_w: int, value_w: int, bar_h: int) -> tuple[list[str], int]:
    """SVG parts of one panel drawn from *y_top* down, and the panel height."""
    pad, gap = 6, 7
    font = 10 if bar_h < 14 else 12
    n = max(len(p.series), 1)
    top = y_top + 22 + (16 if len(p.series) > 1 else 0) + (12 if p.target is not None else 0)
    group_h = n * bar_h + gap
    bottom = top + len(p.items) * group_h + (22 if p.axis else 4)
    vals = [float(v) for _, vs in p.items for v in vs if is_number(v)]
    max_value = p.max_value
    if max_value is None:
        biggest = max(vals + ([p.target] if p.target is not None else []) + [0.0])
        max_value = 100.0 if p.unit == "%" else (biggest * 1.1 if biggest > 0 else 1.0)
    plot_w = width - label_w - value_w - pad
    sx = plot_w / max_value if max_value > 0 else 0.0
    out = []
    if p.title:
        out.append(svg_text(0, y_top + 13, p.title, size=12, weight="bold"))
    if len(p.series) > 1:
        x = label_w
        for i, s in enumerate(p.series):
            out.append(f'<rect x="{x}" y="{top - 14}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
            out.append(svg_text(x + 14, top - 5, s, size=10))
            x += 14 + 11 * len(s) + 24
    if p.axis:
        for frac in (0, 0.25, 0.5, 0.75, 1.0):
            gx = label_w + frac * plot_w
            out.append(f'<line x1="{gx:.1f}" y1="{top - 2}" x2="{gx:.1f}" y2="{bottom - 18}" stroke="#ddd" stroke-width="1"/>')
            out.append(svg_text(gx, bottom - 6, format_value(frac * max_value, p.unit, 0 if p.unit == "%" else 1), size=9,
                                anchor="middle", fill="#666"))
    for k, (label, values) in enumerate(p.items):
        y0 = top + k * group_h
        out.append(svg_text(label_w - 6, y0 + n * bar_h / 2 + 4, label, size=font, anchor="end"))
        for i, v in enumerate(values):
            y = y0 + i * bar_h
            colour = p.colours[k] if p.colours else PALETTE[i % len(PALETTE)]
            if is_number(v):
                w = max(0.0, min(float(v), max_value) * sx)
                out.append(f'<rect x="{label_w}" y="{y + 1}" width="{w:.1f}" height="{bar_h - 2}" fill="{escape_text(colour)}"/>')
                out.append(svg_text(label_w + w + 3, y + bar_h - 2, format_value(v, p.unit, p.digits), size=font - 1))
            else:
                out.append(svg_text(label_w + 3, y + bar_h - 2, "— 无数据 no data", size=9, fill="#8a1c1c"))
    if p.target is not None and max_value > 0:
        tx = label_w + min(p.target, max_value) * sx
        out.append(f'<line x1="{tx:.1f}" y1="{top - 5}" x2="{tx:.1f}" y2="{bottom - 18}" stroke="#c44e52" stroke-width="1.5" '
                   'stroke-dasharray="5,3"/>')
        out.append(svg_text(tx, top - 8, p.target_label or f"目标 {format_value(p.target, p.unit)}", size=9, fill="#c44e52",
                            anchor="end" if tx > width - 160 else "middle"))
    return out, bottom - y_top


def bar_panels(panels: Sequence[BarPanel], *, title: str = "", width: int = 700, label_width: int = 150, value_width: int = 62,
               bar_height: int = 11, spacing: int = 6) -> Markup:
    """Blocks of horizontal bars stacked in one inline SVG (each block with its own title and scale).

    Parameters
    ----------
    panels
        The blocks, top to bottom.
    title
        Accessible name of the chart (``<title>``); each panel draws its own visible title.
    width, label_width, value_width, bar_height
        ViewBox width, room for the item labels and the value labels, bar height; the SVG scales to the page.
    spacing
        Vertical space between panels.

    Returns
    -------
    Markup
        ``<svg …>`` markup, every text escaped.
    """
    parts: list[str] = []
    y = 0
    for k, p in enumerate(panels):
        drawn, h = _panel(p, y + (spacing if k else 0), width, label_width, value_width, bar_height)
        parts += drawn
        y += h + (spacing if k else 0)
    return _svg(width, y, title, parts)


def bar_chart(
    items: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    *,
    unit: str = "%",
    max_value: float | None = None,
    target: float | None = None,
    target_label: str = "",
    title: str = "",
    width: int = 700,
) -> Markup:
    """Grouped horizontal bars with an axis grid as inline SVG: one :class:`BarPanel` in :func:`bar_panels`.

    Parameters
    ----------
    items
        ``(label, values)``; one value per series (NaN = not computed, drawn as "—").
    series
        Series names (legend).
    unit
        Unit shown after values.
    max_value
        Axis maximum (default 100 for %, else 1.1 × the largest value or target).
    target
        Optional target drawn as a dashed vertical line.
    target_label, title
        Texts.
    width
        ViewBox width; the SVG scales to the page width.

    Returns
    -------
    Markup
        ``<svg …>`` markup, every text escaped.
    """
    panel = BarPanel(items, series, unit=unit, max_value=max_value, target=target, target_label=target_label, title=title)
    return bar_panels([panel], title=title, width=width)


def stacked_bar_chart(items: Sequence[tuple[str, Sequence[float]]], bands: Sequence[str], *, title: str = "", note: str = "",
                      width: int = 700) -> Markup:
    """100 % stacked horizontal bars (shares in %) with a legend, as inline SVG.

    Parameters
    ----------
    items
        ``(label, shares)``; one share (%) per band; NaN or ≤ 0 draws nothing.
    bands
        Band names (legend, four per row).
    title, note
        Chart title and a note under the bars.
    width
        ViewBox width.

    Returns
    -------
    Markup
        ``<svg …>`` markup, every text escaped.
    """
    label_w, pad = 150, 6
    bar_h = 14
    legend_rows = 1 + (len(bands) - 1) // 4
    top = 20 + 15 * legend_rows
    height = top + len(items) * (bar_h + 5) + 18
    plot_w = width - label_w - pad
    out = []
    if title:
        out.append(svg_text(0, 13, title, size=12, weight="bold"))
    for i, b in enumerate(bands):
        lx = label_w + (i % 4) * (plot_w / 4)
        ly = 20 + 15 * (i // 4)
        out.append(f'<rect x="{lx:.1f}" y="{ly}" width="10" height="10" fill="{BAND_COLOURS[i % len(BAND_COLOURS)]}" '
                   'stroke="#888" stroke-width="0.5"/>')
        out.append(svg_text(lx + 14, ly + 9, b, size=10))
    for k, (label, shares) in enumerate(items):
        y = top + k * (bar_h + 5)
        out.append(svg_text(label_w - 6, y + bar_h - 3, label, size=10, anchor="end"))
        x = float(label_w)
        for i, s in enumerate(shares):
            if not is_number(s) or s <= 0:
                continue
            w = float(s) / 100.0 * plot_w
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAND_COLOURS[i % len(BAND_COLOURS)]}"/>')
            if w > 26:
                out.append(svg_text(x + w / 2, y + bar_h - 3, f"{s:.0f}%", size=9, anchor="middle"))
            x += w
    if note:
        out.append(svg_text(label_w, height - 4, note, size=9, fill="#666"))
    return _svg(width, height, title, out)


def fill_up_series(annual: float, capacity: float, start_year: int) -> tuple[list[tuple[float, float]], float]:
    """Cumulative landfilled volume over time until *capacity* is reached.

    Parameters
    ----------
    annual
        Volume landfilled per year (万立方米/年).
    capacity
        Total capacity (万立方米).
    start_year
        Year filling starts.

    Returns
    -------
    tuple
        ``([(year, 万立方米), ...], years until full)`` -- a straight line from ``(start_year, 0)`` to
        ``(start_year + capacity / annual, capacity)``; ``inf`` years when nothing is landfilled.
    """
    if annual <= 0:
        return [(float(start_year), 0.0)], math.inf
    years = capacity / annual
    return [(float(start_year), 0.0), (start_year + years, float(capacity))], years


def fill_up_chart(
    rates: Sequence[tuple[float, str, str]],
    capacities: Sequence[tuple[float, str, str]],
    start_year: int,
    *,
    x_label: str,
    y_label: str,
    title: str = "landfill fill-up",
    y_step: int = 100,
    width: int = 760,
    height: int = 340,
) -> Markup:
    """Cumulative fill over the years, one line per fill rate, against dashed capacity lines.

    Parameters
    ----------
    rates
        ``(volume per year, legend text, colour)`` per scenario; rates ≤ 0 are not drawn.
    capacities
        ``(total capacity, label, colour)``; each is a dashed line, and every rate line gets
        a marker with the years until it reaches it (:func:`fill_up_series`).
    start_year
        First year on the x axis.
    x_label, y_label
        Axis titles.
    title
        Accessible name of the chart.
    y_step
        Interval of the y grid lines.
    width, height
        ViewBox size.

    Returns
    -------
    Markup
        ``<svg …>`` markup, every text escaped.
    """
    rates = [r for r in rates if r[0] > 0]
    caps = [total for total, _, _ in capacities]
    horizon = max(total / a for total in caps for a, _, _ in rates) if rates and caps else 5.0
    x_max = math.ceil(horizon) + 1
    y_max = max(caps + [1.0]) * 1.12
    left, right, top, bottom = 60, 20, 20, 50
    pw, ph = width - left - right, height - top - bottom

    def px(year: float) -> float:
        return left + pw * (year - start_year) / x_max

    def py(v: float) -> float:
        return top + ph * (1 - v / y_max)

    parts = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>']
    step = 1 if x_max <= 10 else 2
    for k in range(0, x_max + 1, step):
        parts.append(f'<line x1="{px(start_year + k):.1f}" y1="{top + ph}" x2="{px(start_year + k):.1f}" y2="{top + ph + 4}" stroke="#555"/>')
        parts.append(svg_text(px(start_year + k), top + ph + 22, start_year + k, size=11, anchor="middle"))  # clear of the y axis's 0
    for v in range(0, int(y_max) + 1, y_step):
        parts.append(f'<line x1="{left - 4}" y1="{py(v):.1f}" x2="{left + pw}" y2="{py(v):.1f}" stroke="#e0e0e0"/>')
        parts.append(svg_text(left - 6, py(v) + 4, v, size=11, anchor="end"))
    parts.append(svg_text(left + pw / 2, height - 8, x_label, size=12, anchor="middle"))
    parts.append(svg_text(14, top + ph / 2, y_label, size=12, anchor="middle", transform=f"rotate(-90 14 {top + ph / 2:g})"))
    # one year label per fill line, on the side a rising line leaves free: below-right, or above-left at the edge
    marks: list[tuple[float, float, str]] = []  # marker positions and colours
    year_labels: list[tuple[float, float, str, str, str]] = []  # x, y, text, anchor, colour
    busy: list[tuple[float, float]] = []  # x spans along the capacity lines taken by markers and year labels
    for annual, _, colour in rates:
        ends = sorted(fill_up_series(float(annual), total, start_year) for total in caps)
        marks += [(px(pts[-1][0]), py(pts[-1][1]), colour) for pts, _ in ends]
        if not ends:
            continue
        text = " / ".join(f"{years:.2f}" for _, years in ends) + " 年"
        (x_lo, y_lo), (x_hi, y_hi) = ends[0][0][-1], ends[-1][0][-1]
        w = _text_width(text, 11)
        slope = (annual * ph / y_max) / (pw / x_max)  # px up per px right
        busy.append((px(x_lo) - 22 / slope, px(x_hi) + 22 / slope))  # where the line runs through the labels' band
        if px(x_lo) + 8 + w < left + pw:
            year_labels.append((px(x_lo) + 8, py(y_lo) + 16, text, "start", colour))
            busy.append((px(x_lo) - 6, px(x_hi) + 12 + w))
        else:
            year_labels.append((px(x_hi) - 8, py(y_hi) - 8, text, "end", colour))
            busy.append((px(x_hi) - 12 - w, px(x_hi) + 6))
    # capacity labels: in the widest stretch of their dashed line clear of fill-line crossings and year labels
    free, x0 = [], float(left)
    for a, b in sorted(busy):
        if a > x0:
            free.append((x0, a))
        x0 = max(x0, b)
    free.append((x0, float(left + pw)))
    lo, hi = max(free, key=lambda e: e[1] - e[0])
    order = sorted(range(len(capacities)), key=lambda k: capacities[k][0])
    for k, (total, label, colour) in enumerate(capacities):
        parts.append(f'<line x1="{left}" y1="{py(total):.1f}" x2="{left + pw}" y2="{py(total):.1f}" stroke="{escape_text(colour)}" '
                     'stroke-dasharray="6 4" stroke-width="1.5"/>')
        below = order.index(k) == 0 and len(capacities) > 1  # the lowest line's label below it, the others above
        parts.append(svg_text((lo + hi) / 2, py(total) + (13 if below else -5), label, size=11, anchor="middle", fill=colour, halo=True))
    for annual, _, colour in rates:
        xe = min(start_year + y_max / annual, start_year + x_max)
        parts.append(f'<line x1="{px(start_year):.1f}" y1="{py(0):.1f}" x2="{px(xe):.1f}" y2="{py(annual * (xe - start_year)):.1f}" '
                     f'stroke="{escape_text(colour)}" stroke-width="2.2"/>')
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{escape_text(c)}"/>' for x, y, c in marks]
    parts += [svg_text(x, y, text, size=11, anchor=anchor, fill=c, halo=True) for x, y, text, anchor, c in year_labels]
    for j, (annual, legend, colour) in enumerate(rates):
        legend_y = top + ph - 14 - 16 * (len(rates) - 1 - j)
        lx = left + pw * 0.32
        parts.append(f'<line x1="{lx:.1f}" y1="{legend_y - 4}" x2="{lx + 24:.1f}" y2="{legend_y - 4}" stroke="{escape_text(colour)}" '
                     'stroke-width="2.2"/>')
        parts.append(svg_text(lx + 30, legend_y, legend, size=11, fill=colour))
    return _svg(width, height, title, parts)
