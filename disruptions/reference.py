"""Reference data, read one way: from the `reference` tables dbt builds from seeds/.

Ingest's allowed codes, the feed suites' parameters, the report's names, orders, labels
and colours all come from here, so an edited seed reaches every reader and no Python list
restates it. The working warehouse and the published file both carry the tables; tools
that run without a warehouse (the synthetic-data generator) read the seed files through
`seed_connection`, which presents them under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from disruptions.config import SEEDS_DIR

# Every seed, as dbt loads it into schema `reference`.
SEEDS = (
    "rocus",
    "forces",
    "partner_agencies",
    "tactics",
    "impact_levels",
    "effect_categories",
    "strands",
    "ocg_bands",
)


@dataclass(frozen=True)
class ImpactLevel:
    impact: str
    weight: int
    is_disruption: bool
    label: str
    colour: str


@dataclass(frozen=True)
class EffectCategory:
    effect: str
    label: str
    colour: str
    is_outcome: bool
    is_reduction: bool
    description: str


@dataclass(frozen=True)
class Band:
    band: str
    rank: int


@dataclass(frozen=True)
class Reference:
    rocus: dict[str, str]  # code -> name, in the seed's order
    forces: dict[str, str]  # code -> the ROCU it belongs to, in the seed's order
    force_names: dict[str, str]
    partners: tuple[str, ...]
    tactics: tuple[str, ...]
    strands: tuple[str, ...]
    impact_levels: tuple[ImpactLevel, ...]  # display order
    effect_categories: tuple[EffectCategory, ...]  # display order
    bands: tuple[Band, ...]  # rank order, most severe first

    @property
    def lead_agencies(self) -> tuple[str, ...]:
        """A valid lead_agency: any force, any ROCU or any partner agency."""
        return tuple(sorted({*self.forces, *self.rocus, *self.partners}))

    @property
    def impacts(self) -> tuple[str, ...]:
        return tuple(level.impact for level in self.impact_levels)

    @property
    def effects(self) -> tuple[str, ...]:
        return tuple(category.effect for category in self.effect_categories)

    @property
    def outcome_effects(self) -> tuple[str, ...]:
        """The effects that are an outcome (every one but too_early)."""
        return tuple(c.effect for c in self.effect_categories if c.is_outcome)

    @property
    def reduction_effects(self) -> tuple[str, ...]:
        """The outcomes where the OCG's threat ended or fell (dismantled, reduced)."""
        return tuple(c.effect for c in self.effect_categories if c.is_reduction)

    def impact(self, name: str) -> ImpactLevel:
        return next(level for level in self.impact_levels if level.impact == name)

    def effect(self, name: str) -> EffectCategory:
        return next(category for category in self.effect_categories if category.effect == name)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def read_reference(con: duckdb.DuckDBPyConnection) -> Reference:
    """The reference data of the warehouse or published file `con` is connected to."""
    # Seeds without a sort column keep the order of their CSV (a table scan keeps the
    # order rows were inserted in).
    rocus = _rows(con, "SELECT rocu_code, name FROM reference.rocus")
    forces = _rows(con, "SELECT force_code, rocu_code, name FROM reference.forces")
    return Reference(
        rocus=dict(rocus),
        forces={code: rocu for code, rocu, _ in forces},
        force_names={code: name for code, _, name in forces},
        partners=tuple(
            code for (code,) in _rows(con, "SELECT agency_code FROM reference.partner_agencies")
        ),
        tactics=tuple(tactic for (tactic,) in _rows(con, "SELECT tactic FROM reference.tactics")),
        strands=tuple(strand for (strand,) in _rows(con, "SELECT strand FROM reference.strands")),
        impact_levels=tuple(
            ImpactLevel(*row)
            for row in _rows(
                con,
                "SELECT impact, weight, is_disruption, label, colour "
                "FROM reference.impact_levels ORDER BY sort_order",
            )
        ),
        effect_categories=tuple(
            EffectCategory(*row)
            for row in _rows(
                con,
                "SELECT effect, label, colour, is_outcome, is_reduction, description "
                "FROM reference.effect_categories ORDER BY sort_order",
            )
        ),
        bands=tuple(
            Band(*row)
            for row in _rows(con, "SELECT band, rank FROM reference.ocg_bands ORDER BY rank")
        ),
    )


def has_reference_tables(con: duckdb.DuckDBPyConnection) -> bool:
    found = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'reference'"
        ).fetchall()
    }
    return set(SEEDS) <= found


def seed_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB presenting seeds/*.csv as `reference.<seed>`, typed as dbt types
    them, for tools that run without a warehouse."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA reference")
    for seed in SEEDS:
        # A temporary view per seed: its path is bound, and a view cannot take parameters.
        relation = con.read_csv(str(SEEDS_DIR / f"{seed}.csv"), header=True)
        relation.create_view(f"seed_{seed}")
        con.execute(f"CREATE TABLE reference.{seed} AS SELECT * FROM seed_{seed}")
    return con
