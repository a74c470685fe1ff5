/** A source id is the secret name after the prefix; it becomes a DynamoDB key and a metric dimension. */
export const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function isValidSourceId(sourceId: string): boolean {
  return SOURCE_ID_PATTERN.test(sourceId);
}

/**
 * The source id of a secret named `<prefix><sourceId>`, or `undefined` when the name does not
 * start with the prefix (ListSecrets' prefix filter matches on words, so it can return others).
 */
export function sourceIdFromSecretName(prefix: string, secretName: string): string | undefined {
  return secretName.startsWith(prefix) ? secretName.slice(prefix.length) : undefined;
}

/**
 * The id quoted for a message: secret names are chosen by people and may be long or odd, so
 * they are shown JSON-quoted and cut short rather than echoed raw into a log line.
 */
export function quoteSourceId(sourceId: string): string {
  const shown = sourceId.length > 80 ? `${sourceId.slice(0, 80)}...` : sourceId;
  return JSON.stringify(shown);
}
