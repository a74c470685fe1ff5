import { text } from '../record';
import type { Rule } from '../rule';
import { actorLabel, apiKeyName } from './titles';

/** An API token was created (Panther `Okta.APIKeyCreated`); the title is the dedup key. */
export const apiKeyCreated: Rule = {
  id: 'Okta.APIKeyCreated',
  severity: 'INFO',
  match: (record) => text(record, 'eventType') === 'system.api_token.create' && text(record, 'outcome', 'result') === 'SUCCESS',
  // No space before "created": Panther's title, kept so that titles (and dedup keys) compare equal.
  title: ({ record }) => `${actorLabel(record)}created a new API key - <${apiKeyName(record)}>`,
  context: ({ record }) => ({ apiKey: apiKeyName(record) }),
};
