-- The whole report (cells and every level of totals, same count measures) in one
-- statement that reads the referrals once: first one row per org x service type x
-- SFY x client, then CUBE over those. Only unique_clients_served needs the client
-- level; every other measure is a sum. What a one-query service_numbers() could cost.
WITH base AS (
    SELECT o.slug AS receiving_org,
           st.code AS service_type,
           (EXTRACT(YEAR FROM r.created_at AT TIME ZONE 'America/New_York')
            - CASE WHEN EXTRACT(MONTH FROM r.created_at AT TIME ZONE 'America/New_York') >= 4
                   THEN 0 ELSE 1 END)::int AS sfy,
           r.client_id,
           count(*) AS referrals,
           count(*) FILTER (WHERE r.accepted_at IS NOT NULL) AS accepted,
           count(*) FILTER (WHERE r.status = 'rejected') AS rejected,
           count(*) FILTER (WHERE r.status = 'completed') AS completed,
           count(*) FILTER (WHERE r.status = 'failed') AS failed,
           count(*) FILTER (WHERE r.status IN ('requested', 'accepted', 'in-progress', 'on-hold'))
               AS open,
           count(*) FILTER (WHERE r.status IN ('requested', 'accepted', 'in-progress', 'on-hold')
                              AND r.needed_by < (now() AT TIME ZONE 'America/New_York')::date)
               AS overdue
    FROM referrals_referral r
    JOIN orgs_organization o ON o.id = r.receiving_org_id
    JOIN orgs_servicetype st ON st.id = r.service_type_id
    WHERE r.status <> 'entered-in-error'
    GROUP BY 1, 2, 3, 4
)
SELECT receiving_org, service_type, sfy,
       sum(referrals) AS referrals_sent,
       sum(referrals) AS referrals_received,
       sum(accepted) AS accepted,
       sum(rejected) AS rejected,
       sum(completed) AS completed,
       sum(failed) AS failed,
       sum(open) AS open,
       sum(overdue) AS overdue,
       count(DISTINCT client_id) FILTER (WHERE accepted > 0) AS unique_clients_served
FROM base
GROUP BY CUBE (receiving_org, service_type, sfy)
ORDER BY 1, 2, 3;
