"""`disruptions explain OCG_ID`: why an OCG's figures are what they are.

It gathers, from the published file only, the OCG's summary and effect rows, every claim
version behind them (with its outcome, batch, file and line), the assessments (marking
the ones the effect rules used for the baseline and for each horizon), and which rule
decided each horizon's effect. `explain_ocg` returns it as plain data, which the command
prints for a terminal or as JSON, and the HTML report renders for its top OCGs: one
explanation, three views.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from disruptions.config import Settings
from disruptions.engines import open_published
from disruptions.errors import UserError
from disruptions.logs import printable
from disruptions.reference import Reference, read_reference

OUTPUT_FORMATS = ("text", "json")
CLAIM_COLUMNS = (
    "disruption_id",
    "recorded_at",
    "disruption_date",
    "impact",
    "status",
    "tactic",
    "force_area",
    "outcome",
    "superseded_by_recorded_at",
    "batch_id",
    "source_file",
    "line_number",
)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def explain_ocg(
    con: duckdb.DuckDBPyConnection, ocg_id: str, source: str = "the published marts"
) -> dict[str, Any]:
    """Everything behind one OCG's figures, from a published (national or regional) file."""
    explanations = explain_ocgs(con, [ocg_id])
    if ocg_id not in explanations:
        raise UserError(f"no OCG {printable(ocg_id)!r} in {source}")
    return explanations[ocg_id]


def explain_ocgs(con: duckdb.DuckDBPyConnection, ocg_ids: Sequence[str]) -> dict[str, dict]:
    """explain_ocg for several OCGs at once (the report's top OCGs), keyed by OCG id; an
    id with no summary row is left out.

    One query per mart for all of them: the marts are not sorted by OCG, so each lookup
    reads the whole column (at 10M claim versions, 15 OCGs asked one by one took 2.5 s)."""
    ids = list(dict.fromkeys(ocg_ids))
    if not ids:
        return {}
    wanted = f"ocg_id IN ({', '.join('?' for _ in ids)})"

    def by_ocg(sql: str) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = {}
        for row in _rows(con, sql, ids):
            grouped.setdefault(row["ocg_id"], []).append(row)
        return grouped

    summaries = by_ocg(f"SELECT * FROM marts.ocg_disruption_summary WHERE {wanted}")
    if not summaries:
        return {}
    reference = read_reference(con)
    effects = by_ocg(f"SELECT * FROM marts.ocg_long_term_effect WHERE {wanted}")
    evidence = by_ocg(
        f"SELECT * FROM marts.fct_ocg_effect_evidence WHERE {wanted} "
        "ORDER BY ocg_id, horizon_months"
    )
    claims = by_ocg(
        f"SELECT ocg_id, {', '.join(CLAIM_COLUMNS)} FROM marts.fct_disruption_claims "
        f"WHERE {wanted} ORDER BY ocg_id, disruption_id, recorded_at, batch_id, line_number"
    )
    assessments = by_ocg(
        "SELECT ocg_id, valid_from AS assessed_on, threat_score, band, status, "
        f"archive_reason, lead_force, is_current FROM marts.dim_ocg_assessment_history "
        f"WHERE {wanted} ORDER BY ocg_id, valid_from"
    )
    return {
        ocg_id: _explanation(
            ocg_id,
            summaries[ocg_id][0],
            effects.get(ocg_id, []),
            evidence.get(ocg_id, []),
            [_without_ocg(row) for row in claims.get(ocg_id, [])],
            [_without_ocg(row) for row in assessments.get(ocg_id, [])],
            reference,
        )
        for ocg_id in ids
        if ocg_id in summaries
    }


def _without_ocg(row: dict) -> dict:
    return {name: value for name, value in row.items() if name != "ocg_id"}


def _explanation(
    ocg_id: str,
    summary: dict,
    effect: list[dict],
    evidence: list[dict],
    claims: list[dict],
    assessments: list[dict],
    reference: Reference,
) -> dict[str, Any]:
    for assessment in assessments:
        assessment["used_for"] = _uses(assessment["assessed_on"], evidence)
    for horizon in evidence:
        category = reference.effect(horizon["effect"])
        horizon["rule"] = f"rule {horizon['effect_rule']}: {category.description}"
        horizon["effect_label"] = category.label
    outcomes: dict[str, int] = {}
    for claim in claims:
        outcomes[claim["outcome"]] = outcomes.get(claim["outcome"], 0) + 1
    return {
        "ocg_id": ocg_id,
        "summary": summary,
        "effect": effect[0] if effect else None,
        "effect_evidence": evidence,
        "claims": claims,
        "claim_outcomes": outcomes,
        "assessments": assessments,
        "weights": {level.impact: level.weight for level in reference.impact_levels},
    }


def _uses(assessed_on: date, evidence: list[dict]) -> list[str]:
    """What the effect rules used this assessment for, per horizon."""
    uses = []
    for horizon in evidence:
        months = horizon["horizon_months"]
        if assessed_on == horizon["baseline_assessed_on"]:
            uses.append(f"baseline ({months}m)")
        if assessed_on == horizon["horizon_assessed_on"]:
            uses.append(f"score at {months} months")
        if assessed_on == horizon["dismantled_on"]:
            uses.append(f"dismantled within {months} months")
    return uses


def explain(settings: Settings, ocg_id: str, output_format: str, rocu: str | None) -> str:
    if output_format not in OUTPUT_FORMATS:
        raise UserError(f"unknown format {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    with open_published(settings, rocu) as con:
        try:
            source = f"{rocu}'s published file" if rocu else "the published marts"
            explanation = explain_ocg(con, ocg_id.strip(), source)
        except duckdb.Error as error:
            raise UserError(
                f"the published marts cannot be read: {str(error).splitlines()[0]}"
            ) from None
    if output_format == "json":
        return json.dumps(explanation, default=_json_value, indent=2) + "\n"
    return render_text(explanation)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    return printable(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[_text(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    return lines


def render_text(explanation: dict[str, Any]) -> str:
    summary, effect = explanation["summary"], explanation["effect"]
    weights = explanation["weights"]
    levels = [name for name in weights if f"{name}_count" in summary]
    score_terms = " + ".join(
        f"{summary[f'{name}_count']} {name} x {weights[name]}" for name in levels
    )
    lines = [
        f"OCG {printable(explanation['ocg_id'])} (as of {_text(summary['as_of_date'])})",
        "",
        "Summary",
        f"  ROCU {_text(summary['rocu'])}, lead force {_text(summary['lead_force'])}, "
        f"{_text(summary['current_status'])}, band {_text(summary['current_band'])}, "
        f"threat score {_text(summary['current_threat_score'])}",
        "  counted disruptions: "
        + ", ".join(f"{name} {summary[f'{name}_count']}" for name in levels)
        + f"; total {summary['total_disruptions']} (none is not a disruption)",
        f"  net disruption score {summary['net_disruption_score']} = {score_terms}",
        f"  pending claims {summary['pending_claims']}; first disruption "
        f"{_text(summary['first_disruption_date'])}, last {_text(summary['last_disruption_date'])}",
        "",
    ]
    if effect is None:
        lines += [
            "Long-term effect",
            "  none: the OCG has no counted disruption (impact other than none)",
            "",
        ]
    else:
        lines += [
            "Long-term effect",
            f"  baseline {_text(effect['baseline_date'])} (the first disruption), baseline "
            f"score {_text(effect['baseline_score'])}, band {_text(effect['baseline_band'])}",
        ]
        for horizon in explanation["effect_evidence"]:
            months = horizon["horizon_months"]
            lines.append(f"  {months} months: {horizon['effect']}, decided by {horizon['rule']}")
            lines.append(
                f"    horizon {_text(horizon['horizon_date'])} (observed until "
                f"{_text(horizon['observed_until'])}); baseline assessment "
                f"{_text(horizon['baseline_assessed_on'])} scored "
                f"{_text(horizon['baseline_score'])}; horizon assessment "
                f"{_text(horizon['horizon_assessed_on'])} scored "
                f"{_text(horizon['score_at_horizon'])}; change {_text(horizon['pct_change'])} "
                f"(tolerance {_text(horizon['tolerance'])}); dismantled on "
                f"{_text(horizon['dismantled_on'])}"
            )
        lines.append("")
    outcomes = ", ".join(f"{count} {name}" for name, count in explanation["claim_outcomes"].items())
    lines.append(f"Claim versions ({len(explanation['claims'])}: {outcomes or 'none'})")
    lines += _table(
        [
            "claim",
            "recorded_at",
            "date",
            "impact",
            "status",
            "tactic",
            "force",
            "outcome",
            "superseded by",
            "batch",
            "file",
            "line",
        ],
        [[claim[column] for column in CLAIM_COLUMNS] for claim in explanation["claims"]],
    )
    lines += ["", f"Assessments ({len(explanation['assessments'])})"]
    lines += _table(
        ["assessed_on", "score", "band", "status", "archive reason", "lead force", "used for"],
        [
            [
                row["assessed_on"],
                row["threat_score"],
                row["band"],
                row["status"],
                row["archive_reason"],
                row["lead_force"],
                ", ".join(row["used_for"]) or ("current" if row["is_current"] else ""),
            ]
            for row in explanation["assessments"]
        ],
    )
    return "\n".join(lines) + "\n"
