"""The benchmark's chart: each phase's median seconds against the DuckDB floors, with the
previous round's figure under it, as one SVG written next to the JSON."""

from __future__ import annotations

from html import escape

WIDTH, LABEL_WIDTH, RIGHT = 900, 230, 150
ROW, BAR = 30, 11
THIS_ROUND, PREVIOUS_ROUND = "#0072B2", "#BBBBBB"
FLOOR_COLOURS = {"floor_query": "#D55E00", "floor_storage": "#009E73"}


def _rows(result: dict) -> list[tuple[str, float, float | None]]:
    """(label, this round's seconds, the previous round's) for every bar."""
    previous = result.get("previous_round") or {}
    before = previous.get("median_seconds", {})
    rows = [
        (phase, seconds, before.get(phase)) for phase, seconds in result["median_seconds"].items()
    ]
    night, night_before = result.get("incremental_night"), previous.get("incremental_night") or {}
    if night:
        for key, label in (
            ("full_run_seconds", "night: full run (phases)"),
            ("night_seconds", "night: 1% new rows"),
            ("quiet_night_seconds", "night: no new files"),
        ):
            rows.append((label, night[key], night_before.get(key)))
    return rows


def render_chart(result: dict) -> str:
    rows = _rows(result)
    top = 60
    height = top + ROW * len(rows) + 50
    largest = max(max(now, before or 0) for _, now, before in rows) or 1.0
    plot = WIDTH - LABEL_WIDTH - RIGHT

    def x(seconds: float) -> float:
        return LABEL_WIDTH + plot * seconds / largest

    measured = result.get("measured_at", "")
    title = f"make bench: {result['rows']:,} disruption rows, median of {result['repetitions']}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="10" y="40" fill="#555">{escape(measured)}; blue: this round, grey: the '
        "previous round; lines: the floors (seconds)</text>",
    ]
    for floor, colour in FLOOR_COLOURS.items():
        seconds = result["median_seconds"].get(floor)
        if seconds:
            out.append(
                f'<line x1="{x(seconds):.1f}" x2="{x(seconds):.1f}" y1="{top - 6}" '
                f'y2="{top + ROW * len(rows)}" stroke="{colour}" stroke-dasharray="4 3"/>'
            )
    for index, (label, now, before) in enumerate(rows):
        y = top + ROW * index
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR}" text-anchor="end">{escape(label)}</text>'
        )
        out.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(x(now) - LABEL_WIDTH, 1):.1f}" '
            f'height="{BAR}" fill="{THIS_ROUND}"/>'
        )
        ratio = now / result["median_seconds"]["floor_query"]
        out.append(
            f'<text x="{x(now) + 6:.1f}" y="{y + BAR - 1}">{now:.1f} s ({ratio:.1f}× floor)</text>'
        )
        if before is not None:
            out.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + BAR + 2}" '
                f'width="{max(x(before) - LABEL_WIDTH, 1):.1f}" height="{BAR - 4}" '
                f'fill="{PREVIOUS_ROUND}"><title>previous round: {before:.1f} s</title></rect>'
            )
    axis_y = top + ROW * len(rows) + 8
    for tick in range(6):
        seconds = largest * tick / 5
        out.append(
            f'<text x="{x(seconds):.1f}" y="{axis_y + 12}" text-anchor="middle" '
            f'fill="#555">{seconds:.0f}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
