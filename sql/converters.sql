-- The customers of each group who ordered within the uplift window, with what they spent: with the
-- group sizes from groups.sql, the revenue per customer of every customer (the others spent 0),
-- which the revenue bootstrap resamples. Same dialect notes as groups.sql.
WITH assigned AS (
    SELECT campaign_id,
           "group",
           pseudonymous_id,
           MIN(CAST(replace(replace("at", 'T', ' '), 'Z', '') AS TIMESTAMP)) AS assigned_at
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
)
SELECT a.campaign_id, a."group", a.pseudonymous_id,
       COUNT(*) AS orders,
       SUM(o.revenue) AS revenue
FROM assigned a
JOIN orders o
  ON o.pseudonymous_id = a.pseudonymous_id
 AND o.ordered_at >= a.assigned_at
 AND date_diff('second', a.assigned_at, o.ordered_at) < ${uplift_window_seconds}
GROUP BY a.campaign_id, a."group", a.pseudonymous_id
ORDER BY a.campaign_id, a."group", a.pseudonymous_id
