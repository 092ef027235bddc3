"""Regional publication: published/regions/<ROCU>.duckdb for each ROCU of the seed.

A lead receives only their own region's data. An OCG belongs to the ROCU of its latest
assessment's lead force (ocg_disruption_summary.rocu; an OCG never assessed belongs to
none and appears only in the national file). A regional file holds:

- the rows about its own OCGs: their summary, effect, effect evidence, claim versions
  (against them anywhere) and assessment history;
- aggregates that name no OCG: the monthly counts and the force balance of its own forces
  (every disruption in their areas), and the national tactic effectiveness;
- the reference tables, and the audit tables that name no OCG (the ledger, the batch
  status, the pipeline runs, the dbt test results). The quarantine, the validation
  samples and the alerts can quote any region's OCG ids, so they stay national.

Every public mart needs a rule here: publication refuses a mart it does not know how to
cut by region rather than copy it whole (REGIONAL_ROWS).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.errors import PipelineError
from disruptions.publish.atomic import Copy, quote
from disruptions.publish.incremental import SYNCED_MART_KEYS, DigestSlice
from disruptions.reference import SEEDS, read_reference

OWN_OCGS = "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE rocu = $rocu"
# The rows about a region's own OCGs.
OCG_OWNED = f"ocg_id IN ({OWN_OCGS})"
# The same rule as a column: the region a row of such a mart belongs to (an expression on
# the row `r`; NULL, in no region, for an OCG never assessed). Publication hashes each big
# mart's rows once, tagged with it, for all the regional files (incremental.build_digest).
OCG_REGION = (
    "(SELECT owner.rocu FROM marts.ocg_disruption_summary AS owner WHERE owner.ocg_id = r.ocg_id)"
)
# How each public mart is cut for one region: the WHERE clause of its rows.
REGIONAL_ROWS = {
    "ocg_disruption_summary": "rocu = $rocu",
    "ocg_long_term_effect": OCG_OWNED,
    "fct_ocg_effect_evidence": OCG_OWNED,
    "fct_disruption_claims": OCG_OWNED,
    "dim_ocg_assessment_history": OCG_OWNED,
    "disruptions_monthly": "rocu = $rocu",
    "rocu_force_balance": "rocu = $rocu",
    # National totals per tactic: no OCG is named.
    "tactic_effectiveness": "true",
}
REGIONAL_AUDIT = {
    "load_batches": "audit.load_batches",
    "batch_status": "staging.stg_load_batches",
    "pipeline_runs": "audit.pipeline_runs",
    "dbt_test_results": "audit.dbt_test_results",
}


def regional_plan(con: duckdb.DuckDBPyConnection, rocu: str) -> list[Copy]:
    marts = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'marts' ORDER BY 1"
        ).fetchall()
    ]
    unknown = [mart for mart in marts if mart not in REGIONAL_ROWS]
    if unknown:
        raise PipelineError(
            f"publish: no regional rule for marts {', '.join(unknown)} "
            "(publish/regions.py REGIONAL_ROWS); refusing to publish them whole to a region"
        )
    plan = []
    for mart in marts:
        where = REGIONAL_ROWS[mart]
        parameters = {"rocu": rocu} if "$rocu" in where else {}
        select = f"SELECT * FROM marts.{quote(mart)} WHERE {where}"
        plan.append(Copy("marts", mart, select, parameters, key=SYNCED_MART_KEYS.get(mart, ())))
    plan += [
        Copy("audit", table, f"SELECT * FROM {source}") for table, source in REGIONAL_AUDIT.items()
    ]
    plan += [Copy("reference", seed, f"SELECT * FROM reference.{seed}") for seed in SEEDS]
    return plan


def plan_regions(con: duckdb.DuckDBPyConnection) -> dict[str, list[Copy]]:
    """Every ROCU's plan, made (and so checked) before any file is written."""
    return {rocu: regional_plan(con, rocu) for rocu in read_reference(con).rocus}


def region_column(mart: str) -> str | None:
    """The region of a row of `mart` as a column (OCG_REGION) when the mart is cut by its
    OCG (OCG_OWNED); None for any other rule, whose regional files hash their own rows."""
    return OCG_REGION if REGIONAL_ROWS.get(mart) == OCG_OWNED else None


def with_digest_slices(
    plans: dict[str, list[Copy]], digests: dict[str, str]
) -> dict[str, list[Copy]]:
    """Each regional plan, its marts that have a digest reading their rows' hashes from it
    (`digests`: mart -> digest table tagged with region_column; only marts cut by
    OCG_OWNED have one)."""

    def sliced(copy: Copy, rocu: str) -> Copy:
        digest = digests.get(copy.table) if copy.schema == "marts" else None
        if digest is None:
            return copy
        return dataclasses.replace(
            copy, digest=DigestSlice(digest, "region = $rocu", {"rocu": rocu})
        )

    return {rocu: [sliced(copy, rocu) for copy in plan] for rocu, plan in plans.items()}


def regional_files(
    settings: Settings, plans: dict[str, list[Copy]]
) -> list[tuple[Path, list[Copy]]]:
    """Each ROCU's file and what goes into it, for write_published_files."""
    return [(settings.regional_published_path(rocu), plan) for rocu, plan in plans.items()]
