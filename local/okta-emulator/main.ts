/**
 * Runs one emulated Okta org until interrupted, so that people can point `okta-log-pipeline pull`
 * at it by hand:
 *
 *   npx tsx local/okta-emulator/main.ts --port 0 --events 5000 [--events-per-minute 600]
 *     [--rate-limit 120] [--seed 1] [--token-env VAR]
 *     [--oauth-client-id ID --oauth-public-key FILE [--oauth-dpop]]
 *
 * With `--oauth-client-id`, it also registers an OAuth 2.0 service app with that id, the public
 * key in FILE (PEM) and "Require DPoP" on when `--oauth-dpop` is given, so that
 * `okta-log-pipeline pull --oauth-file` can be tried against it with the matching private key.
 *
 * Prints one JSON line `{"origin": ..., "apiToken": ..., "events": ...}` (plus `"oauthClientId"`
 * and `"dpop"` with an app) on stdout once it listens. The token is printed on purpose: it is a
 * throwaway credential of a local emulator.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startOktaOrg, startTraffic } from './index';
import { systemClock } from '../../lambdas/core/clock';

const USAGE =
  'usage: tsx local/okta-emulator/main.ts [--port N] [--events N] [--events-per-minute N] [--rate-limit N] [--seed N] [--token-env VAR] [--oauth-client-id ID --oauth-public-key FILE [--oauth-dpop]]';

function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got "${text}"\n${USAGE}`);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      events: { type: 'string' },
      'events-per-minute': { type: 'string' },
      'rate-limit': { type: 'string' },
      seed: { type: 'string' },
      'token-env': { type: 'string' },
      'oauth-client-id': { type: 'string' },
      'oauth-public-key': { type: 'string' },
      'oauth-dpop': { type: 'boolean' },
    },
    strict: true,
  });
  const tokenEnv = values['token-env'];
  const apiToken = tokenEnv === undefined ? undefined : process.env[tokenEnv];
  if (tokenEnv !== undefined && (apiToken === undefined || apiToken === '')) {
    throw new Error(`--token-env ${tokenEnv}: that environment variable is empty`);
  }
  const clientId = values['oauth-client-id'];
  const publicKeyFile = values['oauth-public-key'];
  if ((clientId === undefined) !== (publicKeyFile === undefined) || (values['oauth-dpop'] === true && clientId === undefined)) {
    throw new Error(`--oauth-client-id and --oauth-public-key go together (and --oauth-dpop needs them)\n${USAGE}`);
  }
  const publicKey = publicKeyFile === undefined ? undefined : readFileSync(publicKeyFile, 'utf8');
  const org = await startOktaOrg({
    port: integer('port', values.port, 0, 0),
    rateLimitPerMinute: integer('rate-limit', values['rate-limit'], 120, 1),
    seed: integer('seed', values.seed, 1, 0),
    ...(apiToken === undefined ? {} : { apiToken }),
  });
  const dpop = values['oauth-dpop'] === true;
  if (clientId !== undefined && publicKey !== undefined) {
    org.registerOAuthClient({ clientId, publicKey, dpop });
  }
  const backlog = integer('events', values.events, 0, 0);
  // A backlog is published over the hour before now, the default backfill of `pull`.
  org.generate(backlog, { spreadMs: 60 * 60_000 });
  const rate = integer('events-per-minute', values['events-per-minute'], 0, 0);
  const traffic = rate > 0 ? startTraffic(org, { eventsPerMinute: rate, clock: systemClock }) : undefined;
  const app = clientId === undefined ? {} : { oauthClientId: clientId, dpop };
  process.stdout.write(`${JSON.stringify({ origin: org.origin, apiToken: org.apiToken, events: backlog, ...app })}\n`);

  const stop = (): void => {
    traffic?.stop();
    void org.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`okta emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
