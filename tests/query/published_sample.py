"""A small, deterministic published file with the spec's marts and audit tables.

Readers (query, export, report) are tested against a real DuckDB file shaped like the one
`publish.py` produces, without running the whole pipeline. The figures are plausible, not
derived from one another: the tests check that readers show what the marts hold.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from disruptions.config import SEEDS_DIR
from disruptions.warehouse import AUDIT_DDL

AS_OF = date(2026, 6, 30)
IMPACTS = ["major", "moderate", "minor", "none", "negative"]
WEIGHTS = {"major": 3, "moderate": 2, "minor": 1, "none": 0, "negative": -2}
STRANDS = ["pursue", "prevent", "protect", "prepare"]
TACTICS = ["arrest", "charge", "imprisonment", "drugs_seizure", "cash_seizure", "safeguarding"]
BANDS = ["1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C"]
EFFECTS = [
    "dismantled",
    "reduced",
    "no_change",
    "strengthened",
    "not_reassessed",
    "insufficient_baseline",
    "too_early",
]
# A rationale that leaked into a quarantined record must never reach a reader.
LEAKED_RATIONALE = "SECRET-SOURCE-RATIONALE-7731"


def _forces() -> list[tuple[str, str]]:
    with open(SEEDS_DIR / "forces.csv", newline="", encoding="utf-8") as handle:
        return [(row["force_code"], row["rocu_code"]) for row in csv.DictReader(handle)]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def build_published_sample(path: Path, ocg_count: int = 80, seed: int = 7) -> Path:
    """Write the sample published file at `path` and return it."""
    rng = random.Random(seed)
    forces = _forces()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA audit")

    summary, effects, history, monthly = [], [], [], {}
    for number in range(1, ocg_count + 1):
        ocg_id = f"OCG-{number:04d}"
        force, rocu = forces[(number * 7) % len(forces)]
        # Assessment history (SCD2).
        day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 300))
        score = rng.randrange(20, 95)
        assessments = []
        while day <= AS_OF and len(assessments) < 7:
            band = BANDS[min(8, max(0, (100 - score) // 11))]
            assessments.append((day, score, band))
            day += timedelta(days=rng.randrange(90, 260))
            score = max(0, score + rng.randrange(-18, 12))
        archived = rng.random() < 0.12
        for index, (assessed_on, score, band) in enumerate(assessments):
            is_last = index == len(assessments) - 1
            valid_to = None if is_last else assessments[index + 1][0]
            status = "archived" if archived and is_last else "active"
            history.append(
                (
                    ocg_id,
                    assessed_on,
                    valid_to,
                    is_last,
                    score,
                    band,
                    BANDS.index(band) + 1,
                    status,
                    "dismantled" if status == "archived" else None,
                    force,
                    rocu,
                    "drugs supply",
                    rng.randrange(3, 30),
                    AS_OF,
                )
            )
        last_day, last_score, last_band = assessments[-1]
        # Disruptions.
        counts = dict.fromkeys(IMPACTS, 0)
        dates = []
        for index in range(rng.randrange(0, 9)):
            impact = rng.choices(IMPACTS, weights=[2, 4, 6, 2, 1])[0]
            when = date(2024, 1, 1) + timedelta(
                days=rng.randrange(0, (AS_OF - date(2024, 1, 1)).days)
            )
            if index == 0 and number % 9 == 0:
                # A few negative disruptions in the as_of quarter, whatever the dice say.
                impact, when = "negative", date(2026, 5, 1 + number % 28)
            counts[impact] += 1
            if impact != "none":
                dates.append(when)
            key = (
                when.replace(day=1),
                rocu,
                force,
                rng.choice([force, rocu, "NCA"]),
                rng.choice(STRANDS),
                rng.choice(TACTICS),
                impact,
            )
            monthly[key] = monthly.get(key, 0) + 1
        total = counts["major"] + counts["moderate"] + counts["minor"] + counts["negative"]
        net = sum(WEIGHTS[impact] * count for impact, count in counts.items())
        summary.append(
            (
                ocg_id,
                force,
                rocu,
                "archived" if archived else "active",
                last_score,
                last_band,
                counts["major"],
                counts["moderate"],
                counts["minor"],
                counts["none"],
                counts["negative"],
                total,
                rng.randrange(0, 3),
                net,
                min(dates) if dates else None,
                max(dates) if dates else None,
                AS_OF,
            )
        )
        if total > 0:
            baseline = min(dates)
            base_score = assessments[0][1] if rng.random() > 0.1 else None
            row = [ocg_id, baseline, base_score, assessments[0][2] if base_score else None]
            for horizon in (6, 12):
                if _add_months(baseline, horizon) > AS_OF:
                    effect, later = "too_early", None
                else:
                    effect = rng.choice(EFFECTS[:6])
                    later = (
                        None
                        if effect in ("not_reassessed", "insufficient_baseline")
                        else (max(0, (base_score or 50) + rng.randrange(-30, 20)))
                    )
                change = later - base_score if later is not None and base_score else None
                pct = change / base_score if change is not None else None
                row += [later, change, pct, effect]
            dismantled = row[-1] == "dismantled"
            row += [dismantled, rng.randrange(30, 360) if dismantled else None]
            row += [rng.randrange(0, 4), AS_OF]
            effects.append(tuple(row))

    con.execute(
        """
        CREATE TABLE marts.ocg_disruption_summary (
            ocg_id VARCHAR, lead_force VARCHAR, rocu VARCHAR, current_status VARCHAR,
            current_threat_score INTEGER, current_band VARCHAR,
            major_count BIGINT, moderate_count BIGINT, minor_count BIGINT, none_count BIGINT,
            negative_count BIGINT, total_disruptions BIGINT, pending_claims BIGINT,
            net_disruption_score BIGINT, first_disruption_date DATE,
            last_disruption_date DATE, as_of_date DATE)
        """
    )
    _insert(con, "marts.ocg_disruption_summary", summary)
    con.execute(
        """
        CREATE TABLE marts.ocg_long_term_effect (
            ocg_id VARCHAR, baseline_date DATE, baseline_score INTEGER, baseline_band VARCHAR,
            score_6m INTEGER, score_change_6m INTEGER, pct_change_6m DOUBLE, effect_6m VARCHAR,
            score_12m INTEGER, score_change_12m INTEGER, pct_change_12m DOUBLE,
            effect_12m VARCHAR, dismantled_within_12m BOOLEAN, days_to_dismantle INTEGER,
            disruptions_after_baseline_12m BIGINT, as_of_date DATE)
        """
    )
    _insert(con, "marts.ocg_long_term_effect", effects)
    con.execute(
        """
        CREATE TABLE marts.dim_ocg_assessment_history (
            ocg_id VARCHAR, valid_from DATE, valid_to DATE, is_current BOOLEAN,
            threat_score INTEGER, band VARCHAR, band_rank INTEGER, status VARCHAR,
            archive_reason VARCHAR, lead_force VARCHAR, rocu VARCHAR,
            principal_activity VARCHAR, member_count INTEGER, as_of_date DATE)
        """
    )
    _insert(con, "marts.dim_ocg_assessment_history", history)
    con.execute(
        """
        CREATE TABLE marts.disruptions_monthly (
            disruption_month DATE, rocu VARCHAR, force_area VARCHAR, lead_agency VARCHAR,
            strand VARCHAR, tactic VARCHAR, impact VARCHAR, is_disruption BOOLEAN,
            disruption_count BIGINT, net_disruption_score BIGINT, as_of_date DATE)
        """
    )
    _insert(
        con,
        "marts.disruptions_monthly",
        [
            (*key, key[-1] != "none", count, WEIGHTS[key[-1]] * count, AS_OF)
            for key, count in sorted(monthly.items())
        ],
    )
    _tactic_effectiveness(con, rng)
    _rocu_force_balance(con, forces, rng)
    _audit(con)
    con.close()
    return path


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list) -> None:
    """One INSERT for all rows: DuckDB's executemany runs row by row and is slow."""
    if not rows:
        return
    width = len(rows[0])
    values = ", ".join([f"({_marks(width)})"] * len(rows))
    con.execute(f"INSERT INTO {table} VALUES {values}", [value for row in rows for value in row])


def _tactic_effectiveness(con: duckdb.DuckDBPyConnection, rng: random.Random) -> None:
    con.execute(
        """
        CREATE TABLE marts.tactic_effectiveness (
            tactic VARCHAR, ocgs_disrupted BIGINT, ocgs_with_12m_outcome BIGINT,
            dismantled_12m BIGINT, reduced_12m BIGINT, no_change_12m BIGINT,
            strengthened_12m BIGINT, not_reassessed_12m BIGINT,
            insufficient_baseline_12m BIGINT, too_early_12m BIGINT,
            share_dismantled_12m DOUBLE, share_reduced_12m DOUBLE, share_no_change_12m DOUBLE,
            share_strengthened_12m DOUBLE, share_not_reassessed_12m DOUBLE,
            mean_pct_change_12m DOUBLE, as_of_date DATE)
        """
    )
    rows = []
    for tactic in TACTICS:
        outcome = [rng.randrange(0, 12) for _ in range(7)]
        with_outcome = sum(outcome[:6])
        shares = [count / with_outcome if with_outcome else None for count in outcome[:5]]
        mean = rng.uniform(-0.3, 0.1) if with_outcome else None
        rows.append((tactic, sum(outcome), with_outcome, *outcome, *shares, mean, AS_OF))
    rows.append(("confiscation_order", 0, 0, *([0] * 7), *([None] * 5), None, AS_OF))
    _insert(con, "marts.tactic_effectiveness", rows)


def _rocu_force_balance(con, forces, rng) -> None:
    con.execute(
        """
        CREATE TABLE marts.rocu_force_balance (
            rocu VARCHAR, force_code VARCHAR, force_disruptions BIGINT,
            rocu_disruptions BIGINT, disruption_share DOUBLE, force_active_ocgs BIGINT,
            rocu_active_ocgs BIGINT, active_ocg_share DOUBLE,
            force_highest_threat_active_ocgs BIGINT, rocu_highest_threat_active_ocgs BIGINT,
            highest_threat_ocg_share DOUBLE, active_ocg_share_gap DOUBLE,
            highest_threat_share_gap DOUBLE, as_of_date DATE)
        """
    )
    by_rocu: dict[str, list[str]] = {}
    for force, rocu in forces:
        by_rocu.setdefault(rocu, []).append(force)
    rows = []
    for rocu, members in by_rocu.items():
        disruptions = [rng.randrange(0, 60) for _ in members]
        active = [rng.randrange(1, 40) for _ in members]
        high = [rng.randrange(0, 10) for _ in members]
        for index, force in enumerate(members):
            d_share = disruptions[index] / sum(disruptions) if sum(disruptions) else None
            a_share = active[index] / sum(active)
            h_share = high[index] / sum(high) if sum(high) else None
            rows.append(
                (
                    rocu,
                    force,
                    disruptions[index],
                    sum(disruptions),
                    d_share,
                    active[index],
                    sum(active),
                    a_share,
                    high[index],
                    sum(high),
                    h_share,
                    d_share - a_share if d_share is not None else None,
                    d_share - h_share if None not in (d_share, h_share) else None,
                    AS_OF,
                )
            )
    _insert(con, "marts.rocu_force_balance", rows)


def _audit(con: duckdb.DuckDBPyConnection) -> None:
    for statement in AUDIT_DDL:
        con.execute(statement)
    con.execute("DROP TABLE audit.alert_deliveries")
    started = datetime(2026, 6, 30, 1, 0)
    batches = [
        (1, "ocg_assessments", "emsou/ocg_assessments_2026.csv", 200, 198, 2, "loaded", None),
        (2, "disruptions", "emsou/disruptions_2026.csv", 520, 510, 10, "loaded", None),
        (3, "disruptions", "titan/disruptions_q2.parquet", 300, 297, 3, "loaded", None),
        (
            4,
            "disruptions",
            "titan/disruptions_q2_copy.parquet",
            0,
            0,
            0,
            "duplicate_file",
            "already loaded as batch 3",
        ),
        (
            5,
            "disruptions",
            "zephyr/disruptions_broken.csv",
            0,
            0,
            0,
            "rejected_file",
            "zephyr/disruptions_broken.csv: missing required columns: impact, strand",
        ),
        (
            6,
            "disruptions",
            "odyssey/disruptions_june.csv",
            120,
            100,
            20,
            "held",
            "critical expectation failed: impact values outside the allowed set",
        ),
    ]
    for batch_id, feed, source, read, loaded, quarantined, status, message in batches:
        con.execute(
            f"INSERT INTO audit.load_batches VALUES ({_marks(12)})",
            [
                batch_id,
                feed,
                source,
                f"{batch_id:064x}",
                read,
                loaded,
                quarantined,
                status,
                message,
                started + timedelta(minutes=batch_id),
                started + timedelta(minutes=batch_id, seconds=30),
                "run-2026-06-30",
            ],
        )
    reasons = [
        "value not allowed: impact = 'huge'",
        "missing required field: ocg_id",
        "disruption_date after recorded_at",
        "unparseable date: disruption_date = '31/02/2026'",
    ]
    quarantine = []
    for batch_id, _, source, _, _, quarantined, _, _ in batches:
        for line in range(quarantined):
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
        "(1, 'ocg_assessments', true, 0, 0, TIMESTAMP '2026-06-30 01:05', 'run-2026-06-30', '{}'),"
        "(6, 'disruptions', false, 1, 0, TIMESTAMP '2026-06-30 01:06', 'run-2026-06-30', '{}')"
    )
    con.execute(
        "INSERT INTO audit.batch_decisions VALUES "
        "(6, 'discarded', TIMESTAMP '2026-06-30 09:00', 'steward')"
    )
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
            "mart_validation",
            "ocg_long_term_effect: many not_reassessed",
            "31% of disrupted OCGs were not re-assessed within 6 months",
        ),
    ]
    for alert_id, severity, source, subject, message in alerts:
        con.execute(
            f"INSERT INTO audit.dq_alerts VALUES ({_marks(8)})",
            [
                alert_id,
                started + timedelta(minutes=10 + alert_id),
                "run-2026-06-30",
                severity,
                source,
                subject,
                message,
                json.dumps({"batch_id": 6}),
            ],
        )
    for step, minute in (("ingest", 0), ("validate_batches", 5), ("dbt_build", 8), ("publish", 20)):
        con.execute(
            f"INSERT INTO audit.pipeline_runs VALUES ({_marks(7)})",
            [
                "run-2026-06-30",
                AS_OF,
                step,
                "success",
                started + timedelta(minutes=minute),
                started + timedelta(minutes=minute + 3),
                None,
            ],
        )
