-- The events around a detection alert: everything the alert's actors did, and everything from the alert's IP addresses, in a window.
-- When to use: triaging an alert from the alerts topic; pass its eventUuids and a window around its firstEventTime and lastEventTime (e.g. an hour either side).
-- Parameters:
--   uuids: the alert's eventUuids, comma-separated
--   from: start of the window, inclusive, UTC: 2026-12-01, 2026-12-01T09:00:00 or 2026-12-01 09:00:00
--   to: end of the window, exclusive, in the same forms
WITH alert_events AS (
  SELECT actor.alternateId AS login, client.ipAddress AS ip
  FROM okta_system_log
  WHERE strpos(',' || replace(? /* uuids */, ' ', '') || ',', ',' || uuid || ',') > 0
    AND dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
)
SELECT
  e.p_event_time,
  e.eventType,
  e.actor.alternateId AS actor,
  e.client.ipAddress AS ip,
  e.client.geographicalContext.country AS country,
  e.outcome.result AS result,
  e.displayMessage,
  strpos(',' || replace(? /* uuids */, ' ', '') || ',', ',' || e.uuid || ',') > 0 AS in_alert,
  e.uuid,
  e.p_source_id
FROM okta_system_log e
WHERE e.dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
  AND e.p_event_time >= replace(replace(? /* from */, ' ', 'T'), 'Z', '')
  AND e.p_event_time < replace(replace(? /* to */, ' ', 'T'), 'Z', '')
  AND (
    e.actor.alternateId IN (SELECT login FROM alert_events WHERE login IS NOT NULL)
    OR e.client.ipAddress IN (SELECT ip FROM alert_events WHERE ip IS NOT NULL)
  )
ORDER BY e.p_event_time, e.uuid
