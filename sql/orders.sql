-- Orders of customers who opened or clicked an email: what nudge.attribution may credit (last
-- touch). Same dialect notes as groups.sql.
SELECT o.event_id, o.pseudonymous_id, o."at", o.revenue
FROM events o
WHERE o.type = 'order'
  AND o.pseudonymous_id IN (SELECT DISTINCT pseudonymous_id FROM events WHERE type IN ('open', 'click'))
ORDER BY o.pseudonymous_id, o."at"
