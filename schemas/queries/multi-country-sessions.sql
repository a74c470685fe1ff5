-- Users who started sessions from more than one country on the same day (UTC).
-- When to use: credential theft or session hijacking is suspected, or a Geo Improbable Access alert needs its wider picture.
-- Parameters:
--   from: start of the range, inclusive, UTC: 2026-12-01, 2026-12-01T09:00:00 or 2026-12-01 09:00:00
--   to: end of the range, exclusive, in the same forms
SELECT
  dt AS event_day,
  p_source_id,
  actor.alternateId AS login,
  count(DISTINCT client.geographicalContext.country) AS country_count,
  array_sort(array_agg(DISTINCT client.geographicalContext.country)) AS countries,
  count(*) AS sessions
FROM okta_system_log
WHERE dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
  AND p_event_time >= replace(replace(? /* from */, ' ', 'T'), 'Z', '')
  AND p_event_time < replace(replace(? /* to */, ' ', 'T'), 'Z', '')
  AND eventType = 'user.session.start'
  AND outcome.result = 'SUCCESS'
  AND client.geographicalContext.country IS NOT NULL
GROUP BY dt, p_source_id, actor.alternateId
HAVING count(DISTINCT client.geographicalContext.country) > 1
ORDER BY event_day, p_source_id, login
