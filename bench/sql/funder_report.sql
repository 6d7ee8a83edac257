-- The funder report's cells, written by hand: referrals by receiving organisation x
-- service type x New York State fiscal year (April-March, from created_at in
-- America/New_York), with the same count measures the API computes for the whole
-- coalition (entered-in-error excluded). One scan, one GROUP BY; no totals, no suppression.
SELECT o.slug AS receiving_org,
       st.code AS service_type,
       (EXTRACT(YEAR FROM r.created_at AT TIME ZONE 'America/New_York')
        - CASE WHEN EXTRACT(MONTH FROM r.created_at AT TIME ZONE 'America/New_York') >= 4
               THEN 0 ELSE 1 END)::int AS sfy,
       count(*) AS referrals_sent,
       count(*) AS referrals_received,
       count(*) FILTER (WHERE r.accepted_at IS NOT NULL) AS accepted,
       count(*) FILTER (WHERE r.status = 'rejected') AS rejected,
       count(*) FILTER (WHERE r.status = 'completed') AS completed,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) FILTER (WHERE r.status IN ('requested', 'accepted', 'in-progress', 'on-hold'))
           AS open,
       count(*) FILTER (WHERE r.status IN ('requested', 'accepted', 'in-progress', 'on-hold')
                          AND r.needed_by < (now() AT TIME ZONE 'America/New_York')::date)
           AS overdue,
       count(DISTINCT r.client_id) FILTER (WHERE r.accepted_at IS NOT NULL)
           AS unique_clients_served
FROM referrals_referral r
JOIN orgs_organization o ON o.id = r.receiving_org_id
JOIN orgs_servicetype st ON st.id = r.service_type_id
WHERE r.status <> 'entered-in-error'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
