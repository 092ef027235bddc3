"""Hand-built warehouse contents for the validation tests: real DuckDB files, rows inserted
the way ingest leaves them (raw + audit.load_batches), so these tests need no other module."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from disruptions.config import SEEDS_DIR
from disruptions.warehouse import open_warehouse

FORCES = ["DERBYS", "LEICS", "NOTTS", "GMP", "MPS"]
IMPACTS = ["major", "moderate", "minor", "none", "negative"]


def disruption_rows(count, *, prefix="D", ocgs=("OCG-1", "OCG-2", "OCG-3"), start=0):
    rows = []
    for i in range(start, start + count):
        happened = date(2024, 1, 1) + timedelta(days=i % 300)
        rows.append(
            {
                "disruption_id": f"{prefix}{i:06d}",
                "ocg_id": ocgs[i % len(ocgs)],
                "disruption_date": happened,
                "recorded_at": datetime.combine(happened, datetime.min.time())
                + timedelta(days=2, hours=9),
                "impact": IMPACTS[i % len(IMPACTS)],
                "strand": "pursue",
                "tactic": "arrest",
                "lead_agency": "EMSOU",
                "force_area": FORCES[i % len(FORCES)],
                "status": "approved",
                "operation": "OP TEST",
                "rationale": f"SECRET-RATIONALE-{i} informant said so",
            }
        )
    return rows


def assessment_rows(ocgs=("OCG-1", "OCG-2", "OCG-3"), assessed_on=date(2023, 6, 1)):
    return [
        {
            "ocg_id": ocg,
            "assessed_on": assessed_on,
            "threat_score": 40 + i,
            "band": "1A",
            "status": "active",
            "archive_reason": None,
            "lead_force": FORCES[i % len(FORCES)],
            "principal_activity": "drugs supply",
            "member_count": 7,
        }
        for i, ocg in enumerate(ocgs)
    ]


def add_batch(settings, feed, source_file, rows, *, status="loaded"):
    """Insert one batch as ingest would leave it; return its batch_id."""
    now = datetime(2026, 11, 1, 2, 0)
    with open_warehouse(settings) as con:
        batch_id = con.execute("SELECT nextval('audit.batch_id_seq')").fetchone()[0]
        con.execute(
            "INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, 'test')",
            [batch_id, feed, source_file, f"sha-{batch_id}"]
            + [len(rows), len(rows), status, now, now],
        )
        table = "raw.disruptions" if feed == "disruptions" else "raw.ocg_assessments"
        if rows:
            columns = list(rows[0])
            placeholders = ", ".join("?" for _ in range(len(columns) + 4))
            con.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}, batch_id, source_file, "
                f"line_number, loaded_at) VALUES ({placeholders})",
                [
                    [*row.values(), batch_id, source_file, line, now]
                    for line, row in enumerate(rows, start=2)
                ],
            )
    return batch_id


def batch_status(settings, batch_id):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT status FROM audit.load_batches WHERE batch_id = ?", [batch_id]
        ).fetchone()[0]


def build_marts(settings, as_of):
    """Build every public mart from raw with plain SQL that follows SPEC section 4 (a
    stand-in for dbt, so these tests depend on no other module)."""
    forces_csv = str(SEEDS_DIR / "forces.csv")
    tactics_csv = str(SEEDS_DIR / "tactics.csv")
    day = f"DATE '{as_of.isoformat()}'"
    with open_warehouse(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE forces AS SELECT * FROM read_csv('{forces_csv}')"
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cur AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT d.* EXCLUDE (rationale),
                       row_number() OVER (PARTITION BY disruption_id
                           ORDER BY recorded_at DESC, d.batch_id DESC, line_number DESC) AS rn
                FROM raw.disruptions AS d
                JOIN audit.load_batches AS b ON b.batch_id = d.batch_id AND b.status = 'loaded'
                WHERE recorded_at < {day} + INTERVAL 1 DAY AND disruption_date <= {day}
            ) WHERE rn = 1
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE latest AS
            SELECT ocg_id, arg_max(lead_force, assessed_on) AS lead_force,
                   arg_max(status, assessed_on) AS status,
                   arg_max(threat_score, assessed_on) AS threat_score,
                   arg_max(band, assessed_on) AS band
            FROM raw.ocg_assessments WHERE assessed_on <= {day} GROUP BY ocg_id
            """
        )
        levels = ", ".join(
            f"count(*) FILTER (WHERE status = 'approved' AND impact = '{level}') AS {level}_count"
            for level in IMPACTS
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.ocg_disruption_summary AS
            WITH counts AS (
                SELECT ocg_id, {levels},
                       count(*) FILTER (WHERE status = 'claimed') AS pending_claims,
                       count(*) FILTER (WHERE status = 'approved') AS counted,
                       min(disruption_date) FILTER (WHERE status = 'approved'
                           AND impact <> 'none') AS first_disruption_date,
                       max(disruption_date) FILTER (WHERE status = 'approved'
                           AND impact <> 'none') AS last_disruption_date
                FROM cur GROUP BY ocg_id
            ), ocgs AS (
                SELECT ocg_id FROM counts WHERE counted > 0 UNION SELECT ocg_id FROM latest
            )
            SELECT ocgs.ocg_id, latest.lead_force, forces.rocu_code AS rocu,
                   latest.status AS current_status, latest.threat_score AS current_threat_score,
                   latest.band AS current_band,
                   coalesce(major_count, 0) AS major_count,
                   coalesce(moderate_count, 0) AS moderate_count,
                   coalesce(minor_count, 0) AS minor_count,
                   coalesce(none_count, 0) AS none_count,
                   coalesce(negative_count, 0) AS negative_count,
                   coalesce(major_count + moderate_count + minor_count + negative_count, 0)
                       AS total_disruptions,
                   coalesce(pending_claims, 0) AS pending_claims,
                   coalesce(3 * major_count + 2 * moderate_count + minor_count
                       - 2 * negative_count, 0) AS net_disruption_score,
                   first_disruption_date, last_disruption_date, {day} AS as_of_date
            FROM ocgs
            LEFT JOIN counts USING (ocg_id)
            LEFT JOIN latest USING (ocg_id)
            LEFT JOIN forces ON forces.force_code = latest.lead_force
            """
        )
        horizons = ""
        for months in (6, 12):
            horizons += f"""
                   CAST(NULL AS INTEGER) AS score_{months}m,
                   CAST(NULL AS INTEGER) AS score_change_{months}m,
                   CAST(NULL AS DOUBLE) AS pct_change_{months}m,
                   CASE WHEN first_disruption_date + INTERVAL {months} MONTH > {day}
                        THEN 'too_early' ELSE 'insufficient_baseline' END AS effect_{months}m,"""
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.ocg_long_term_effect AS
            SELECT ocg_id, first_disruption_date AS baseline_date,
                   CAST(NULL AS INTEGER) AS baseline_score, CAST(NULL AS VARCHAR) AS baseline_band,
                   {horizons}
                   false AS dismantled_within_12m, CAST(NULL AS INTEGER) AS days_to_dismantle,
                   CAST(0 AS BIGINT) AS disruptions_after_baseline_12m, {day} AS as_of_date
            FROM marts.ocg_disruption_summary WHERE total_disruptions > 0
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.disruptions_monthly AS
            SELECT CAST(date_trunc('month', disruption_date) AS DATE) AS disruption_month,
                   forces.rocu_code AS rocu, force_area, lead_agency, strand, tactic, impact,
                   impact <> 'none' AS is_disruption, count(*) AS disruption_count,
                   {day} AS as_of_date
            FROM cur JOIN forces ON forces.force_code = cur.force_area
            WHERE status = 'approved'
            GROUP BY ALL
            """
        )
        effects = [
            "dismantled",
            "reduced",
            "no_change",
            "strengthened",
            "not_reassessed",
            "insufficient_baseline",
            "too_early",
        ]
        tallies = ", ".join(
            f"count(*) FILTER (WHERE effect_12m = '{effect}') AS {effect}_12m" for effect in effects
        )
        columns = ", ".join(f"coalesce({effect}_12m, 0) AS {effect}_12m" for effect in effects)
        shares = ", ".join(
            f"CASE WHEN ocgs_with_12m_outcome > 0 THEN {effect}_12m / ocgs_with_12m_outcome END "
            f"AS share_{effect}_12m"
            for effect in effects[:5]
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.tactic_effectiveness AS
            WITH used AS (
                SELECT DISTINCT tactic, ocg_id FROM cur
                WHERE status = 'approved' AND impact <> 'none'
            ), tallies AS (
                SELECT tactic, count(*) AS ocgs_disrupted,
                       count(*) FILTER (WHERE effect_12m <> 'too_early') AS ocgs_with_12m_outcome,
                       {tallies}, avg(pct_change_12m) AS mean_pct_change_12m
                FROM used JOIN marts.ocg_long_term_effect USING (ocg_id) GROUP BY tactic
            ), per_tactic AS (
                SELECT t.tactic, coalesce(ocgs_disrupted, 0) AS ocgs_disrupted,
                       coalesce(ocgs_with_12m_outcome, 0) AS ocgs_with_12m_outcome,
                       {columns}, mean_pct_change_12m
                FROM read_csv('{tactics_csv}') AS t LEFT JOIN tallies USING (tactic)
            )
            SELECT *, {shares}, {day} AS as_of_date FROM per_tactic
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.rocu_force_balance AS
            WITH per_force AS (
                SELECT forces.rocu_code AS rocu, forces.force_code,
                       (SELECT count(*) FROM cur WHERE status = 'approved' AND impact <> 'none'
                          AND force_area = forces.force_code) AS force_disruptions,
                       (SELECT count(*) FROM latest WHERE status = 'active'
                          AND lead_force = forces.force_code) AS force_active_ocgs,
                       (SELECT count(*) FROM latest WHERE status = 'active' AND band = '1A'
                          AND lead_force = forces.force_code) AS force_highest_threat_active_ocgs
                FROM forces
            ), totals AS (
                SELECT *,
                       sum(force_disruptions) OVER (PARTITION BY rocu) AS rocu_disruptions,
                       sum(force_active_ocgs) OVER (PARTITION BY rocu) AS rocu_active_ocgs,
                       sum(force_highest_threat_active_ocgs) OVER (PARTITION BY rocu)
                           AS rocu_highest_threat_active_ocgs
                FROM per_force
            )
            SELECT rocu, force_code, force_disruptions, rocu_disruptions,
                   CASE WHEN rocu_disruptions > 0
                        THEN force_disruptions / rocu_disruptions END AS disruption_share,
                   force_active_ocgs, rocu_active_ocgs,
                   CASE WHEN rocu_active_ocgs > 0
                        THEN force_active_ocgs / rocu_active_ocgs END AS active_ocg_share,
                   force_highest_threat_active_ocgs, rocu_highest_threat_active_ocgs,
                   CASE WHEN rocu_highest_threat_active_ocgs > 0
                        THEN force_highest_threat_active_ocgs / rocu_highest_threat_active_ocgs
                   END AS highest_threat_ocg_share,
                   {day} AS as_of_date
            FROM totals
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TABLE marts.dim_ocg_assessment_history AS
            SELECT ocg_id, assessed_on AS valid_from,
                   lead(assessed_on) OVER (PARTITION BY ocg_id ORDER BY assessed_on) AS valid_to,
                   lead(assessed_on) OVER (PARTITION BY ocg_id ORDER BY assessed_on) IS NULL
                       AS is_current,
                   threat_score, band, status, archive_reason, lead_force, {day} AS as_of_date
            FROM raw.ocg_assessments WHERE assessed_on <= {day}
            """
        )
