-- Top OCGs by net disruption score, the ten highest in each ROCU.
-- National: one block per ROCU (rocu is the OCG's, from its latest assessment).
-- For one ROCU, filter on the rocu column, e.g. with the CLI:
--   disruptions query "SELECT * FROM marts.ocg_disruption_summary WHERE rocu = 'EMSOU'
--                      ORDER BY net_disruption_score DESC LIMIT 10"
-- or export to csv and filter the rocu column in Excel.
SELECT
    rocu,
    rank_in_rocu,
    ocg_id,
    lead_force,
    current_status,
    current_band,
    current_threat_score,
    net_disruption_score,
    total_disruptions,
    major_count,
    moderate_count,
    minor_count,
    negative_count,
    first_disruption_date,
    last_disruption_date,
    as_of_date
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY rocu ORDER BY net_disruption_score DESC, total_disruptions DESC, ocg_id
        ) AS rank_in_rocu
    FROM marts.ocg_disruption_summary
    WHERE total_disruptions > 0
)
WHERE rank_in_rocu <= 10
ORDER BY rocu NULLS LAST, rank_in_rocu
