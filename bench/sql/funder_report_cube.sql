-- The same aggregate with every level of totals the API also returns (by org, by
-- service type, by year, pairs, grand total) in ONE statement: GROUP BY CUBE.
-- What a single-query implementation of the report would cost.
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
GROUP BY CUBE (o.slug, st.code,
               (EXTRACT(YEAR FROM r.created_at AT TIME ZONE 'America/New_York')
                - CASE WHEN EXTRACT(MONTH FROM r.created_at AT TIME ZONE 'America/New_York') >= 4
                       THEN 0 ELSE 1 END)::int)
ORDER BY 1, 2, 3;
