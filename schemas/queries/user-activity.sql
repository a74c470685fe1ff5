-- Everything one user did in a time range.
-- When to use: a detection or a report names a user; see every event where they were the actor, in order, with where they came from.
-- Parameters:
--   user: the actor's login (actor.alternateId), compared case-insensitively, e.g. jane@example.com
--   from: start of the range, inclusive, UTC: 2026-12-01, 2026-12-01T09:00:00 or 2026-12-01 09:00:00
--   to: end of the range, exclusive, in the same forms
SELECT
  p_event_time,
  eventType,
  displayMessage,
  outcome.result AS result,
  outcome.reason AS reason,
  client.ipAddress AS ip,
  client.geographicalContext.country AS country,
  client.userAgent.rawUserAgent AS user_agent,
  target,
  uuid,
  p_source_id
FROM okta_system_log
WHERE dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
  AND p_event_time >= replace(replace(? /* from */, ' ', 'T'), 'Z', '')
  AND p_event_time < replace(replace(? /* to */, ' ', 'T'), 'Z', '')
  AND lower(actor.alternateId) = lower(? /* user */)
ORDER BY p_event_time, uuid
