"""Small inline-SVG charts for the HTML report, drawn in Python (no JavaScript, no CDN).

Every chart is an accessible image: role="img" with a <title> and a <desc>, and a <title>
on each mark so hovering names its value. The report puts the figures in a table under
each chart as the text alternative. Colours are the Okabe-Ito palette, which stays
distinguishable with the common forms of colour blindness.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
}

# The colours of impact levels and effect categories are the seeds' (impact_levels.csv,
# effect_categories.csv): callers pass them in, so a chart never restates a name.

_ids = itertools.count(1)
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


def _svg_open(width: float, height: float, title: str, desc: str, css_class: str) -> str:
    number = next(_ids)
    return (
        f'<svg class="{css_class}" role="img" aria-labelledby="chart{number}-t chart{number}-d" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'preserveAspectRatio="xMinYMin meet" {FONT} font-size="11">'
        f'<title id="chart{number}-t">{escape(title)}</title>'
        f'<desc id="chart{number}-d">{escape(desc)}</desc>'
    )


def _markup(parts: list[str]) -> Markup:
    # Safe by construction: every text from the data went through escape() above, and
    # every other value is a number or a colour from this module.
    return Markup("".join(parts))  # noqa: S704


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round gridline step (1, 2, 5 × 10^n) giving about `ticks` lines up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return max(1, multiple * power) if maximum >= ticks else multiple * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def stacked_columns(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    colours: dict[str, str],
    *,
    title: str,
    desc: str,
    below_axis: Sequence[str] = (),
    width: float = 860,
    height: float = 240,
    compact: bool = False,
    y_max: float | None = None,
    y_min: float | None = None,
) -> Markup:
    """Columns stacked by series; series in `below_axis` hang below zero (e.g. negative
    disruptions, which left the OCG stronger). `y_max`/`y_min` let small multiples share
    one scale so panels compare at a glance."""
    left, right, top, bottom = (30, 6, 8, 18) if compact else (44, 10, 10, 26)
    up_totals = [
        sum(series[name][i] for name in series if name not in below_axis)
        for i in range(len(labels))
    ]
    down_totals = [sum(series[name][i] for name in below_axis) for i in range(len(labels))]
    top_value = y_max if y_max is not None else max(up_totals, default=0)
    bottom_value = y_min if y_min is not None else max(down_totals, default=0)
    step = max(1, nice_step(max(top_value, 1), 2 if compact else 4))  # counts
    top_value = math.ceil(max(top_value, 1) / step) * step
    # Below the axis only as deep as the data needs, on the same scale as above it.
    bottom_step = min(step, nice_step(bottom_value, 1)) if bottom_value else step
    bottom_value = math.ceil(bottom_value / bottom_step) * bottom_step if bottom_value else 0
    plot_h = height - top - bottom
    scale = plot_h / (top_value + bottom_value)
    zero_y = top + top_value * scale
    plot_w = width - left - right
    slot = plot_w / max(len(labels), 1)
    bar_w = max(1.0, slot * 0.78)
    out = [_svg_open(width, height, title, desc, "chart chart-columns")]
    # Gridlines and their labels.
    # A gridline just below zero would print its label over the zero label.
    gridlines = [-bottom_value] if bottom_value * scale >= 12 else []
    value = 0.0
    while value <= top_value + 1e-9:
        gridlines.append(value)
        value += step
    for value in gridlines:
        y = zero_y - value * scale
        stroke = "#555" if value == 0 else "#e3e3e3"
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{stroke}" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y + 3.5:.1f}" text-anchor="end" fill="#555">'
            f"{_fmt(abs(value))}</text>"
        )
    for index, label in enumerate(labels):
        x = left + index * slot + (slot - bar_w) / 2
        y_up = zero_y
        y_down = zero_y
        for name, values in series.items():
            count = values[index]
            if not count:
                continue
            bar_h = count * scale
            if name in below_axis:
                y, y_down = y_down, y_down + bar_h
            else:
                y_up -= bar_h
                y = y_up
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                f'fill="{colours[name]}"><title>{escape(label)} {escape(name)}: '
                f"{_fmt(count)}</title></rect>"
            )
    # Month labels: every January, plus the first and last month.
    every = 1 if len(labels) <= 13 else (3 if not compact else 6)
    for index, label in enumerate(labels):
        if compact and index not in (0, len(labels) - 1):
            continue
        last = len(labels) - 1
        if not compact and index % every and (index != last or last % every < 2):
            continue
        x = left + index * slot + slot / 2
        anchor = "start" if compact and index == 0 else ("end" if compact else "middle")
        out.append(
            f'<text x="{x:.1f}" y="{height - 5}" text-anchor="{anchor}" fill="#333">'
            f"{escape(label)}</text>"
        )
    out.append("</svg>")
    return _markup(out)


def proportion_bars(
    rows: Sequence[tuple[str, dict[str, float]]],
    categories: Sequence[str],
    colours: dict[str, str],
    *,
    title: str,
    desc: str,
    width: float = 860,
    row_height: float = 26,
    label_width: float = 150,
) -> Markup:
    """One horizontal 100% bar per row, split by category, with the row total on the right."""
    right = 70
    height = row_height * len(rows) + 22
    plot_w = width - label_width - right
    out = [_svg_open(width, height, title, desc, "chart chart-proportions")]
    for tick in (0, 25, 50, 75, 100):
        x = label_width + plot_w * tick / 100
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 16}" stroke="#e3e3e3"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#555">{tick}%</text>'
        )
    for index, (label, counts) in enumerate(rows):
        y = index * row_height + 4
        total = sum(counts.get(name, 0) for name in categories)
        out.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 1:.1f}" text-anchor="end" '
            f'fill="#222">{escape(label)}</text>'
        )
        x = label_width
        for name in categories:
            count = counts.get(name, 0)
            if not count or not total:
                continue
            bar_w = plot_w * count / total
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{row_height - 8}" fill="{colours[name]}"><title>{escape(label)} '
                f"{escape(name.replace('_', ' '))}: {_fmt(count)} of {_fmt(total)} "
                f"({100 * count / total:.0f}%)</title></rect>"
            )
            if bar_w > 26:
                text_fill = "#fff" if is_dark(colours[name]) else "#111"
                out.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y + row_height / 2 + 0:.1f}" '
                    f'text-anchor="middle" fill="{text_fill}">{100 * count / total:.0f}%</text>'
                )
            x += bar_w
        out.append(
            f'<text x="{width - right + 6}" y="{y + row_height / 2:.1f}" fill="#555">'
            f"n = {_fmt(total)}</text>"
        )
    out.append("</svg>")
    return _markup(out)


def is_dark(colour: str) -> bool:
    """Whether white text reads better than black on this #RRGGBB colour (WCAG relative
    luminance below the midpoint of black's and white's contrast)."""
    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return luminance < 0.179


def dumbbell(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    title: str,
    desc: str,
    first_label: str,
    second_label: str,
    width: float = 420,
    row_height: float = 20,
    label_width: float = 80,
) -> Markup:
    """Two shares per row on a 0–100% scale joined by a line: the gap is the imbalance."""
    right = 12
    height = row_height * len(rows) + 20
    plot_w = width - label_width - right
    first, second = OKABE_ITO["blue"], OKABE_ITO["orange"]
    out = [_svg_open(width, height, title, desc, "chart chart-dumbbell")]
    top_share = max([share for _, a, b in rows for share in (a, b) if share is not None] + [0.1])
    scale_max = min(1.0, math.ceil(top_share * 10) / 10)
    for tick in range(0, int(round(scale_max * 100)) + 1, 10 if scale_max <= 0.6 else 20):
        x = label_width + plot_w * tick / 100 / scale_max
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 16}" stroke="#e3e3e3"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#555">{tick}%</text>'
        )
    for index, (label, share_a, share_b) in enumerate(rows):
        y = index * row_height + row_height / 2 + 2
        out.append(
            f'<text x="{label_width - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#222">'
            f"{escape(label)}</text>"
        )
        xs = [
            None if share is None else label_width + plot_w * share / scale_max
            for share in (share_a, share_b)
        ]
        if None not in xs:
            out.append(
                f'<line x1="{xs[0]:.1f}" x2="{xs[1]:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#999" stroke-width="3"/>'
            )
        for x, share, colour, name, shape in (
            (xs[0], share_a, first, first_label, "circle"),
            (xs[1], share_b, second, second_label, "diamond"),
        ):
            if x is None:
                continue
            tip = f"<title>{escape(label)} {escape(name)}: {100 * share:.0f}%</title>"
            if shape == "circle":
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}">{tip}</circle>'
                )
            else:
                out.append(
                    f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" '
                    f'transform="rotate(45 {x:.1f} {y:.1f})" fill="{colour}">{tip}</rect>'
                )
    out.append("</svg>")
    return _markup(out)


def hbars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str,
    colour: str = OKABE_ITO["blue"],
    colours: dict[str, str] | None = None,
    width: float = 420,
    row_height: float = 22,
    label_width: float = 150,
) -> Markup:
    """Plain horizontal bars with their value printed at the end."""
    right = 50
    height = row_height * len(rows) + 6
    plot_w = width - label_width - right
    top_value = max([value for _, value in rows] + [1])
    out = [_svg_open(width, height, title, desc, "chart chart-bars")]
    for index, (label, value) in enumerate(rows):
        y = index * row_height + 3
        bar_w = plot_w * value / top_value
        fill = (colours or {}).get(label, colour)
        # About 6.3 px per character at 11 px: clip what would run off the left edge.
        room = int((label_width - 12) / 6.3)
        shown = label if len(label) <= room else label[: room - 1] + "…"
        out.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 1:.1f}" text-anchor="end" '
            f'fill="#222">{escape(shown)}<title>{escape(label)}</title></text>'
            f'<rect x="{label_width}" y="{y:.1f}" width="{max(bar_w, 1):.1f}" '
            f'height="{row_height - 7}" fill="{fill}"><title>{escape(label)}: '
            f"{_fmt(value)}</title></rect>"
            f'<text x="{label_width + bar_w + 5:.1f}" y="{y + row_height / 2 + 1:.1f}" '
            f'fill="#333">{_fmt(value)}</text>'
        )
    out.append("</svg>")
    return _markup(out)


def sparkline(
    values: Sequence[float], *, title: str, width: float = 120, height: float = 28
) -> Markup:
    """A threat-score trajectory: a line with the latest value marked."""
    if not values:
        return _markup(['<span class="muted">no assessments</span>'])
    pad = 3
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points = [
        (pad + i * step, height - pad - (value - low) / span * (height - 2 * pad))
        for i, value in enumerate(values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    trend = OKABE_ITO["vermillion"] if values[-1] > values[0] else OKABE_ITO["blue"]
    return _markup(
        [
            f'<svg class="spark" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>"
            f'<polyline points="{path}" fill="none" stroke="#666" stroke-width="1.5"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{trend}"/></svg>',
        ]
    )


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    title: str,
    desc: str,
    reference: Sequence[float] = (),
    width: float = 540,
    height: float = 170,
    colour: str = OKABE_ITO["blue"],
) -> Markup:
    """Counts per bin [edges[i], edges[i+1]) on a percentage axis, with dashed reference
    lines (e.g. the ±10% tolerance that separates reduced and strengthened from no change)."""
    left, right, top, bottom = 36, 10, 16, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = edges[0], edges[-1]
    top_value = max(list(counts) + [1])
    step = max(1, nice_step(top_value, 3))  # counts: whole-number gridlines
    top_value = math.ceil(top_value / step) * step

    def x_at(value: float) -> float:
        return left + plot_w * (value - low) / (high - low)

    out = [_svg_open(width, height, title, desc, "chart chart-histogram")]
    value = 0.0
    while value <= top_value + 1e-9:
        y = top + plot_h - plot_h * value / top_value
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#555" if value == 0 else "#e3e3e3"}"/>'
            f'<text x="{left - 4}" y="{y + 3.5:.1f}" text-anchor="end" fill="#555">'
            f"{_fmt(value)}</text>"
        )
        value += step
    for index, count in enumerate(counts):
        if not count:
            continue
        x0, x1 = x_at(edges[index]) + 0.5, x_at(edges[index + 1]) - 0.5
        bar_h = plot_h * count / top_value
        out.append(
            f'<rect x="{x0:.1f}" y="{top + plot_h - bar_h:.1f}" width="{x1 - x0:.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}"><title>{edges[index]:+.0%} to '
            f"{edges[index + 1]:+.0%}: {_fmt(count)} OCGs</title></rect>"
        )
    for mark in reference:
        x = x_at(mark)
        anchor, shift = ("end", -3) if mark < 0 else ("start", 3)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{top + plot_h}" '
            f'stroke="{OKABE_ITO["vermillion"]}" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{top - 2:.1f}" text-anchor="{anchor}" '
            f'dx="{shift}" fill="{OKABE_ITO["vermillion"]}" font-size="10">'
            f"{mark:+.0%}</text>"
        )
    ticks = list(edges[:: max(1, (len(edges) - 1) // 4)])
    for tick in ticks:
        anchor = "start" if tick == ticks[0] else ("end" if tick == edges[-1] else "middle")
        label = "0%" if tick == 0 else f"{tick:+.0%}"
        out.append(
            f'<text x="{x_at(tick):.1f}" y="{height - 6}" text-anchor="{anchor}" fill="#333">'
            f"{label}</text>"
        )
    out.append("</svg>")
    return _markup(out)
