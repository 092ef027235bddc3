"""The report rendered in a real headless Chromium: clean console, charts drawn, offline."""

from __future__ import annotations

import json

import pytest

from disruptions.config import PROJECT_ROOT
from disruptions.serve.report import write_report

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.mark.slow
def test_national_report_renders_cleanly_with_its_charts(published, chromium):
    path = write_report(published)
    chromium.events.clear()
    chromium.open(path.as_uri())

    assert chromium.problems() == []
    # Nothing but the file itself was requested: no CDN, no font, no image.
    assert chromium.requested_urls() == [path.as_uri()]
    data = json.loads(chromium.evaluate("document.getElementById('report-data').textContent"))
    counts = chromium.evaluate(
        """({
            charts: document.querySelectorAll('svg.chart').length,
            sparks: document.querySelectorAll('svg.spark').length,
            monthlyRects: document.querySelectorAll('#trend svg.chart rect').length,
            effectRects: document.querySelectorAll('#effects svg.chart rect').length,
            balanceDots: document.querySelectorAll('#balance svg.chart circle').length,
            panels: document.querySelectorAll('#trend .panel svg.chart').length,
            untitled: [...document.querySelectorAll('svg.chart')]
                .filter(svg => !svg.querySelector('title') || !svg.querySelector('desc')).length,
            chartWidth: document.querySelector('#trend svg.chart').getBoundingClientRect().width,
            kpi: document.querySelector('[data-figure=total_disruptions]').innerText,
        })"""
    )
    # Trend, negatives alone, 10 ROCU panels, effects, 2 score-change histograms, tactics,
    # 10 balance panels, 2 for data quality.
    assert counts["charts"] == 1 + 1 + 10 + 1 + 2 + 1 + 10 + 2
    assert counts["panels"] == len(data["monthly"]["panels"]) == 10
    assert counts["sparks"] == len(data["top_ocgs"]) == 15
    assert counts["untitled"] == 0
    nonzero_cells = sum(
        1 for values in data["monthly"]["total"].values() for value in values if value
    )
    assert counts["monthlyRects"] >= nonzero_cells > 20
    assert counts["effectRects"] >= 10
    assert counts["balanceDots"] == sum(
        1 for row in data["balance"] if row["disruption_share"] is not None
    )
    assert counts["chartWidth"] > 800  # drawn at a readable size, not collapsed
    assert int(counts["kpi"].replace(",", "")) == data["kpis"]["total_disruptions"]
    chromium.screenshot(ARTIFACTS / "report.png")
    assert (ARTIFACTS / "report.png").stat().st_size > 50_000


@pytest.mark.slow
def test_each_top_ocgs_link_brings_its_explanation_into_view(published, chromium):
    path = write_report(published)
    chromium.events.clear()
    chromium.open(path.as_uri())
    seen = chromium.evaluate(
        """(async () => {
            const seen = [];
            for (const link of document.querySelectorAll('#top-ocgs tr[data-ocg] a')) {
                window.scrollTo(0, 0);
                link.click();
                await new Promise(resolve => setTimeout(resolve, 50));
                const body = document.getElementById(location.hash.slice(1));
                const target = body.closest('details');
                const box = body.getBoundingClientRect();
                seen.push({
                    ocg: link.closest('tr').dataset.ocg,
                    named: body.dataset.explainedOcg,
                    summary: target.querySelector('summary').innerText,
                    // Sub-pixel layout can leave the scrolled-to top a fraction above 0.
                    inView: box.top > -1 && box.top < window.innerHeight,
                    open: target.open,
                });
                target.open = false;
            }
            return seen;
        })()"""
    )
    assert len(seen) == 15
    for shown in seen:
        assert shown["named"] == shown["ocg"] and shown["inView"] and shown["open"], shown
        assert shown["summary"].startswith(f"{shown['ocg']}: net score ")
    assert chromium.problems() == []
    assert chromium.requested_urls() == [path.as_uri()]


@pytest.mark.slow
def test_regional_report_renders_cleanly(published, chromium):
    path = write_report(published, rocu="NWROCU")
    chromium.events.clear()
    chromium.open(path.as_uri())
    assert chromium.problems() == []
    assert chromium.requested_urls() == [path.as_uri()]
    heading = chromium.evaluate("document.querySelector('h1').innerText")
    assert "NWROCU" in heading
    balance_panels = chromium.evaluate("document.querySelectorAll('#balance svg.chart').length")
    assert balance_panels == 1
    ocgs = chromium.evaluate(
        "[...document.querySelectorAll('#top-ocgs tr[data-ocg]')].map(row => row.dataset.ocg)"
    )
    explained = chromium.evaluate(
        "[...document.querySelectorAll('#explanations details')].map(d => d.dataset.explainedOcg)"
    )
    assert ocgs and explained == ocgs
    chromium.screenshot(ARTIFACTS / "report-NWROCU.png")


@pytest.mark.slow
def test_the_browser_check_does_see_console_errors_and_failed_loads(tmp_path, chromium):
    # Proves the clean-console assertions above can fail.
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><title>x</title><script>console.error('boom')</script>"
        '<img src="missing.png" alt="">'
    )
    chromium.events.clear()
    chromium.open(page.as_uri())
    problems = chromium.problems()
    assert any("boom" in problem for problem in problems)
    assert any("missing.png" in problem for problem in problems)
