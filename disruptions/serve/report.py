"""The self-contained HTML report: one file, inline CSS and SVG, no script, no network.

It reads only the published file (read-only, through query.open_published) and shows
only figures the marts hold: the charts are drawn from the same figures that go, machine
readable, into <script type="application/json" id="report-data">, which the tests
reconcile with SQL on the published file. Quarantined records are never shown, so no
free text from a feed (least of all a rationale) can reach the page.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from disruptions.config import SEEDS_DIR, Settings
from disruptions.errors import UserError
from disruptions.serve import charts
from disruptions.serve.files import write_atomically
from disruptions.serve.published import open_published

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
IMPACTS_UP = ("major", "moderate", "minor")
EFFECTS = (
    "dismantled",
    "reduced",
    "no_change",
    "strengthened",
    "not_reassessed",
    "insufficient_baseline",
    "too_early",
)
MONTHS_SHOWN = 24
TOP_OCGS = 15
RECENT_ALERTS = 10
TOP_REASONS = 8
HELD_SHOWN = 10
# Long messages (an alert lists sample values) are clipped on the page; the full text is in
# the cell's tooltip and in the report-data block.
MESSAGE_CHARS = 220


def rocu_names() -> dict[str, str]:
    """ROCU codes and names from the reference seed (configuration, not data)."""
    with open(SEEDS_DIR / "rocus.csv", newline="", encoding="utf-8") as handle:
        return {row["rocu_code"]: row["name"] for row in csv.DictReader(handle)}


def write_report(settings: Settings, rocu: str | None = None) -> Path:
    """Write reports/report.html, or reports/report-<ROCU>.html for one region."""
    code = rocu.strip().upper() if rocu is not None else None
    with open_published(settings) as con:
        try:
            # Valid codes come from the data: the balance mart lists every ROCU of the seed.
            valid = [
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT rocu FROM marts.rocu_force_balance ORDER BY rocu"
                ).fetchall()
            ] or sorted(rocu_names())  # an empty publication still knows the ROCUs
            if code is not None and code not in valid:
                raise UserError(f"unknown ROCU {rocu!r}; valid codes: {', '.join(valid)}")
            figures = collect_figures(con, code)
        except duckdb.Error as error:
            raise UserError(
                f"{settings.published_path}: the published marts cannot be read for the "
                f"report: {str(error).splitlines()[0]}"
            ) from None
    # Names are decoration from the reference seed; the code alone would do.
    names = rocu_names()
    figures["scope"] = {
        "rocu": code,
        "name": names.get(code, code) if code else "All ROCUs (national)",
    }
    html = render_report(figures)
    target = settings.regional_report_path(code) if code else settings.report_path
    write_atomically(target, lambda path: path.write_text(html, encoding="utf-8"))
    return target


# --- figures: every number comes from a mart (or the published audit copy) ----------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def collect_figures(con: duckdb.DuckDBPyConnection, rocu: str | None) -> dict[str, Any]:
    # One filter for every OCG-level figure: the OCG's ROCU from its latest assessment.
    # Monthly counts and the force balance are by the force area where a disruption
    # happened, which is what their own rocu column means.
    scope = "(? IS NULL OR rocu = ?)"
    params = [rocu, rocu]
    as_of = con.execute("SELECT max(as_of_date) FROM marts.ocg_disruption_summary").fetchone()[0]
    figures: dict[str, Any] = {"as_of_date": as_of}
    figures["kpis"] = _rows(
        con,
        f"""
        SELECT
            count(*) AS ocgs,
            count(*) FILTER (WHERE total_disruptions > 0) AS ocgs_disrupted,
            coalesce(sum(total_disruptions), 0) AS total_disruptions,
            coalesce(sum(net_disruption_score), 0) AS net_disruption_score,
            coalesce(sum(negative_count), 0) AS negative_disruptions,
            coalesce(sum(pending_claims), 0) AS pending_claims
        FROM marts.ocg_disruption_summary WHERE {scope}
        """,
        params,
    )[0]
    effects = _rows(
        con,
        f"""
        SELECT 'effect_6m' AS horizon, e.effect_6m AS effect, count(*) AS ocgs
        FROM marts.ocg_long_term_effect e JOIN marts.ocg_disruption_summary s USING (ocg_id)
        WHERE {scope.replace("rocu", "s.rocu")} GROUP BY ALL
        UNION ALL
        SELECT 'effect_12m', e.effect_12m, count(*)
        FROM marts.ocg_long_term_effect e JOIN marts.ocg_disruption_summary s USING (ocg_id)
        WHERE {scope.replace("rocu", "s.rocu")} GROUP BY ALL
        """,
        params * 2,
    )
    figures["effects"] = {
        horizon: {
            effect: next(
                (r["ocgs"] for r in effects if r["horizon"] == horizon and r["effect"] == effect),
                0,
            )
            for effect in EFFECTS
        }
        for horizon in ("effect_6m", "effect_12m")
    }
    figures["score_change"] = _score_change_histogram(con, scope, params)
    twelve = figures["effects"]["effect_12m"]
    figures["kpis"]["ocgs_with_12m_outcome"] = sum(twelve.values()) - twelve["too_early"]
    figures["kpis"]["reduced_or_dismantled_12m"] = twelve["reduced"] + twelve["dismantled"]
    figures["by_rocu"] = [] if rocu else _by_rocu(con)
    figures["monthly"] = _monthly(con, rocu, as_of)
    figures["top_ocgs"] = _top_ocgs(con, scope, params)
    figures["tactics"] = _rows(
        con,
        """
        SELECT tactic, ocgs_disrupted, ocgs_with_12m_outcome, dismantled_12m, reduced_12m,
               no_change_12m, strengthened_12m, not_reassessed_12m,
               insufficient_baseline_12m, too_early_12m, mean_pct_change_12m
        FROM marts.tactic_effectiveness
        WHERE ocgs_disrupted > 0
        ORDER BY (dismantled_12m + reduced_12m) / greatest(ocgs_with_12m_outcome, 1) DESC,
                 ocgs_disrupted DESC, tactic
        """,
    )
    figures["balance"] = _rows(
        con,
        f"""
        SELECT rocu, force_code, force_disruptions, rocu_disruptions, disruption_share,
               force_active_ocgs, active_ocg_share, force_highest_threat_active_ocgs,
               highest_threat_ocg_share, highest_threat_share_gap
        FROM marts.rocu_force_balance WHERE {scope}
        ORDER BY rocu, force_code
        """,
        params,
    )
    figures["data_quality"] = _data_quality(con)
    return figures


# Bins of pct_change (a fraction): 20 bins of 10 points from -100% to +100%; a rise of
# 100% or more goes in the last bin (a score cannot fall by more than 100%). Bins below
# zero are closed on the right, (-20%, -10%], and those above on the left, [10%, 20%), so
# a change of exactly ±10% (reduced / strengthened, by the tolerance rule) falls outside
# the tolerance lines, as the effect classification counts it.
CHANGE_EDGES = [round(-1 + step / 10, 1) for step in range(21)]


def _score_change_histogram(con: duckdb.DuckDBPyConnection, scope: str, params: list) -> dict:
    """How far re-assessed OCGs' threat scores moved from baseline, binned from the mart."""
    result = {"edges": CHANGE_EDGES}
    for horizon in (6, 12):
        rows = con.execute(
            f"""
            SELECT least(greatest(
                       CASE WHEN x < 0 THEN ceil(x) - 1 ELSE floor(x) END, -10), 9) + 10 AS bin,
                   count(*) AS ocgs
            FROM (
                SELECT round(e.pct_change_{horizon}m * 10, 6) AS x
                FROM marts.ocg_long_term_effect e
                JOIN marts.ocg_disruption_summary s USING (ocg_id)
                WHERE e.pct_change_{horizon}m IS NOT NULL AND {scope.replace("rocu", "s.rocu")}
            )
            GROUP BY ALL
            """,
            params,
        ).fetchall()
        counts = [0] * (len(CHANGE_EDGES) - 1)
        for bin_index, ocgs in rows:
            counts[int(bin_index)] = ocgs
        result[f"pct_change_{horizon}m"] = counts
    return result


def _by_rocu(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The national report's league table: each ROCU's OCG figures (by lead force)."""
    return _rows(
        con,
        """
        SELECT s.rocu,
               count(*) FILTER (WHERE s.total_disruptions > 0) AS ocgs_disrupted,
               sum(s.total_disruptions) AS total_disruptions,
               sum(s.net_disruption_score) AS net_disruption_score,
               sum(s.negative_count) AS negative_disruptions,
               count(e.ocg_id) FILTER (WHERE e.effect_12m <> 'too_early') AS ocgs_with_12m_outcome,
               count(e.ocg_id) FILTER (WHERE e.effect_12m IN ('reduced', 'dismantled'))
                   AS reduced_or_dismantled_12m
        FROM marts.ocg_disruption_summary s
        LEFT JOIN marts.ocg_long_term_effect e USING (ocg_id)
        GROUP BY s.rocu
        ORDER BY s.rocu NULLS LAST
        """,
    )


def _month_sequence(first: date, last: date) -> list[date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def _monthly(con: duckdb.DuckDBPyConnection, rocu: str | None, as_of: date | None) -> dict:
    """Counted disruptions per month and impact, in total and per panel (ROCU or force)."""
    if as_of is None:
        return {"months": [], "total": {}, "panels": {}}
    months = _month_sequence(_months_before(as_of, MONTHS_SHOWN - 1), as_of)
    panel_column = "force_area" if rocu else "rocu"
    rows = _rows(
        con,
        f"""
        SELECT disruption_month, {panel_column} AS panel, impact,
               sum(disruption_count) AS disruptions
        FROM marts.disruptions_monthly
        WHERE is_disruption AND disruption_month >= ? AND (? IS NULL OR rocu = ?)
        GROUP BY ALL
        """,
        [months[0], rocu, rocu],
    )
    index = {month: position for position, month in enumerate(months)}
    impacts = (*IMPACTS_UP, "negative")
    total = {impact: [0] * len(months) for impact in impacts}
    panels: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        position = index.get(row["disruption_month"])
        if position is None or row["impact"] not in total:
            continue
        total[row["impact"]][position] += int(row["disruptions"])
        panel = panels.setdefault(
            row["panel"] or "unknown", {impact: [0] * len(months) for impact in impacts}
        )
        panel[row["impact"]][position] += int(row["disruptions"])
    return {"months": months, "total": total, "panels": dict(sorted(panels.items()))}


def _months_before(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _top_ocgs(con: duckdb.DuckDBPyConnection, scope: str, params: list) -> list[dict]:
    top = _rows(
        con,
        f"""
        SELECT s.ocg_id, s.rocu, s.lead_force, s.current_status, s.current_band,
               s.current_threat_score, s.net_disruption_score, s.total_disruptions,
               s.major_count, s.negative_count, e.effect_12m
        FROM marts.ocg_disruption_summary s
        LEFT JOIN marts.ocg_long_term_effect e USING (ocg_id)
        WHERE s.total_disruptions > 0 AND {scope.replace("rocu", "s.rocu")}
        ORDER BY s.net_disruption_score DESC, s.total_disruptions DESC, s.ocg_id
        LIMIT {TOP_OCGS}
        """,
        params,
    )
    if not top:
        return top
    history = _rows(
        con,
        f"""
        SELECT ocg_id, valid_from, threat_score FROM marts.dim_ocg_assessment_history
        WHERE ocg_id IN ({", ".join("?" * len(top))})
        ORDER BY ocg_id, valid_from
        """,
        [row["ocg_id"] for row in top],
    )
    for row in top:
        row["trajectory"] = [
            [item["valid_from"], item["threat_score"]]
            for item in history
            if item["ocg_id"] == row["ocg_id"]
        ]
    return top


def _data_quality(con: duckdb.DuckDBPyConnection) -> dict:
    batches = _rows(
        con,
        """
        SELECT status, count(*) AS batches, coalesce(sum(rows_read), 0) AS rows_read,
               coalesce(sum(rows_loaded), 0) AS rows_loaded,
               coalesce(sum(rows_quarantined), 0) AS rows_quarantined
        FROM audit.load_batches GROUP BY status ORDER BY batches DESC, status
        """,
    )
    quarantined_rows = con.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0]
    # Only the reasons: the record itself (whatever it holds) never reaches the page.
    reasons = _rows(
        con,
        f"""
        SELECT trim(reason) AS reason, count(*) AS rows
        FROM (SELECT unnest(string_split(reasons, '; ')) AS reason FROM audit.quarantine)
        WHERE trim(reason) <> ''
        GROUP BY ALL ORDER BY rows DESC, reason LIMIT {TOP_REASONS}
        """,
    )
    held = _rows(
        con,
        f"""
        SELECT b.batch_id, b.feed, b.source_file, b.rows_read, b.message, b.finished_at,
               coalesce(d.decision, 'awaiting review') AS decision
        FROM audit.load_batches b
        LEFT JOIN (
            SELECT batch_id, arg_max(decision, decided_at) AS decision
            FROM audit.batch_decisions GROUP BY batch_id
        ) d USING (batch_id)
        WHERE b.status = 'held'
        ORDER BY b.batch_id DESC
        LIMIT {HELD_SHOWN}
        """,
    )
    held_count = con.execute(
        "SELECT count(*) FROM audit.load_batches WHERE status = 'held'"
    ).fetchone()[0]
    alerts = _rows(
        con,
        f"""
        SELECT alert_id, raised_at, severity, source, subject, message
        FROM audit.dq_alerts ORDER BY raised_at DESC, alert_id DESC LIMIT {RECENT_ALERTS}
        """,
    )
    # The copy is taken while its own publish step is still running, so "running" here
    # means "in progress when published", not stuck: only "failed" is bad news.
    last_run = _rows(
        con,
        """
        SELECT run_id, max(as_of) AS as_of, min(started_at) AS started_at,
               list(step ORDER BY started_at) FILTER (WHERE status = 'failed') AS failed_steps
        FROM audit.pipeline_runs
        GROUP BY run_id ORDER BY max(started_at) DESC LIMIT 1
        """,
    )
    return {
        "batches_by_status": batches,
        "quarantined_rows": quarantined_rows,
        "top_reasons": reasons,
        "held_batches": held,
        "held_batch_count": held_count,
        "recent_alerts": alerts,
        "last_run": last_run[0] if last_run else None,
    }


# --- rendering -------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _label(value: str) -> str:
    return str(value).replace("_", " ")


def _clip(value: object, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _month_label(month: date, compact: bool = False) -> str:
    return month.strftime("%b %y") if compact else month.strftime("%b %Y")


def render_report(figures: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = _label
    env.filters["clip"] = _clip
    env.filters["num"] = lambda value: "–" if value is None else f"{value:,}"
    env.filters["pct"] = lambda value: "–" if value is None else f"{100 * value:.0f}%"
    generated_at = datetime.now(UTC).replace(microsecond=0)
    figures["generated_at"] = generated_at
    data_json = json.dumps(figures, default=_json_default, sort_keys=True)
    # Text from the data cannot close the script element or open a tag: JSON readers see
    # the same characters again.
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        data_json = data_json.replace(char, escaped)
    template = env.get_template("report.html.j2")
    return template.render(
        f=figures,
        charts=build_charts(figures),
        impact_colours=charts.IMPACT_COLOURS,
        effect_colours=charts.EFFECT_COLOURS,
        effects=EFFECTS,
        data_json=Markup(data_json),  # noqa: S704 - JSON built above, <, > and & escaped
        generated_at=generated_at,
    )


def build_charts(figures: dict[str, Any]) -> dict[str, Any]:
    monthly = figures["monthly"]
    months = monthly["months"]
    impacts = (*IMPACTS_UP, "negative")
    scope_name = figures["scope"]["name"]
    built: dict[str, Any] = {}
    if months:
        span = f"{_month_label(months[0])} to {_month_label(months[-1])}"
        totals = [sum(monthly["total"][name][i] for name in IMPACTS_UP) for i in range(len(months))]
        negatives = monthly["total"]["negative"]
        built["monthly"] = charts.stacked_columns(
            [_month_label(month) for month in months],
            monthly["total"],
            charts.IMPACT_COLOURS,
            title=f"Counted disruptions per month by impact, {scope_name}",
            desc=(
                f"Stacked columns, {span}. Major, moderate and minor disruptions stack above "
                f"the axis (peak {max(totals, default=0)} in a month); negative disruptions "
                f"hang below it (peak {max(negatives, default=0)}). Figures in the table below."
            ),
            below_axis=("negative",),
            width=1116,
            height=280,
        )
        built["negatives"] = charts.stacked_columns(
            [_month_label(month) for month in months],
            {"negative": negatives},
            charts.IMPACT_COLOURS,
            title=f"Negative disruptions per month, {scope_name}",
            desc=(
                f"Columns, {span}: negative disruptions (police activity that left the OCG "
                f"stronger) on their own scale; {sum(negatives)} in all, peak "
                f"{max(negatives, default=0)} in a month."
            ),
            width=1116,
            height=130,
        )
        panel_max = max(
            (
                sum(panel[name][i] for name in IMPACTS_UP)
                for panel in monthly["panels"].values()
                for i in range(len(months))
            ),
            default=0,
        )
        panel_min = max(
            (value for panel in monthly["panels"].values() for value in panel["negative"]),
            default=0,
        )
        built["panels"] = {
            name: charts.stacked_columns(
                [_month_label(month, compact=True) for month in months],
                series,
                charts.IMPACT_COLOURS,
                title=f"Disruptions per month by impact, {name}",
                desc=(
                    f"{name}: {sum(sum(series[i]) for i in impacts)} counted disruptions "
                    f"from {span}, of which {sum(series['negative'])} negative. Same scale as "
                    "the other panels."
                ),
                below_axis=("negative",),
                width=350,
                height=130,
                compact=True,
                y_max=panel_max,
                y_min=panel_min,
            )
            for name, series in monthly["panels"].items()
        }
    effects = figures["effects"]
    built["effects"] = charts.proportion_bars(
        [
            ("After 6 months", effects["effect_6m"]),
            ("After 12 months", effects["effect_12m"]),
        ],
        EFFECTS,
        charts.EFFECT_COLOURS,
        title="Long-term effect on disrupted OCGs at 6 and 12 months",
        desc=(
            "Share of disrupted OCGs in each effect category at each horizon: "
            + "; ".join(
                f"{horizon.split('_')[1]}: "
                + ", ".join(f"{_label(name)} {count}" for name, count in counts.items())
                for horizon, counts in effects.items()
            )
        ),
        width=1116,
        row_height=34,
        label_width=120,
    )
    change = figures["score_change"]
    built["score_change"] = {
        horizon: charts.histogram(
            change["edges"],
            change[f"pct_change_{horizon}m"],
            title=f"Change in threat score {horizon} months after first disruption",
            desc=(
                f"Histogram of {sum(change[f'pct_change_{horizon}m'])} re-assessed OCGs' "
                f"percentage change in threat score from baseline to {horizon} months, in "
                "10-point bins from -100% to +100% or more. Dashed lines mark the ±10% "
                "tolerance: left of -10% is reduced, right of +10% strengthened."
            ),
            reference=(-0.1, 0.1),
        )
        for horizon in (6, 12)
    }
    if figures["tactics"]:
        built["tactics"] = charts.proportion_bars(
            [
                (
                    _label(row["tactic"]),
                    {name: row[f"{name}_12m"] for name in EFFECTS if name != "too_early"},
                )
                for row in figures["tactics"]
            ],
            [name for name in EFFECTS if name != "too_early"],
            charts.EFFECT_COLOURS,
            title="How OCGs fared 12 months after disruption, by tactic used against them",
            desc=(
                "For each tactic, the OCGs it was used against with a 12-month outcome, split "
                "by effect; sorted by the share reduced or dismantled. Figures in the table."
            ),
            width=1116,
            label_width=140,
        )
    by_rocu: dict[str, list[dict]] = {}
    for row in figures["balance"]:
        by_rocu.setdefault(row["rocu"], []).append(row)
    built["balance"] = {
        rocu: charts.dumbbell(
            [
                (row["force_code"], row["disruption_share"], row["highest_threat_ocg_share"])
                for row in rows
            ],
            title=f"{rocu}: each force's share of disruptions and of highest-threat OCGs",
            desc=(
                f"{rocu}: "
                + "; ".join(
                    f"{row['force_code']} {_pct(row['disruption_share'])} of disruptions, "
                    f"{_pct(row['highest_threat_ocg_share'])} of highest-threat OCGs"
                    for row in rows
                )
            ),
            first_label="share of disruptions",
            second_label="share of highest-threat OCGs",
            width=540,
        )
        for rocu, rows in by_rocu.items()
    }
    dq = figures["data_quality"]
    status_colours = {
        "loaded": charts.OKABE_ITO["green"],
        "held": charts.OKABE_ITO["orange"],
        "rejected_file": charts.OKABE_ITO["vermillion"],
        "duplicate_file": charts.OKABE_ITO["grey"],
    }
    if dq["batches_by_status"]:
        built["batches"] = charts.hbars(
            [(_label(row["status"]), row["batches"]) for row in dq["batches_by_status"]],
            title="Files received, by load status",
            desc="; ".join(f"{row['status']}: {row['batches']}" for row in dq["batches_by_status"]),
            colours={_label(name): colour for name, colour in status_colours.items()},
            label_width=110,
        )
    if dq["top_reasons"]:
        built["reasons"] = charts.hbars(
            [(row["reason"], row["rows"]) for row in dq["top_reasons"]],
            title="Most common reasons rows were quarantined",
            desc="; ".join(f"{row['reason']}: {row['rows']} rows" for row in dq["top_reasons"]),
            colour=charts.OKABE_ITO["orange"],
            width=1116,
            label_width=460,
        )
    built["sparks"] = {
        row["ocg_id"]: charts.sparkline(
            [point[1] for point in row["trajectory"]],
            title=f"{row['ocg_id']} threat score over time: "
            + ", ".join(f"{point[0]:%b %Y} {point[1]}" for point in row["trajectory"]),
        )
        for row in figures["top_ocgs"]
    }
    return built


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{100 * value:.0f}%"
