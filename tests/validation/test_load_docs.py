"""The load-validation pages (reports/data_docs): every validation listed with its page,
sample values escaped, no address a browser would fetch, and no rationale."""

from __future__ import annotations

import re
from datetime import date

from validation_builders import add_batch, assessment_rows, disruption_rows

from disruptions.quality.batches import validate_new_batches
from disruptions.quality.load_docs import build_load_docs
from disruptions.warehouse import open_warehouse

HOSTILE_ID = "<img src=x onerror=alert(1)>"


def pages(settings) -> dict[str, str]:
    """Every page's HTML, without the <wbr> line-break hints inside long names."""
    return {
        str(path.relative_to(settings.data_docs_dir)): path.read_text(encoding="utf-8").replace(
            "<wbr>", ""
        )
        for path in settings.data_docs_dir.rglob("*.html")
    }


def test_every_validation_has_a_row_and_a_page_and_the_held_batch_says_how_to_decide(settings):
    add_batch(settings, "ocg_assessments", "emsou/ocg_assessments_2024.csv", assessment_rows())
    good = add_batch(
        settings, "disruptions", "emsou/disruptions_2024-11-01.csv", disruption_rows(30)
    )
    rows = disruption_rows(20, prefix="H")
    for row in rows:
        row["impact"] = "catastrophic"
    held = add_batch(settings, "disruptions", "emsou/disruptions_2024-11-02.csv", rows)
    validate_new_batches(settings, "run-1")

    index = build_load_docs(settings)

    found = pages(settings)
    listed = re.findall(r'<tr class="validation">', found["index.html"])
    assert len(listed) == 3
    assert "suites/disruptions_batch.html" in found["index.html"]
    assert "suites/ocg_assessments_batch.html" in found
    held_page = found[f"validations/batch-{held}-1.html"]
    assert "catastrophic" in held_page and f"disruptions release {held}" in held_page
    assert "expect_column_values_to_be_in_set" in held_page
    good_page = found[f"validations/batch-{good}-1.html"]
    assert ">passed<" in good_page and ">failed<" not in good_page
    assert index == settings.data_docs_dir / "index.html"
    everything = "".join(found.values())
    assert "SECRET-RATIONALE" not in everything


def test_sample_values_are_text_not_markup_and_no_page_loads_anything_from_outside(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2024.csv", assessment_rows())
    rows = disruption_rows(3, ocgs=(HOSTILE_ID,))
    rows[0]["impact"] = "<script>alert(2)</script>"
    batch = add_batch(settings, "disruptions", "disruptions_<b>bold</b>.csv", rows)
    validate_new_batches(settings, "run-1")

    build_load_docs(settings)

    found = pages(settings)
    page = found[f"validations/batch-{batch}-1.html"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    for html in found.values():
        assert "<img" not in html and "<script" not in html and "<b>bold" not in html
        # No stylesheet, script, image or font from anywhere: only links between pages.
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
        assert "url(" not in html


def test_a_batch_whose_validation_cannot_run_is_held_with_the_reason_and_others_go_on(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2024.csv", assessment_rows())
    broken = add_batch(settings, "ocg_assessments", "ocg_assessments_2999.csv", assessment_rows())
    # A row loaded before ingest quarantined such dates: pandas cannot hold year 2999.
    with open_warehouse(settings) as con:
        con.execute(
            "UPDATE raw.ocg_assessments SET assessed_on = ? WHERE batch_id = ?",
            [date(2999, 1, 1), broken],
        )
    fine = add_batch(settings, "disruptions", "disruptions_2024.csv", disruption_rows(10))

    summary = validate_new_batches(settings, "run-1")

    outcome = {b.batch_id: b for b in summary.batches}
    assert outcome[broken].held
    assert outcome[broken].outcome.critical[0].expectation == "batch_can_be_validated"
    assert not outcome[fine].held
    # The next night does not trip over it again: a held batch is not re-validated.
    assert validate_new_batches(settings, "run-2").batches == []
    build_load_docs(settings)
    assert "batch_can_be_validated" in pages(settings)[f"validations/batch-{broken}-1.html"]
