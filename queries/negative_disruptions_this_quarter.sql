-- Negative disruptions (police activity that left the OCG stronger) in the current
-- quarter, per ROCU, force, tactic and lead agency. "This quarter" is the calendar quarter
-- of the marts' as_of_date, not today's date, so a backfill reads as of its own day.
-- Filter on the rocu column for one ROCU.
WITH as_of AS (
    SELECT max(as_of_date) AS as_of_date FROM marts.disruptions_monthly
)
SELECT
    m.rocu,
    m.force_area,
    m.tactic,
    m.lead_agency,
    m.strand,
    sum(m.claim_count) AS negative_disruptions,
    min(m.disruption_month) AS first_month,
    max(m.disruption_month) AS last_month,
    any_value(a.as_of_date) AS as_of_date
FROM marts.disruptions_monthly AS m
CROSS JOIN as_of AS a
WHERE m.impact = 'negative'
  AND m.disruption_month >= date_trunc('quarter', a.as_of_date)
  AND m.disruption_month <= a.as_of_date
GROUP BY ALL
ORDER BY negative_disruptions DESC, m.rocu, m.force_area, m.tactic
