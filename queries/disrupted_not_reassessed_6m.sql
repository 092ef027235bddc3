-- OCGs that were disrupted but not re-assessed within 6 months of their first disruption
-- (effect_6m = 'not_reassessed' in marts.ocg_long_term_effect): their long-term effect
-- cannot be measured until somebody maps them again.
-- Filter on the rocu column for one ROCU.
SELECT
    s.rocu,
    e.ocg_id,
    s.lead_force,
    s.current_status,
    e.baseline_date,
    e.baseline_score,
    e.baseline_band,
    e.effect_12m,
    s.total_disruptions,
    s.net_disruption_score,
    s.last_disruption_date,
    e.as_of_date
FROM marts.ocg_long_term_effect AS e
LEFT JOIN marts.ocg_disruption_summary AS s USING (ocg_id)
WHERE e.effect_6m = 'not_reassessed'
ORDER BY s.rocu NULLS LAST, e.baseline_date, e.ocg_id
