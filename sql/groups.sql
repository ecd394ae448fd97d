-- Treated and holdout groups per campaign: customers assigned by the planner (or the sweep, or the
-- demo's simulator), how many ordered within the uplift window after their assignment, and what
-- they spent then. The uplift's inputs (nudge.uplift); scripts/report.py runs it.
--
-- Runs unchanged in DuckDB (a view "events" over the JSON Lines files) and Athena (the Glue table
-- "events"): times are parsed with CAST(replace(...)) and compared with date_diff('second', ...),
-- which both engines have; flags are tested with COALESCE(array_position(...), 0) > 0 because
-- DuckDB answers NULL and Athena 0 when the element is missing. ${uplift_window_seconds} is an
-- integer put in by scripts/report.py before either engine sees the text.
WITH assigned AS (
    SELECT campaign_id,
           "group",
           pseudonymous_id,
           MIN(CAST(replace(replace("at", 'T', ' '), 'Z', '') AS TIMESTAMP)) AS assigned_at,
           MAX(detail) AS campaign_type,
           MAX(source) AS source
    FROM events
    WHERE type = 'assigned'
    GROUP BY campaign_id, "group", pseudonymous_id
),
orders AS (
    SELECT pseudonymous_id,
           CAST(replace(replace("at", 'T', ' '), 'Z', '') AS TIMESTAMP) AS ordered_at,
           revenue
    FROM events
    WHERE type = 'order'
),
outcome AS (
    SELECT a.campaign_id, a.campaign_type, a."group", a.source, a.pseudonymous_id,
           COUNT(o.ordered_at) AS orders,
           COALESCE(SUM(o.revenue), 0) AS revenue
    FROM assigned a
    LEFT JOIN orders o
      ON o.pseudonymous_id = a.pseudonymous_id
     AND o.ordered_at >= a.assigned_at
     AND date_diff('second', a.assigned_at, o.ordered_at) < ${uplift_window_seconds}
    GROUP BY a.campaign_id, a.campaign_type, a."group", a.source, a.pseudonymous_id
)
SELECT campaign_id,
       MAX(campaign_type) AS campaign_type,
       "group",
       source,
       COUNT(*) AS customers,
       SUM(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS converted,
       SUM(orders) AS orders,
       SUM(revenue) AS revenue
FROM outcome
GROUP BY campaign_id, "group", source
ORDER BY campaign_id, "group", source
