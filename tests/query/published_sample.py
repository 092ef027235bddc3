"""A small, deterministic published file with the marts, audit and reference tables that
`disruptions.publish.marts` publishes, and the regional files cut from it.

Readers (query, export, report, explain) are tested against a real DuckDB file shaped like
the one the pipeline publishes, without running the pipeline. The facts are made up (the
OCGs' assessments, every claim version and the batch it was read from, the load ledger),
and the marts are derived from them by the rules their dbt YAML states, so the figures
agree with one another as the real ones do: the counted rows of fct_disruption_claims
recount ocg_disruption_summary, disruptions_monthly sums to the same totals,
fct_ocg_effect_evidence holds the evidence of ocg_long_term_effect's effects, and the
force balance counts the same claims and assessments. The marts' columns and types are
written out here, and test_sample_matches_contracts.py checks them against the contracts;
the reference tables are the seed CSVs typed as _reference_seeds.yml types them.

On purpose, some text never published for real is in the file: a rationale inside a
quarantined record (LEAKED_RATIONALE), which no reader may show.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import yaml

from disruptions.config import DBT_PROJECT_DIR, SEEDS_DIR
from disruptions.publish.atomic import write_published_file
from disruptions.publish.marts import PUBLISHED_AUDIT_TABLES
from disruptions.publish.regions import regional_plan
from disruptions.reference import SEEDS, read_reference
from disruptions.serve.glossary import contract_type
from disruptions.warehouse import AUDIT_DDL

AS_OF = date(2026, 6, 30)
RUN_ID = "run-2026-06-30"
PREVIOUS_RUN_ID = "run-2026-06-29"
TOLERANCE = 0.1  # dbt var effect_tolerance
HORIZONS = (6, 12)  # dbt var effect_horizons_months
STRANDS = ["pursue", "prevent", "protect", "prepare"]
# The tactics the sample's claims use; the other tactics of the seed are never used.
TACTICS = ["arrest", "charge", "imprisonment", "drugs_seizure", "cash_seizure", "safeguarding"]
BANDS = ["1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C"]
# The disruption batches of the ledger (audit.load_batches): two loaded, one held and
# discarded by the steward, whose claims therefore never count.
LOADED_DISRUPTION_BATCHES = {2: "emsou/disruptions_2026.csv", 3: "titan/disruptions_q2.parquet"}
DISCARDED_BATCH = (6, "odyssey/disruptions_june.csv")
QUARANTINED = {1: 2, 2: 10, 3: 3, 6: 20}
# A rationale that leaked into a quarantined record must never reach a reader.
LEAKED_RATIONALE = "SECRET-SOURCE-RATIONALE-7731"
REFERENCE_SEEDS_YAML = DBT_PROJECT_DIR / "models" / "_reference_seeds.yml"


def _add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's end (as the models' add_months)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def seed_column_types() -> dict[str, dict[str, str]]:
    """Each seed's column types, as _reference_seeds.yml gives them to dbt on DuckDB (the
    per-engine type vars at the project's defaults)."""
    seeds = yaml.safe_load(REFERENCE_SEEDS_YAML.read_text(encoding="utf-8"))["seeds"]
    return {
        seed["name"]: {
            column: contract_type(declared)
            for column, declared in seed["config"]["column_types"].items()
        }
        for seed in seeds
    }


# --- the facts ------------------------------------------------------------------------------


def _assessments(rng, ocg_id: str, force: str, number: int) -> list[dict]:
    """An OCG's assessments, oldest first. A few OCGs are first mapped only after their
    first disruption (insufficient baseline), a few never again after early 2024 (not
    reassessed), and some are archived at their last assessment."""
    if number % 11 == 5:
        day = date(2024, 6, 1) + timedelta(days=rng.randrange(0, 200))
    else:
        day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 300))
    score = rng.randrange(20, 95)
    assessments = []
    while day <= AS_OF and len(assessments) < 7:
        if assessments and number % 13 == 7 and day > date(2024, 3, 1):
            break  # nobody mapped it again: its effects are not_reassessed
        assessments.append(
            {
                "ocg_id": ocg_id,
                "assessed_on": day,
                "threat_score": score,
                "band": BANDS[min(8, max(0, (100 - score) // 11))],
                "status": "active",
                "archive_reason": None,
                "lead_force": force,
                "member_count": rng.randrange(3, 30),
            }
        )
        day += timedelta(days=rng.randrange(90, 260))
        score = max(0, score + rng.randrange(-18, 12))
    if rng.random() < 0.15:
        assessments[-1]["status"] = "archived"
        assessments[-1]["archive_reason"] = "merged" if number % 4 == 0 else "dismantled"
    return assessments


def _claim_versions(rng, ocg_id: str, force: str, rocu: str, number: int, forces) -> list[dict]:
    """Every version of the OCG's claims, as loaded, with the batch each was read from."""
    claims = []
    for index in range(rng.randrange(0, 9)):
        impact = rng.choices(["major", "moderate", "minor", "none", "negative"], [2, 4, 6, 2, 1])[0]
        when = date(2024, 1, 1) + timedelta(days=rng.randrange(0, (AS_OF - date(2024, 1, 1)).days))
        if index == 0 and number % 9 == 0:
            # A few negative disruptions in the as_of quarter, whatever the dice say.
            impact, when = "negative", date(2026, 5, 1 + number % 28)
        roll = rng.random()
        status = (
            "claimed"
            if roll < 0.08
            else "withdrawn"
            if roll < 0.11
            else "rejected"
            if roll < 0.13
            else "approved"
        )
        claim = {
            "disruption_id": f"DIS-{number:04d}-{index:02d}",
            "ocg_id": ocg_id,
            "disruption_date": when,
            "impact": impact,
            "status": status,
            "tactic": rng.choice(TACTICS),
            "strand": rng.choice(STRANDS),
            "lead_agency": rng.choice([force, rocu, "NCA"]),
            # Mostly in the lead force's area; now and then anywhere in the country.
            "force_area": force if rng.random() > 0.1 else rng.choice(forces)[0],
        }
        recorded = min(when + timedelta(days=rng.randrange(0, 20)), AS_OF)
        if rng.random() < 0.25:
            # First claimed at a lower impact, then amended: that version is superseded.
            first = dict(claim, impact="minor", status="claimed")
            claims.append(
                dict(
                    first,
                    recorded_at=datetime.combine(recorded, time(9)),
                    batch_id=rng.choice(list(LOADED_DISRUPTION_BATCHES)),
                )
            )
            recorded = min(recorded + timedelta(days=rng.randrange(1, 30)), AS_OF)
        claims.append(
            dict(
                claim,
                recorded_at=datetime.combine(recorded, time(15)),
                batch_id=rng.choice(list(LOADED_DISRUPTION_BATCHES)),
            )
        )
    if number % 10 == 3:
        # Read from the batch the steward discarded: never counted.
        when = date(2026, 6, 1) + timedelta(days=number % 20)
        claims.append(
            {
                "disruption_id": f"DIS-{number:04d}-99",
                "ocg_id": ocg_id,
                "disruption_date": when,
                "impact": "major",
                "status": "approved",
                "tactic": "arrest",
                "strand": "pursue",
                "lead_agency": force,
                "force_area": force,
                "recorded_at": datetime.combine(when, time(11)),
                "batch_id": DISCARDED_BATCH[0],
            }
        )
    return claims


def _outcomes(claims: list[dict]) -> None:
    """fct_disruption_claims.outcome: discarded batch, superseded, then the current
    version's status."""
    versions: dict[str, list[dict]] = {}
    for claim in claims:
        claim["superseded_by_recorded_at"] = None
        if claim["batch_id"] == DISCARDED_BATCH[0]:
            claim["outcome"] = "discarded_batch"
        else:
            versions.setdefault(claim["disruption_id"], []).append(claim)
    by_status = {
        "approved": "counted",
        "claimed": "pending",
        "withdrawn": "withdrawn",
        "rejected": "rejected",
    }
    for history in versions.values():
        history.sort(key=lambda claim: claim["recorded_at"])
        for older, newer in zip(history, history[1:], strict=False):
            older["outcome"] = "superseded"
            older["superseded_by_recorded_at"] = newer["recorded_at"]
        history[-1]["outcome"] = by_status[history[-1]["status"]]


def effect_at(assessments: list[dict], anchor: date, months: int) -> dict:
    """The effect rules of int_effect_at_anchor, for one anchor and horizon."""
    horizon_date = _add_months(anchor, months)
    observed_until = min(horizon_date, AS_OF)
    before = [a for a in assessments if a["assessed_on"] <= anchor]
    baseline = before[-1] if before else None
    within = [
        a
        for a in assessments
        if anchor < a["assessed_on"] <= horizon_date and horizon_date <= AS_OF
    ]
    at_horizon = within[-1] if within else None
    dismantlings = [
        a["assessed_on"]
        for a in assessments
        if a["archive_reason"] == "dismantled" and anchor < a["assessed_on"] <= observed_until
    ]
    base_score = baseline["threat_score"] if baseline else None
    score = at_horizon["threat_score"] if at_horizon else None
    change = score - base_score if None not in (score, base_score) else None
    pct = change / base_score if change is not None and base_score != 0 else None
    if dismantlings:
        rule, effect = 1, "dismantled"
    elif horizon_date > AS_OF:
        rule, effect = 2, "too_early"
    elif base_score is None:
        rule, effect = 3, "insufficient_baseline"
    elif score is None:
        rule, effect = 4, "not_reassessed"
    elif base_score == 0:
        rule, effect = 5, "strengthened" if score > 0 else "no_change"
    elif pct <= -TOLERANCE:
        rule, effect = 5, "reduced"
    elif pct >= TOLERANCE:
        rule, effect = 6, "strengthened"
    else:
        rule, effect = 7, "no_change"
    return {
        "horizon_months": months,
        "baseline_date": anchor,
        "baseline_assessed_on": baseline["assessed_on"] if baseline else None,
        "baseline_score": base_score,
        "baseline_band": baseline["band"] if baseline else None,
        "horizon_date": horizon_date,
        "observed_until": observed_until,
        "horizon_assessed_on": at_horizon["assessed_on"] if at_horizon else None,
        "score_at_horizon": score,
        "score_change": change,
        "pct_change": pct,
        "dismantled_on": dismantlings[0] if dismantlings else None,
        "effect_rule": rule,
        "effect": effect,
    }


# --- the file -------------------------------------------------------------------------------


def build_published_sample(path: Path, ocg_count: int = 80, seed: int = 7) -> Path:
    """Write the sample national published file at `path` and return it.

    Everything is built in memory first and then copied into the file table by table,
    as publication does (so, as in a real published file, no constraint or sequence).
    """
    rng = random.Random(seed)
    con = duckdb.connect()
    for schema in ("marts", "audit", "reference"):
        con.execute(f"CREATE SCHEMA {schema}")
    _reference(con)
    reference = read_reference(con)
    forces = list(reference.forces.items())
    weights = {level.impact: level.weight for level in reference.impact_levels}
    is_disruption = {level.impact: level.is_disruption for level in reference.impact_levels}

    assessments: dict[str, list[dict]] = {}
    claims: list[dict] = []
    for number in range(1, ocg_count + 1):
        ocg_id = f"OCG-{number:04d}"
        force, rocu = forces[(number * 7) % len(forces)]
        assessments[ocg_id] = _assessments(rng, ocg_id, force, number)
        claims += _claim_versions(rng, ocg_id, force, rocu, number, forces)
    # One OCG was never assessed: it has no lead force, so no ROCU, and is national only.
    unassessed = f"OCG-{ocg_count + 1:04d}"
    assessments[unassessed] = []
    for index, impact in enumerate(("minor", "none")):
        claims.append(
            {
                "disruption_id": f"DIS-{ocg_count + 1:04d}-{index:02d}",
                "ocg_id": unassessed,
                "disruption_date": date(2025, 3, 3 + index),
                "impact": impact,
                "status": "approved",
                "tactic": "charge",
                "strand": "pursue",
                "lead_agency": "NCA",
                "force_area": forces[3][0],
                "recorded_at": datetime(2025, 3, 10, 12),
                "batch_id": 2,
            }
        )
    _outcomes(claims)
    _where_read(claims)
    counted = [claim for claim in claims if claim["outcome"] == "counted"]
    disruptions = [claim for claim in counted if is_disruption[claim["impact"]]]
    summary, history, effects, evidence = [], [], [], []
    for ocg_id, rows in assessments.items():
        mine = [claim for claim in claims if claim["ocg_id"] == ocg_id]
        if not rows and not any(claim["outcome"] == "counted" for claim in mine):
            continue
        summary.append(_summary_row(ocg_id, rows, mine, reference))
        history += _history_rows(ocg_id, rows, reference)
        dates = [
            c["disruption_date"]
            for c in mine
            if c["outcome"] == "counted" and is_disruption[c["impact"]]
        ]
        if dates:
            effect, horizons = _effect_rows(ocg_id, rows, dates)
            effects.append(effect)
            evidence += horizons

    _create(con, "marts.ocg_disruption_summary", SUMMARY_DDL, summary)
    _create(con, "marts.ocg_long_term_effect", EFFECT_DDL, effects)
    _create(con, "marts.fct_ocg_effect_evidence", EVIDENCE_DDL, evidence)
    _create(con, "marts.dim_ocg_assessment_history", HISTORY_DDL, history)
    _create(con, "marts.fct_disruption_claims", CLAIMS_DDL, [_claim_row(c) for c in claims])
    _create(con, "marts.disruptions_monthly", MONTHLY_DDL, _monthly(counted, reference, weights))
    _create(
        con,
        "marts.tactic_effectiveness",
        TACTICS_DDL,
        _tactic_effectiveness(disruptions, assessments, reference),
    )
    _create(
        con,
        "marts.rocu_force_balance",
        BALANCE_DDL,
        _rocu_force_balance(disruptions, assessments, reference, con),
    )
    _audit(con, claims, sum(len(rows) for rows in assessments.values()))
    _write(con, path)
    con.close()
    return path


def _where_read(claims: list[dict]) -> None:
    """Each version's file and line: a batch's quarantined records come first in it."""
    files = {**LOADED_DISRUPTION_BATCHES, DISCARDED_BATCH[0]: DISCARDED_BATCH[1]}
    line = {batch_id: 2 + QUARANTINED.get(batch_id, 0) for batch_id in files}
    for claim in claims:
        claim["source_file"] = files[claim["batch_id"]]
        claim["line_number"] = line[claim["batch_id"]]
        line[claim["batch_id"]] += 1


def _summary_row(ocg_id: str, rows: list[dict], claims: list[dict], reference) -> tuple:
    """ocg_disruption_summary: the counted claims, and the latest assessment."""
    weights = {level.impact: level.weight for level in reference.impact_levels}
    counted = [c for c in claims if c["outcome"] == "counted"]
    dates = [c["disruption_date"] for c in counted if reference.impact(c["impact"]).is_disruption]
    latest = rows[-1] if rows else {}
    return (
        ocg_id,
        latest.get("lead_force"),
        reference.forces.get(latest.get("lead_force")),
        latest.get("status"),
        latest.get("threat_score"),
        latest.get("band"),
        *(sum(1 for c in counted if c["impact"] == impact) for impact in weights),
        len(dates),
        sum(1 for c in claims if c["outcome"] == "pending"),
        sum(weights[c["impact"]] for c in counted),
        min(dates, default=None),
        max(dates, default=None),
        AS_OF,
    )


def _history_rows(ocg_id: str, rows: list[dict], reference) -> list[tuple]:
    """dim_ocg_assessment_history: each assessment valid until the next."""
    return [
        (
            ocg_id,
            row["assessed_on"],
            rows[index + 1]["assessed_on"] if index + 1 < len(rows) else None,
            index + 1 == len(rows),
            row["threat_score"],
            row["band"],
            BANDS.index(row["band"]) + 1,
            row["status"],
            row["archive_reason"],
            row["lead_force"],
            reference.forces[row["lead_force"]],
            "drugs supply",
            row["member_count"],
            AS_OF,
        )
        for index, row in enumerate(rows)
    ]


EVIDENCE_KEYS = (
    "horizon_months",
    "baseline_date",
    "baseline_assessed_on",
    "baseline_score",
    "baseline_band",
    "horizon_date",
    "observed_until",
    "horizon_assessed_on",
    "score_at_horizon",
    "pct_change",
    "dismantled_on",
    "effect_rule",
    "effect",
)


def _effect_rows(ocg_id: str, rows: list[dict], dates: list[date]) -> tuple[tuple, list]:
    """ocg_long_term_effect's row and fct_ocg_effect_evidence's, for a disrupted OCG: the
    effect rules at its first disruption."""
    baseline = min(dates)
    horizons = [effect_at(rows, baseline, months) for months in HORIZONS]
    evidence = [(ocg_id, *(h[key] for key in EVIDENCE_KEYS), TOLERANCE, AS_OF) for h in horizons]
    twelve = horizons[-1]
    first_dismantling = min(
        (
            row["assessed_on"]
            for row in rows
            if row["archive_reason"] == "dismantled" and row["assessed_on"] > baseline
        ),
        default=None,
    )
    effect = (
        ocg_id,
        baseline,
        twelve["baseline_score"],
        twelve["baseline_band"],
        *(
            h[key]
            for h in horizons
            for key in ("score_at_horizon", "score_change", "pct_change", "effect")
        ),
        twelve["effect_rule"] == 1,
        (first_dismantling - baseline).days if first_dismantling else None,
        sum(1 for day in dates if baseline < day <= twelve["horizon_date"]),
        AS_OF,
    )
    return effect, evidence


def _write(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the published tables into the file at `path`, as publication does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute("ATTACH ? AS sample", [str(path)])
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'memory' "
        "ORDER BY schema_name, table_name"
    ).fetchall()
    for schema in dict.fromkeys(schema for schema, _ in tables):
        con.execute(f"CREATE SCHEMA sample.{schema}")
    for schema, table in tables:
        con.execute(
            f"CREATE TABLE sample.{schema}.{table} AS SELECT * FROM memory.{schema}.{table}"
        )
    con.execute("DETACH sample")


def _reference(con: duckdb.DuckDBPyConnection) -> None:
    """The seeds, typed as dbt seeds them (_reference_seeds.yml), in their CSV order."""
    types = seed_column_types()
    for seed in SEEDS:
        relation = con.read_csv(str(SEEDS_DIR / f"{seed}.csv"), header=True, dtype=types[seed])
        relation.create_view(f"seed_{seed}")
        con.execute(f"CREATE TABLE reference.{seed} AS SELECT * FROM seed_{seed}")
        con.execute(f"DROP VIEW seed_{seed}")


def _create(con, table: str, ddl: str, rows: list) -> None:
    con.execute(f"CREATE TABLE {table} ({ddl})")
    _insert(con, table, rows)


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list) -> None:
    """One INSERT per 500 rows: DuckDB's executemany runs row by row and is slow."""
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join([f"({_marks(len(chunk[0]))})"] * len(chunk))
        con.execute(
            f"INSERT INTO {table} VALUES {values}", [value for row in chunk for value in row]
        )


SUMMARY_DDL = """
    ocg_id VARCHAR, lead_force VARCHAR, rocu VARCHAR, current_status VARCHAR,
    current_threat_score INTEGER, current_band VARCHAR,
    major_count BIGINT, moderate_count BIGINT, minor_count BIGINT, none_count BIGINT,
    negative_count BIGINT, total_disruptions BIGINT, pending_claims BIGINT,
    net_disruption_score BIGINT, first_disruption_date DATE,
    last_disruption_date DATE, as_of_date DATE
"""
EFFECT_DDL = """
    ocg_id VARCHAR, baseline_date DATE, baseline_score INTEGER, baseline_band VARCHAR,
    score_6m INTEGER, score_change_6m INTEGER, pct_change_6m DOUBLE, effect_6m VARCHAR,
    score_12m INTEGER, score_change_12m INTEGER, pct_change_12m DOUBLE,
    effect_12m VARCHAR, dismantled_within_12m BOOLEAN, days_to_dismantle INTEGER,
    disruptions_after_baseline_12m BIGINT, as_of_date DATE
"""
EVIDENCE_DDL = """
    ocg_id VARCHAR, horizon_months INTEGER, baseline_date DATE, baseline_assessed_on DATE,
    baseline_score INTEGER, baseline_band VARCHAR, horizon_date DATE, observed_until DATE,
    horizon_assessed_on DATE, score_at_horizon INTEGER, pct_change DOUBLE,
    dismantled_on DATE, effect_rule INTEGER, effect VARCHAR, tolerance DOUBLE,
    as_of_date DATE
"""
HISTORY_DDL = """
    ocg_id VARCHAR, valid_from DATE, valid_to DATE, is_current BOOLEAN,
    threat_score INTEGER, band VARCHAR, band_rank INTEGER, status VARCHAR,
    archive_reason VARCHAR, lead_force VARCHAR, rocu VARCHAR,
    principal_activity VARCHAR, member_count INTEGER, as_of_date DATE
"""
CLAIMS_DDL = """
    disruption_id VARCHAR, recorded_at TIMESTAMP, batch_id BIGINT, ocg_id VARCHAR,
    disruption_date DATE, impact VARCHAR, status VARCHAR, tactic VARCHAR, strand VARCHAR,
    lead_agency VARCHAR, force_area VARCHAR, source_file VARCHAR, line_number BIGINT,
    outcome VARCHAR, superseded_by_recorded_at TIMESTAMP, as_of_date DATE
"""
MONTHLY_DDL = """
    disruption_month DATE, rocu VARCHAR, force_area VARCHAR, lead_agency VARCHAR,
    strand VARCHAR, tactic VARCHAR, impact VARCHAR, is_disruption BOOLEAN,
    claim_count BIGINT, net_disruption_score BIGINT, as_of_date DATE
"""
TACTICS_DDL = """
    tactic VARCHAR, ocgs_targeted BIGINT, ocgs_measured_12m BIGINT,
    dismantled_12m BIGINT, reduced_12m BIGINT, no_change_12m BIGINT,
    strengthened_12m BIGINT, not_reassessed_12m BIGINT,
    insufficient_baseline_12m BIGINT, too_early_12m BIGINT,
    share_dismantled_12m DOUBLE, share_reduced_12m DOUBLE, share_no_change_12m DOUBLE,
    share_strengthened_12m DOUBLE, share_not_reassessed_12m DOUBLE,
    share_insufficient_baseline_12m DOUBLE, mean_pct_change_12m DOUBLE, as_of_date DATE
"""
BALANCE_DDL = """
    rocu VARCHAR, force_code VARCHAR, disruptions_12m BIGINT, disruption_share DOUBLE,
    active_ocgs BIGINT, active_ocg_share DOUBLE, high_threat_ocgs BIGINT,
    high_threat_share DOUBLE, effort_gap DOUBLE, as_of_date DATE
"""
CLAIM_COLUMNS = [
    "disruption_id",
    "recorded_at",
    "batch_id",
    "ocg_id",
    "disruption_date",
    "impact",
    "status",
    "tactic",
    "strand",
    "lead_agency",
    "force_area",
    "source_file",
    "line_number",
    "outcome",
    "superseded_by_recorded_at",
]


def _claim_row(claim: dict) -> tuple:
    return (*(claim[column] for column in CLAIM_COLUMNS), AS_OF)


def _monthly(counted: list[dict], reference, weights: dict[str, int]) -> list[tuple]:
    """Counted claims per month x ROCU of the force area x ... x impact."""
    cells: dict[tuple, int] = {}
    for claim in counted:
        key = (
            claim["disruption_date"].replace(day=1),
            reference.forces[claim["force_area"]],
            claim["force_area"],
            claim["lead_agency"],
            claim["strand"],
            claim["tactic"],
            claim["impact"],
        )
        cells[key] = cells.get(key, 0) + 1
    is_disruption = {level.impact: level.is_disruption for level in reference.impact_levels}
    return [
        (*key, is_disruption[key[-1]], count, weights[key[-1]] * count, AS_OF)
        for key, count in sorted(cells.items())
    ]


def _tactic_effectiveness(disruptions, assessments, reference) -> list[tuple]:
    """Each tactic's (tactic, OCG) pairs, their 12-month effect from the tactic's first use."""
    anchors: dict[tuple[str, str], date] = {}
    for claim in disruptions:
        key = (claim["tactic"], claim["ocg_id"])
        anchors[key] = min(anchors.get(key, claim["disruption_date"]), claim["disruption_date"])
    effects = reference.effects  # the seed's order: the mart's column order
    outcomes = reference.outcome_effects
    rows = []
    for tactic in reference.tactics:
        measured = [
            effect_at(assessments[ocg_id], anchor, 12)
            for (used, ocg_id), anchor in anchors.items()
            if used == tactic
        ]
        counts = {effect: sum(1 for m in measured if m["effect"] == effect) for effect in effects}
        with_outcome = sum(counts[effect] for effect in outcomes)
        changes = [m["pct_change"] for m in measured if m["pct_change"] is not None]
        rows.append(
            (
                tactic,
                len(measured),
                with_outcome,
                *(counts[effect] for effect in effects),
                *(counts[effect] / with_outcome if with_outcome else None for effect in outcomes),
                sum(changes) / len(changes) if changes else None,
                AS_OF,
            )
        )
    return rows


def _rocu_force_balance(disruptions, assessments, reference, con) -> list[tuple]:
    """Each force's share of its ROCU's disruptions in the 12 months to as_of, and of its
    active and highest-threat OCGs at as_of."""
    high_threat = {
        band
        for (band,) in con.execute(
            "SELECT band FROM reference.ocg_bands WHERE high_threat"
        ).fetchall()
    }
    since = _add_months(AS_OF, -12)
    latest = [rows[-1] for rows in assessments.values() if rows]
    per_force = {}
    for force in reference.forces:
        active = [a for a in latest if a["status"] == "active" and a["lead_force"] == force]
        per_force[force] = (
            sum(
                1 for c in disruptions if c["force_area"] == force and c["disruption_date"] > since
            ),
            len(active),
            sum(1 for a in active if a["band"] in high_threat),
        )
    rows = []
    for force, rocu in reference.forces.items():
        region = [per_force[f] for f, r in reference.forces.items() if r == rocu]
        totals = [sum(values[i] for values in region) for i in range(3)]
        shares = [per_force[force][i] / totals[i] if totals[i] else None for i in range(3)]
        gap = shares[0] - shares[1] if None not in shares[:2] else None
        rows.append(
            (
                rocu,
                force,
                per_force[force][0],
                shares[0],
                per_force[force][1],
                shares[1],
                per_force[force][2],
                shares[2],
                gap,
                AS_OF,
            )
        )
    return rows


# The batch-status model (dbt_project/models/staging/stg_load_batches.sql), as publication
# copies it to audit.batch_status.
BATCH_STATUS_SQL = """
    WITH decisions AS (
        SELECT batch_id, decision, decided_at, decided_by,
               row_number() OVER (
                   PARTITION BY batch_id ORDER BY decided_at DESC, decision) AS recency
        FROM audit.batch_decisions
    )
    SELECT b.batch_id, b.feed, b.source_file, b.sha256, b.rows_read, b.rows_loaded,
           b.rows_quarantined, b.status, b.message, b.started_at, b.finished_at, b.run_id,
           d.decision AS latest_decision, d.decided_at, d.decided_by,
           CASE WHEN b.status = 'held' AND d.decision = 'discarded' THEN 'discarded'
                WHEN b.status = 'loaded' AND d.decision = 'released' THEN 'released'
                ELSE b.status END AS batch_status,
           CASE WHEN b.status = 'loaded' THEN true ELSE false END AS is_counted_in_marts
    FROM audit.load_batches AS b
    LEFT JOIN decisions AS d ON d.batch_id = b.batch_id AND d.recency = 1
"""


def _audit(con: duckdb.DuckDBPyConnection, claims: list[dict], assessment_rows: int) -> None:
    for statement in AUDIT_DDL:
        con.execute(statement)
    for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'audit'"
    ).fetchall():
        if table not in PUBLISHED_AUDIT_TABLES:
            con.execute(f"DROP TABLE audit.{table}")
    started = datetime(2026, 6, 30, 1, 0)
    loaded = {batch_id: 0 for batch_id in QUARANTINED}
    for claim in claims:
        loaded[claim["batch_id"]] += 1
    loaded[1] = assessment_rows
    batches = [
        (1, "ocg_assessments", "emsou/ocg_assessments_2026.csv", "loaded", None),
        (2, "disruptions", LOADED_DISRUPTION_BATCHES[2], "loaded", None),
        (3, "disruptions", LOADED_DISRUPTION_BATCHES[3], "loaded", None),
        (4, "disruptions", "titan/disruptions_q2_copy.parquet", "duplicate_file", None),
        (
            5,
            "disruptions",
            "zephyr/disruptions_broken.csv",
            "rejected_file",
            "zephyr/disruptions_broken.csv: missing required columns: impact, strand",
        ),
        (
            DISCARDED_BATCH[0],
            "disruptions",
            DISCARDED_BATCH[1],
            "held",
            "critical expectation failed: impact values outside the allowed set",
        ),
    ]
    rows = []
    for batch_id, feed, source, status, message in batches:
        if status == "duplicate_file":
            message = "already loaded as batch 3"
        quarantined = QUARANTINED.get(batch_id, 0)
        rows.append(
            (
                batch_id,
                feed,
                source,
                f"{batch_id:064x}",
                loaded.get(batch_id, 0) + quarantined,
                loaded.get(batch_id, 0),
                quarantined,
                status,
                message,
                started + timedelta(minutes=batch_id),
                started + timedelta(minutes=batch_id, seconds=30),
                RUN_ID,
            )
        )
    _insert(con, "audit.load_batches", rows)
    reasons = [
        "value not allowed: impact = 'huge'",
        "missing required field: ocg_id",
        "disruption_date after recorded_at",
        "unparseable date: disruption_date = '31/02/2026'",
    ]
    quarantine = []
    for batch_id, _, source, _, _ in batches:
        for line in range(QUARANTINED.get(batch_id, 0)):
            reason = reasons[(batch_id + line) % len(reasons)]
            if line % 5 == 0 and reason != reasons[0]:
                reason += "; " + reasons[0]
            record = {"disruption_id": f"D-{batch_id}-{line}", "impact": "huge"}
            if line == 0:
                record["rationale"] = LEAKED_RATIONALE
            quarantine.append((batch_id, source, line + 2, json.dumps(record), reason))
    _insert(con, "audit.quarantine", quarantine)
    con.execute(
        "INSERT INTO audit.batch_validations VALUES "
        "(1, 'ocg_assessments_batch', true, 0, 0, TIMESTAMP '2026-06-30 01:05', ?, '{}'),"
        "(2, 'disruptions_batch', true, 0, 2, TIMESTAMP '2026-06-30 01:05', ?, '{}'),"
        "(3, 'disruptions_batch', true, 0, 0, TIMESTAMP '2026-06-30 01:06', ?, '{}'),"
        "(6, 'disruptions_batch', false, 1, 0, TIMESTAMP '2026-06-30 01:06', ?, '{}')",
        [RUN_ID] * 4,
    )
    con.execute(
        "INSERT INTO audit.batch_decisions VALUES "
        "(6, 'discarded', TIMESTAMP '2026-06-30 09:00', 'steward')"
    )
    con.execute(f"CREATE TABLE audit.batch_status AS {BATCH_STATUS_SQL}")
    _dbt_test_results(con)
    alerts = [
        (
            1,
            "critical",
            "batch_validation",
            "Batch 6 held: odyssey/disruptions_june.csv",
            "critical expectation expect_column_values_to_be_in_set failed on impact (20 rows)",
        ),
        (
            2,
            "critical",
            "ingest",
            "Rejected file zephyr/disruptions_broken.csv",
            "missing required columns: impact, strand",
        ),
        (
            3,
            "warning",
            "dbt_test",
            "dbt test warned: unique_combination_of_columns_fct_disruption_claims",
            "2 claim versions share a (disruption_id, recorded_at, batch_id) key",
        ),
    ]
    _insert(
        con,
        "audit.dq_alerts",
        [
            (
                alert_id,
                started + timedelta(minutes=10 + alert_id),
                RUN_ID,
                severity,
                source,
                subject,
                message,
                json.dumps({"batch_id": 6}),
            )
            for alert_id, severity, source, subject, message in alerts
        ],
    )
    _insert(
        con,
        "audit.pipeline_runs",
        [
            (
                RUN_ID,
                AS_OF,
                step,
                "success",
                started + timedelta(minutes=minute),
                started + timedelta(minutes=minute + 3),
                None,
            )
            for step, minute in (
                ("ingest", 0),
                ("validate_batches", 5),
                ("dbt_build", 8),
                ("publish", 20),
            )
        ],
    )


# The latest build's tests: all pass but one warning. The run before failed one test, which
# a reader must not show as today's.
WARNED_TEST = "unique_combination_of_columns_fct_disruption_claims_key"
EARLIER_FAILED_TEST = "assert_summary_recounts_from_counted_claims"


def _dbt_test_results(con: duckdb.DuckDBPyConnection) -> None:
    tests = [
        (f"not_null_{mart}_{column}", "not_null", mart, column)
        for mart, column in (
            ("ocg_disruption_summary", "ocg_id"),
            ("ocg_long_term_effect", "ocg_id"),
            ("disruptions_monthly", "disruption_month"),
            ("tactic_effectiveness", "tactic"),
            ("rocu_force_balance", "force_code"),
            ("dim_ocg_assessment_history", "ocg_id"),
            ("fct_disruption_claims", "disruption_id"),
            ("fct_ocg_effect_evidence", "ocg_id"),
        )
    ]
    tests += [
        ("unique_ocg_disruption_summary_ocg_id", "unique", "ocg_disruption_summary", "ocg_id"),
        (EARLIER_FAILED_TEST, "singular", None, None),
        ("assert_marts_reconcile", "singular", None, None),
    ]
    rows = []
    for run_id, recorded_at in (
        (PREVIOUS_RUN_ID, datetime(2026, 6, 29, 1, 10)),
        (RUN_ID, datetime(2026, 6, 30, 1, 10)),
    ):
        for name, kind, model, column in tests:
            failed = run_id == PREVIOUS_RUN_ID and name == EARLIER_FAILED_TEST
            rows.append(
                (
                    run_id,
                    recorded_at.date(),
                    name,
                    kind,
                    model,
                    column,
                    "error",
                    "fail" if failed else "pass",
                    3 if failed else 0,
                    "Got 3 results, configured to fail if != 0" if failed else None,
                    recorded_at,
                )
            )
        if run_id == RUN_ID:
            rows.append(
                (
                    run_id,
                    recorded_at.date(),
                    WARNED_TEST,
                    "unique_combination_of_columns",
                    "fct_disruption_claims",
                    None,
                    "warn",
                    "warn",
                    2,
                    "Got 2 results, configured to warn if != 0",
                    recorded_at,
                )
            )
    _insert(con, "audit.dbt_test_results", rows)


# --- regional files -------------------------------------------------------------------------


def build_regional_files(national: Path, regions_dir: Path) -> Path:
    """Cut every ROCU's regional file from the national sample with publication's own
    rules (publish/regions.py regional_plan), into regions_dir/<ROCU>.duckdb.

    The regional plan reads the batch-status model where the warehouse has it
    (staging.stg_load_batches); a private copy of the sample stands in for the warehouse,
    with that name for the published batch status."""
    work = regions_dir.parent / "sample_warehouse.duckdb"
    shutil.copyfile(national, work)
    con = duckdb.connect(str(work))
    try:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE VIEW staging.stg_load_batches AS SELECT * FROM audit.batch_status")
        for rocu in read_reference(con).rocus:
            write_published_file(
                con, regions_dir / f"{rocu}.duckdb", regional_plan(con, rocu), "sample"
            )
    finally:
        con.close()
        work.unlink()
    return regions_dir
