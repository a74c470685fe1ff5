import { text } from '../record';
import type { Rule } from '../rule';
import { actorLabel, apiKeyName } from './titles';

/** An API token was revoked (Panther `Okta.APIKeyRevoked`); the title is the dedup key. */
export const apiKeyRevoked: Rule = {
  id: 'Okta.APIKeyRevoked',
  severity: 'INFO',
  match: (record) => text(record, 'eventType') === 'system.api_token.revoke' && text(record, 'outcome', 'result') === 'SUCCESS',
  // No space before "revoked": Panther's title, kept so that titles (and dedup keys) compare equal.
  title: ({ record }) => `${actorLabel(record)}revoked API key - <${apiKeyName(record)}>`,
  context: ({ record }) => ({ apiKey: apiKeyName(record) }),
};
