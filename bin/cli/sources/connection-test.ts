import { systemClock } from '../../../lambdas/core/clock';
import { OktaError, createOktaClient } from '../../../lambdas/core/okta';
import type { SourceConfig } from '../../../lambdas/core/ports';
import { SourcesCommandError } from './errors';

/** The bounds of the one request `sources add` makes before saving a source, each with its reason. */
export const CONNECTION_TEST_LIMITS = {
  /** One event is proof enough that the credential may read the System Log. */
  pageSize: 1,
  /**
   * One attempt and no 429 retry: the operator is waiting at a prompt, and a failing org should
   * say so now instead of after the puller's 20 s of backoff; running `add` again is a retry.
   */
  maxAttempts: 1,
  maxRateLimitRetries: 0,
  /** A person is waiting; Okta answers a `limit=1` query in well under a second when healthy. */
  requestTimeoutMs: 15_000,
  /** The probe's `since`: a short window keeps Okta's query cheap; an empty answer passes too. */
  lookbackMs: 60 * 60 * 1000,
} as const;

/** What the probe saw. */
export interface ConnectionTestResult {
  /** Events in the answer (0 or 1): whether the last hour had any. */
  readonly events: number;
}

/**
 * Reads one page of one event from the org with the real Okta client, exactly as the puller
 * would (same authentication, same origin checks), so a wrong domain, token, app or permission
 * is refused before anything is saved.
 * @throws SourcesCommandError whose message is the Okta client's (it names the source, the
 *   status and Okta's error code, redacted) prefixed by what was not done.
 */
export async function testConnection(source: SourceConfig, allowLoopback: boolean): Promise<ConnectionTestResult> {
  const clock = systemClock;
  try {
    const client = createOktaClient(source, {
      clock,
      allowLoopback,
      limits: {
        pageSize: CONNECTION_TEST_LIMITS.pageSize,
        maxAttempts: CONNECTION_TEST_LIMITS.maxAttempts,
        maxRateLimitRetries: CONNECTION_TEST_LIMITS.maxRateLimitRetries,
        requestTimeoutMs: CONNECTION_TEST_LIMITS.requestTimeoutMs,
      },
    });
    const now = clock.now();
    const page = await client.fetchPage(
      { since: new Date(now - CONNECTION_TEST_LIMITS.lookbackMs).toISOString() },
      // A reset wait (up to a minute) would end after this deadline, so a spent quota fails at once.
      { deadline: now + CONNECTION_TEST_LIMITS.requestTimeoutMs },
    );
    return { events: page.events.length };
  } catch (error) {
    if (error instanceof OktaError) {
      throw new SourcesCommandError(`connection test failed, nothing was saved: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
