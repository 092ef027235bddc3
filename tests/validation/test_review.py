"""The steward's decisions: only held batches can be released or discarded; a discarded
batch can never be released; rows always stay in raw."""

from __future__ import annotations

import pytest
from validation_builders import add_batch, batch_status, disruption_rows

from disruptions.cli import main
from disruptions.errors import UserError
from disruptions.quality.decisions import discard_batch, release_batch
from disruptions.warehouse import open_warehouse


def decisions(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT batch_id, decision, decided_by IS NOT NULL FROM audit.batch_decisions "
            "ORDER BY decided_at"
        ).fetchall()


def raw_rows(settings, batch_id):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT count(*) FROM raw.disruptions WHERE batch_id = ?", [batch_id]
        ).fetchone()[0]


def test_releasing_a_held_batch_lets_it_in_and_records_the_decision(settings):
    batch = add_batch(settings, "disruptions", "d.csv", disruption_rows(5), status="held")
    message = release_batch(settings, batch)
    assert f"released batch {batch}" in message and "d.csv" in message
    assert batch_status(settings, batch) == "loaded"
    assert decisions(settings) == [(batch, "released", True)]
    assert raw_rows(settings, batch) == 5


def test_discarding_keeps_the_batch_held_for_good(settings):
    batch = add_batch(settings, "disruptions", "d.csv", disruption_rows(5), status="held")
    assert f"discarded batch {batch}" in discard_batch(settings, batch)
    assert batch_status(settings, batch) == "held"
    with pytest.raises(UserError, match="was discarded; a discarded batch cannot be released"):
        release_batch(settings, batch)
    with pytest.raises(UserError, match="was discarded"):
        discard_batch(settings, batch)
    assert batch_status(settings, batch) == "held"
    assert decisions(settings) == [(batch, "discarded", True)]
    assert raw_rows(settings, batch) == 5


def test_only_a_held_batch_can_be_released_or_discarded(settings):
    loaded = add_batch(settings, "disruptions", "ok.csv", disruption_rows(3))
    with pytest.raises(UserError, match=f"batch {loaded} \\(ok.csv\\) is loaded, not held"):
        release_batch(settings, loaded)
    with pytest.raises(UserError, match="only a held batch can be discarded"):
        discard_batch(settings, loaded)
    with pytest.raises(UserError, match="batch 404: no such batch"):
        release_batch(settings, 404)
    released = add_batch(settings, "disruptions", "h.csv", disruption_rows(3), status="held")
    release_batch(settings, released)
    with pytest.raises(UserError, match="is released, not held"):
        discard_batch(settings, released)
    assert decisions(settings) == [(released, "released", True)]


def test_the_cli_prints_one_line_errors_for_a_wrong_batch(settings, capsys):
    assert main(["release", "404"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "disruptions release: error: batch 404: no such batch (see `disruptions status`)"
    )
    batch = add_batch(settings, "disruptions", "h.csv", disruption_rows(3), status="held")
    assert main(["discard", str(batch)]) == 0
    assert f"discarded batch {batch}" in capsys.readouterr().out
