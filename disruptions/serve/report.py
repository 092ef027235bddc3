"""The self-contained HTML report: one file, inline CSS and SVG, no script, no network.

It reads only a published file, read-only: the national one, or with `--rocu` the ROCU's
regional file, which holds only that region's OCGs and forces. Every number comes from a
mart (or the published audit copy), and every name, order, label and colour of an impact
level or effect category from the published reference tables (the seeds), so the report
restates none of them. The charts are drawn from the same figures that go, machine
readable, into <script type="application/json" id="report-data">, which the tests
reconcile with SQL on the published file. Quarantined records are never shown, so no free
text from a feed (least of all a rationale) can reach the page.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from markupsafe import Markup

from disruptions.config import Settings
from disruptions.engines import open_published
from disruptions.errors import UserError
from disruptions.reference import Reference, read_reference
from disruptions.serve import charts
from disruptions.serve.explain import explain_ocgs
from disruptions.serve.files import write_atomically
from disruptions.templating import html_environment

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MONTHS_SHOWN = 24
TOP_OCGS = 15
RECENT_ALERTS = 10
TOP_REASONS = 8
HELD_SHOWN = 10
# Long messages (an alert lists sample values) are clipped on the page; the full text is in
# the cell's tooltip and in the report-data block.
MESSAGE_CHARS = 220


def write_report(settings: Settings, rocu: str | None = None) -> Path:
    """Write reports/report.html, or reports/report-<ROCU>.html from the ROCU's file."""
    code = rocu.strip().upper() if rocu is not None else None
    with open_published(settings, code) as con:
        try:
            figures = collect_figures(con, code)
        except duckdb.Error as error:
            raise UserError(
                f"the published marts cannot be read for the report: {str(error).splitlines()[0]}"
            ) from None
    html = render_report(figures)
    target = settings.regional_report_path(code) if code else settings.report_path
    write_atomically(target, lambda path: path.write_text(html, encoding="utf-8"))
    return target


# --- figures: every number comes from a mart (or the published audit copy) ----------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list:
    cursor = con.execute(sql, params or [])
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    }


def _horizons(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The effect horizons, from the long-term effect mart's own columns (effect_<h>m)."""
    columns = [row[0] for row in con.execute("DESCRIBE marts.ocg_long_term_effect").fetchall()]
    return sorted(
        int(name[len("effect_") : -1])
        for name in columns
        if name.startswith("effect_") and name.endswith("m") and name[7:-1].isdigit()
    )


def _reference_view(reference: Reference) -> dict[str, Any]:
    """Names, labels, colours and roles for the template and the charts."""
    return {
        "impacts": [
            {
                "impact": level.impact,
                "label": level.label,
                "colour": level.colour,
                "weight": level.weight,
                "below_axis": level.weight < 0,
            }
            for level in reference.impact_levels
            if level.is_disruption
        ],
        "effects": [
            {
                "effect": category.effect,
                "label": category.label,
                "colour": category.colour,
                "is_outcome": category.is_outcome,
                "description": category.description,
            }
            for category in reference.effect_categories
        ],
        "reductions": list(reference.reduction_effects),
        "weights": [
            {"label": level.label, "weight": level.weight} for level in reference.impact_levels
        ],
    }


def collect_figures(con: duckdb.DuckDBPyConnection, rocu: str | None) -> dict[str, Any]:
    reference = read_reference(con)
    view = _reference_view(reference)
    as_of = con.execute("SELECT max(as_of_date) FROM marts.ocg_disruption_summary").fetchone()[0]
    horizons = _horizons(con)
    tolerance = con.execute("SELECT max(tolerance) FROM marts.fct_ocg_effect_evidence").fetchone()[
        0
    ]
    figures: dict[str, Any] = {
        "as_of_date": as_of,
        "reference": view,
        "horizons": horizons,
        "tolerance": tolerance,
        "scope": {
            "rocu": rocu,
            "name": reference.rocus.get(rocu, rocu) if rocu else "All ROCUs (national)",
        },
    }
    figures["kpis"] = _rows(
        con,
        """
        SELECT
            count(*) AS ocgs,
            count(*) FILTER (WHERE total_disruptions > 0) AS ocgs_disrupted,
            coalesce(sum(total_disruptions), 0) AS total_disruptions,
            coalesce(sum(net_disruption_score), 0) AS net_disruption_score,
            coalesce(sum(negative_count), 0) AS negative_disruptions,
            coalesce(sum(pending_claims), 0) AS pending_claims
        FROM marts.ocg_disruption_summary
        """,
    )[0]
    figures["effects"] = _effects(con, horizons, reference)
    figures["score_change"] = _score_change_histogram(con, horizons)
    last = f"effect_{horizons[-1]}m" if horizons else None
    counts = figures["effects"].get(last, {})
    figures["kpis"]["last_horizon"] = horizons[-1] if horizons else None
    figures["kpis"]["ocgs_with_outcome"] = sum(counts.get(e, 0) for e in reference.outcome_effects)
    figures["kpis"]["reduced_or_dismantled"] = sum(
        counts.get(e, 0) for e in reference.reduction_effects
    )
    figures["by_rocu"] = [] if rocu else _by_rocu(con, reference)
    figures["monthly"] = _monthly(con, rocu, as_of, view["impacts"])
    figures["top_ocgs"] = _top_ocgs(con)
    figures["tactics"] = _tactics(con, reference)
    figures["balance"] = _rows(
        con,
        """
        SELECT rocu, force_code, disruptions_12m, disruption_share, active_ocgs,
               active_ocg_share, high_threat_ocgs, high_threat_share, effort_gap
        FROM marts.rocu_force_balance ORDER BY rocu, force_code
        """,
    )
    figures["data_quality"] = _data_quality(con)
    return figures


def _effects(con, horizons: list[int], reference: Reference) -> dict[str, dict[str, int]]:
    effects = {}
    for horizon in horizons:
        found = dict(
            con.execute(
                f"SELECT effect_{horizon}m, count(*) FROM marts.ocg_long_term_effect GROUP BY 1"
            ).fetchall()
        )
        effects[f"effect_{horizon}m"] = {
            effect: found.get(effect, 0) for effect in reference.effects
        }
    return effects


# Bins of pct_change (a fraction): 20 bins of 10 points from -100% to +100%; a rise of
# 100% or more goes in the last bin (a score cannot fall by more than 100%). Bins below
# zero are closed on the right, (-20%, -10%], and those above on the left, [10%, 20%), so
# a change exactly on the tolerance (reduced / strengthened) falls outside its lines.
CHANGE_EDGES = [round(-1 + step / 10, 1) for step in range(21)]


def _score_change_histogram(con: duckdb.DuckDBPyConnection, horizons: list[int]) -> dict:
    """How far re-assessed OCGs' threat scores moved from baseline, binned from the mart."""
    result: dict[str, Any] = {"edges": CHANGE_EDGES}
    for horizon in horizons:
        rows = con.execute(
            f"""
            SELECT least(greatest(
                       CASE WHEN x < 0 THEN ceil(x) - 1 ELSE floor(x) END, -10), 9) + 10 AS bin,
                   count(*) AS ocgs
            FROM (
                SELECT round(pct_change_{horizon}m * 10, 6) AS x
                FROM marts.ocg_long_term_effect WHERE pct_change_{horizon}m IS NOT NULL
            )
            GROUP BY ALL
            """
        ).fetchall()
        counts = [0] * (len(CHANGE_EDGES) - 1)
        for bin_index, ocgs in rows:
            counts[int(bin_index)] = ocgs
        result[f"pct_change_{horizon}m"] = counts
    return result


def _by_rocu(con: duckdb.DuckDBPyConnection, reference: Reference) -> list[dict]:
    """The national report's league table: each ROCU's OCG figures (by lead force)."""
    return _rows(
        con,
        """
        SELECT s.rocu,
               count(*) FILTER (WHERE s.total_disruptions > 0) AS ocgs_disrupted,
               sum(s.total_disruptions) AS total_disruptions,
               sum(s.net_disruption_score) AS net_disruption_score,
               sum(s.negative_count) AS negative_disruptions,
               count(e.ocg_id) FILTER (WHERE list_contains($outcomes, e.effect_12m))
                   AS ocgs_with_outcome,
               count(e.ocg_id) FILTER (WHERE list_contains($reductions, e.effect_12m))
                   AS reduced_or_dismantled
        FROM marts.ocg_disruption_summary s
        LEFT JOIN marts.ocg_long_term_effect e USING (ocg_id)
        GROUP BY s.rocu
        ORDER BY s.rocu NULLS LAST
        """,
        {
            "outcomes": list(reference.outcome_effects),
            "reductions": list(reference.reduction_effects),
        },
    )


def _month_sequence(first: date, last: date) -> list[date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def _months_before(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _monthly(con, rocu: str | None, as_of: date | None, impacts: list[dict]) -> dict:
    """Disruptions per month and impact (claims where is_disruption), in total and per
    panel: per ROCU nationally, per force in a regional report."""
    if as_of is None:
        return {"months": [], "total": {}, "panels": {}}
    months = _month_sequence(_months_before(as_of, MONTHS_SHOWN - 1), as_of)
    panel_column = "force_area" if rocu else "rocu"
    rows = _rows(
        con,
        f"""
        SELECT disruption_month, {panel_column} AS panel, impact,
               sum(claim_count) AS disruptions
        FROM marts.disruptions_monthly
        WHERE is_disruption AND disruption_month >= ?
        GROUP BY ALL
        """,
        [months[0]],
    )
    index = {month: position for position, month in enumerate(months)}
    names = [level["impact"] for level in impacts]
    total = {name: [0] * len(months) for name in names}
    panels: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        position = index.get(row["disruption_month"])
        if position is None or row["impact"] not in total:
            continue
        total[row["impact"]][position] += int(row["disruptions"])
        panel = panels.setdefault(
            row["panel"] or "unknown", {name: [0] * len(months) for name in names}
        )
        panel[row["impact"]][position] += int(row["disruptions"])
    return {"months": months, "total": total, "panels": dict(sorted(panels.items()))}


def _top_ocgs(con: duckdb.DuckDBPyConnection) -> list[dict]:
    top = _rows(
        con,
        f"""
        SELECT s.ocg_id, s.rocu, s.lead_force, s.current_status, s.current_band,
               s.current_threat_score, s.net_disruption_score, s.total_disruptions,
               s.major_count, s.negative_count, e.effect_12m
        FROM marts.ocg_disruption_summary s
        LEFT JOIN marts.ocg_long_term_effect e USING (ocg_id)
        WHERE s.total_disruptions > 0
        ORDER BY s.net_disruption_score DESC, s.total_disruptions DESC, s.ocg_id
        LIMIT {TOP_OCGS}
        """,
    )
    explanations = explain_ocgs(con, [row["ocg_id"] for row in top])
    for position, row in enumerate(top, start=1):
        explanation = explanations[row["ocg_id"]]
        row["anchor"] = f"explain-{position}"
        row["trajectory"] = [
            [item["assessed_on"], item["threat_score"]] for item in explanation["assessments"]
        ]
        row["explanation"] = explanation
    return top


def _tactics(con: duckdb.DuckDBPyConnection, reference: Reference) -> list[dict]:
    """Tactics used at least once, the most often reducing their OCGs first."""
    rows = _rows(con, "SELECT * FROM marts.tactic_effectiveness WHERE ocgs_targeted > 0")
    for row in rows:
        row["reduced_or_dismantled"] = sum(row[f"{e}_12m"] for e in reference.reduction_effects)
    rows.sort(
        key=lambda row: (
            -(row["reduced_or_dismantled"] / max(row["ocgs_measured_12m"], 1)),
            -row["ocgs_targeted"],
            row["tactic"],
        )
    )
    return rows


def _data_quality(con: duckdb.DuckDBPyConnection) -> dict:
    """What the published file holds of the loads and the build. A regional file carries
    only the audit tables that name no OCG, so some parts are national-only."""
    audit = _tables(con, "audit")
    dq: dict[str, Any] = {"national_only": "dq_alerts" not in audit}
    dq["batches_by_status"] = _rows(
        con,
        """
        SELECT status, count(*) AS batches, coalesce(sum(rows_read), 0) AS rows_read,
               coalesce(sum(rows_loaded), 0) AS rows_loaded,
               coalesce(sum(rows_quarantined), 0) AS rows_quarantined
        FROM audit.load_batches GROUP BY status ORDER BY batches DESC, status
        """,
    )
    dq["quarantined_rows"] = con.execute(
        "SELECT coalesce(sum(rows_quarantined), 0) FROM audit.load_batches"
    ).fetchone()[0]
    dq["top_reasons"] = []
    if "quarantine" in audit:
        # Only the reasons: the record itself (whatever it holds) never reaches the page.
        dq["top_reasons"] = _rows(
            con,
            f"""
            SELECT trim(reason) AS reason, count(*) AS rows
            FROM (SELECT unnest(string_split(reasons, '; ')) AS reason FROM audit.quarantine)
            WHERE trim(reason) <> ''
            GROUP BY ALL ORDER BY rows DESC, reason LIMIT {TOP_REASONS}
            """,
        )
    dq["held_batches"] = _rows(
        con,
        f"""
        SELECT batch_id, feed, source_file, rows_read, message, finished_at,
               CASE batch_status WHEN 'discarded' THEN 'discarded'
                                 ELSE 'awaiting review' END AS decision
        FROM audit.batch_status
        WHERE batch_status IN ('held', 'discarded')
        ORDER BY batch_id DESC
        LIMIT {HELD_SHOWN}
        """,
    )
    dq["held_batch_count"] = con.execute(
        "SELECT count(*) FROM audit.batch_status WHERE batch_status IN ('held', 'discarded')"
    ).fetchone()[0]
    dq["load_validations"] = []
    if "batch_validations" in audit:
        dq["load_validations"] = _rows(
            con,
            """
            SELECT CASE WHEN critical_failures > 0 THEN 'held'
                        WHEN warning_failures > 0 THEN 'passed with warnings'
                        ELSE 'passed' END AS result,
                   count(*) AS batches
            FROM audit.batch_validations GROUP BY 1 ORDER BY 2 DESC
            """,
        )
    dq["model_tests"] = _rows(
        con,
        """
        SELECT status, count(*) AS tests FROM audit.dbt_test_results
        WHERE run_id = (SELECT arg_max(run_id, recorded_at) FROM audit.dbt_test_results)
        GROUP BY status ORDER BY tests DESC
        """,
    )
    dq["model_tests_not_passing"] = _rows(
        con,
        """
        SELECT test_name, test_type, model, column_name, severity, status, failures
        FROM audit.dbt_test_results
        WHERE run_id = (SELECT arg_max(run_id, recorded_at) FROM audit.dbt_test_results)
          AND status <> 'pass'
        ORDER BY status, test_name
        """,
    )
    dq["recent_alerts"] = []
    if "dq_alerts" in audit:
        dq["recent_alerts"] = _rows(
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
    dq["last_run"] = last_run[0] if last_run else None
    return dq


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


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{100 * value:.0f}%"


def render_report(figures: dict[str, Any]) -> str:
    env = html_environment(TEMPLATES_DIR)
    env.filters["label"] = _label
    env.filters["clip"] = _clip
    env.filters["num"] = lambda value: "–" if value is None else f"{value:,}"
    env.filters["pct"] = lambda value: "–" if value is None else f"{100 * value:.0f}%"
    generated_at = datetime.now(UTC).replace(microsecond=0)
    figures["generated_at"] = generated_at
    data = {key: value for key, value in figures.items()}
    data["top_ocgs"] = [
        {key: value for key, value in row.items() if key != "explanation"}
        for row in figures["top_ocgs"]
    ]
    data_json = json.dumps(data, default=_json_default, sort_keys=True)
    # Text from the data cannot close the script element or open a tag: JSON readers see
    # the same characters again.
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        data_json = data_json.replace(char, escaped)
    reference = figures["reference"]
    template = env.get_template("report.html.j2")
    return template.render(
        f=figures,
        charts=build_charts(figures),
        impacts=reference["impacts"],
        effects=reference["effects"],
        effect_colours={e["effect"]: e["colour"] for e in reference["effects"]},
        effect_labels={e["effect"]: e["label"] for e in reference["effects"]},
        data_json=Markup(data_json),  # noqa: S704 - JSON built above, <, > and & escaped
        generated_at=generated_at,
    )


def build_charts(figures: dict[str, Any]) -> dict[str, Any]:
    reference = figures["reference"]
    impacts = reference["impacts"]
    names = [level["impact"] for level in impacts]
    up = [level["impact"] for level in impacts if not level["below_axis"]]
    down = [level["impact"] for level in impacts if level["below_axis"]]
    impact_colours = {level["impact"]: level["colour"] for level in impacts}
    effect_colours = {e["effect"]: e["colour"] for e in reference["effects"]}
    effect_labels = {e["effect"]: e["label"] for e in reference["effects"]}
    monthly = figures["monthly"]
    months = monthly["months"]
    scope_name = figures["scope"]["name"]
    built: dict[str, Any] = {}
    if months:
        span = f"{_month_label(months[0])} to {_month_label(months[-1])}"
        totals = [sum(monthly["total"][name][i] for name in up) for i in range(len(months))]
        below = [sum(monthly["total"][name][i] for name in down) for i in range(len(months))]
        built["monthly"] = charts.stacked_columns(
            [_month_label(month) for month in months],
            monthly["total"],
            impact_colours,
            title=f"Counted disruptions per month by impact, {scope_name}",
            desc=(
                f"Stacked columns, {span}. {', '.join(up)} stack above the axis (peak "
                f"{max(totals, default=0)} in a month); {', '.join(down) or 'none'} hang "
                f"below it (peak {max(below, default=0)}). Figures in the table below."
            ),
            below_axis=down,
            width=1116,
            height=280,
        )
        if down:
            built["below_axis"] = charts.stacked_columns(
                [_month_label(month) for month in months],
                {name: monthly["total"][name] for name in down},
                impact_colours,
                title=f"{', '.join(down)} disruptions per month, {scope_name}",
                desc=(
                    f"Columns, {span}: disruptions that left the OCG stronger, on their own "
                    f"scale; {sum(below)} in all, peak {max(below, default=0)} in a month."
                ),
                width=1116,
                height=130,
            )
        panel_max = max(
            (
                sum(panel[name][i] for name in up)
                for panel in monthly["panels"].values()
                for i in range(len(months))
            ),
            default=0,
        )
        panel_min = max(
            (
                sum(panel[name][i] for name in down)
                for panel in monthly["panels"].values()
                for i in range(len(months))
            ),
            default=0,
        )
        built["panels"] = {
            name: charts.stacked_columns(
                [_month_label(month, compact=True) for month in months],
                series,
                impact_colours,
                title=f"Disruptions per month by impact, {name}",
                desc=(
                    f"{name}: {sum(sum(series[n]) for n in names)} counted disruptions "
                    f"from {span}, of which {sum(sum(series[n]) for n in down)} "
                    f"{', '.join(down)}. Same scale as the other panels."
                ),
                below_axis=down,
                width=350,
                height=130,
                compact=True,
                y_max=panel_max,
                y_min=panel_min,
            )
            for name, series in monthly["panels"].items()
        }
    effects = figures["effects"]
    all_effects = [e["effect"] for e in reference["effects"]]
    outcome_effects = [e["effect"] for e in reference["effects"] if e["is_outcome"]]
    if effects:
        built["effects"] = charts.proportion_bars(
            [(f"After {h} months", effects[f"effect_{h}m"]) for h in figures["horizons"]],
            all_effects,
            effect_colours,
            title="Long-term effect on disrupted OCGs, at each horizon",
            desc=(
                "Share of disrupted OCGs in each effect category at each horizon: "
                + "; ".join(
                    f"{horizon.split('_')[1]}: "
                    + ", ".join(f"{effect_labels[n]} {c}" for n, c in counts.items())
                    for horizon, counts in effects.items()
                )
            ),
            width=1116,
            row_height=34,
            label_width=120,
        )
    change = figures["score_change"]
    tolerance = figures["tolerance"]
    band = f"±{100 * tolerance:.0f}%" if tolerance is not None else "tolerance"
    built["score_change"] = {
        horizon: charts.histogram(
            change["edges"],
            change[f"pct_change_{horizon}m"],
            title=f"Change in threat score {horizon} months after first disruption",
            desc=(
                f"Histogram of {sum(change[f'pct_change_{horizon}m'])} re-assessed OCGs' "
                f"percentage change in threat score from baseline to {horizon} months, in "
                f"10-point bins from -100% to +100% or more. Dashed lines mark the {band} "
                "tolerance: beyond it on the left is reduced, on the right strengthened."
            ),
            reference=(-tolerance, tolerance) if tolerance is not None else (),
        )
        for horizon in figures["horizons"]
    }
    if figures["tactics"]:
        built["tactics"] = charts.proportion_bars(
            [
                (_label(row["tactic"]), {name: row[f"{name}_12m"] for name in outcome_effects})
                for row in figures["tactics"]
            ],
            outcome_effects,
            effect_colours,
            title="How OCGs fared in the 12 months after a tactic was first used against them",
            desc=(
                "For each tactic, the OCGs it was used against whose 12-month outcome is "
                "known, split by effect, measured from the tactic's first use; sorted by "
                "the share reduced or dismantled. Figures in the table."
            ),
            width=1116,
            label_width=140,
        )
    by_rocu: dict[str, list[dict]] = {}
    for row in figures["balance"]:
        by_rocu.setdefault(row["rocu"], []).append(row)
    built["balance"] = {
        rocu: charts.dumbbell(
            [(row["force_code"], row["disruption_share"], row["active_ocg_share"]) for row in rows],
            title=f"{rocu}: each force's share of the last 12 months' disruptions and of the "
            "active OCGs",
            desc=(
                f"{rocu}: "
                + "; ".join(
                    f"{row['force_code']} {_pct(row['disruption_share'])} of disruptions, "
                    f"{_pct(row['active_ocg_share'])} of active OCGs"
                    for row in rows
                )
            ),
            first_label="share of disruptions (12 months)",
            second_label="share of active OCGs",
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
