-- Failed logins by source IP address.
-- When to use: brute force or password spraying is suspected; shows which addresses failed most, against how many users, from where.
-- Parameters:
--   from: start of the range, inclusive, UTC: 2026-12-01, 2026-12-01T09:00:00 or 2026-12-01 09:00:00
--   to: end of the range, exclusive, in the same forms
SELECT
  client.ipAddress AS ip,
  count(*) AS failures,
  count(DISTINCT actor.alternateId) AS users,
  array_sort(array_agg(DISTINCT coalesce(client.geographicalContext.country, 'unknown'))) AS countries,
  min(p_event_time) AS first_seen,
  max(p_event_time) AS last_seen
FROM okta_system_log
WHERE dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
  AND p_event_time >= replace(replace(? /* from */, ' ', 'T'), 'Z', '')
  AND p_event_time < replace(replace(? /* to */, ' ', 'T'), 'Z', '')
  AND outcome.result = 'FAILURE'
  AND (eventType = 'user.session.start' OR eventType LIKE 'user.authentication.%')
GROUP BY client.ipAddress
ORDER BY failures DESC, ip
