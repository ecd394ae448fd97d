-- The funnel per campaign, in distinct customers: sent, delivered, bounced, complained, rejected,
-- opened and clicked (any: the human/machine split is made by nudge.attribution over
-- touches.sql), unsubscribed. Same dialect notes as groups.sql.
SELECT campaign_id,
       COUNT(DISTINCT CASE WHEN type = 'sent' THEN pseudonymous_id END) AS sent,
       COUNT(DISTINCT CASE WHEN type = 'delivery' THEN pseudonymous_id END) AS delivered,
       COUNT(DISTINCT CASE WHEN type = 'bounce' THEN pseudonymous_id END) AS bounced,
       COUNT(DISTINCT CASE WHEN type = 'bounce' AND COALESCE(array_position(flags, 'permanent'), 0) > 0
                           THEN pseudonymous_id END) AS bounced_permanent,
       COUNT(DISTINCT CASE WHEN type = 'complaint' THEN pseudonymous_id END) AS complained,
       COUNT(DISTINCT CASE WHEN type = 'reject' THEN pseudonymous_id END) AS rejected,
       COUNT(DISTINCT CASE WHEN type = 'open' THEN pseudonymous_id END) AS opened_any,
       COUNT(DISTINCT CASE WHEN type = 'click' THEN pseudonymous_id END) AS clicked_any,
       COUNT(DISTINCT CASE WHEN type = 'unsubscribe' THEN pseudonymous_id END) AS unsubscribed
FROM events
WHERE type IN ('sent', 'delivery', 'bounce', 'complaint', 'reject', 'open', 'click', 'unsubscribe')
  AND campaign_id <> ''
GROUP BY campaign_id
ORDER BY campaign_id
