-- Admin role grants and revocations, and API token changes.
-- When to use: an Admin Role Assigned or API Key alert fired, or an audit asks who gained admin rights or created, changed or revoked API tokens.
-- Parameters:
--   from: start of the range, inclusive, UTC: 2026-12-01, 2026-12-01T09:00:00 or 2026-12-01 09:00:00
--   to: end of the range, exclusive, in the same forms
SELECT
  p_event_time,
  eventType,
  actor.alternateId AS actor,
  displayMessage,
  outcome.result AS result,
  target,
  client.ipAddress AS ip,
  uuid,
  p_source_id
FROM okta_system_log
WHERE dt BETWEEN substr(? /* from */, 1, 10) AND substr(? /* to */, 1, 10)
  AND p_event_time >= replace(replace(? /* from */, ' ', 'T'), 'Z', '')
  AND p_event_time < replace(replace(? /* to */, ' ', 'T'), 'Z', '')
  AND (
    eventType IN ('user.account.privilege.grant', 'user.account.privilege.revoke', 'group.privilege.grant', 'group.privilege.revoke')
    OR eventType LIKE 'system.api_token.%'
  )
ORDER BY p_event_time, uuid
