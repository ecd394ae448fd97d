-- Opens and clicks, each with the time its email reached the customer (the SES delivery, else the
-- send), for nudge.attribution: machine opens and bot clicks are told apart by timing there, and
-- the human ones are the touches that orders are credited to. Flags set at ingestion (from the
-- user agent and address, which the log does not keep) come along. Same dialect notes as groups.sql.
WITH reached AS (
    SELECT message_id,
           MIN(CASE WHEN type = 'delivery' THEN "at" END) AS delivered_at,
           MIN(CASE WHEN type = 'sent' THEN "at" END) AS sent_at
    FROM events
    WHERE type IN ('sent', 'delivery') AND message_id <> ''
    GROUP BY message_id
)
SELECT t.event_id,
       t.type,
       t."at",
       t.pseudonymous_id,
       t.campaign_id,
       t.message_id,
       t.detail,
       COALESCE(array_position(t.flags, 'machine_open'), 0) > 0 AS machine_open,
       COALESCE(array_position(t.flags, 'bot_click'), 0) > 0 AS bot_click,
       COALESCE(r.delivered_at, r.sent_at) AS reached_at
FROM events t
LEFT JOIN reached r ON r.message_id = t.message_id
WHERE t.type IN ('open', 'click') AND t.campaign_id <> ''
ORDER BY t.pseudonymous_id, t."at"
