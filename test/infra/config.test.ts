import * as fs from 'node:fs';
import * as path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CONTEXT_DEFAULTS, CONTEXT_KEYS, InvalidContextError, readPipelineConfig } from '../../lib/config';

const read = (context: Record<string, unknown>) => (key: string) => context[key];

function errorOf(context: Record<string, unknown>): InvalidContextError {
  try {
    readPipelineConfig(read(context));
  } catch (error) {
    if (error instanceof InvalidContextError) return error;
    throw error;
  }
  throw new Error(`expected InvalidContextError for ${JSON.stringify(context)}`);
}

describe('readPipelineConfig', () => {
  it('fills in every default when the context is empty', () => {
    expect(readPipelineConfig(read({}))).toEqual({
      sourceSecretPrefix: 'okta-log-pipeline/sources/',
      alarmEmail: undefined,
      alarmHttpsEndpoint: undefined,
      alertsEmail: undefined,
      streamMode: 'ON_DEMAND',
      streamShardCount: undefined,
      streamRetentionHours: 24,
      quarantineExpirationDays: 30,
      pullerMemoryMb: 256,
      pullerTimeoutSeconds: 90,
      runBudgetSeconds: 55,
      rateLimitReservePercent: 20,
      pullerShards: 1,
      logRetentionDays: RetentionDays.THREE_MONTHS,
      logLevel: 'INFO',
      runbookBaseUrl: 'https://github.com/okta-log-pipeline/okta-log-pipeline/blob/main/docs/ALARMS.md',
      archive: true,
      archiveRetentionDays: 400,
    });
  });

  it.each([
    [{ archive: 'false' }, false],
    [{ archive: false }, false],
    [{ archive: 'true' }, true],
  ])('reads archive from %j (cdk.json gives a boolean, -c archive=false a string)', (context, archive) => {
    expect(readPipelineConfig(read(context)).archive).toBe(archive);
  });

  it('accepts numbers given as strings, as `cdk deploy -c key=value` passes them', () => {
    const config = readPipelineConfig(
      read({
        streamMode: 'PROVISIONED',
        streamShardCount: '4',
        pullerMemoryMb: '512',
        logRetentionDays: '30',
        alarmEmail: 'oncall@example.com',
      }),
    );
    expect(config).toMatchObject({
      streamMode: 'PROVISIONED',
      streamShardCount: 4,
      pullerMemoryMb: 512,
      logRetentionDays: 30,
      alarmEmail: 'oncall@example.com',
    });
  });

  it.each([
    [{ streamMode: 'on-demand' }, 'streamMode', 'must be ON_DEMAND or PROVISIONED, got "on-demand"'],
    [{ logLevel: 'debug' }, 'logLevel', 'must be one of DEBUG, INFO, WARN, ERROR, got "debug"'],
    [{ streamMode: 'PROVISIONED' }, 'streamShardCount', 'is required when streamMode is PROVISIONED'],
    [{ streamShardCount: 2 }, 'streamShardCount', 'applies only when streamMode is PROVISIONED; got 2 with ON_DEMAND'],
    [{ streamMode: 'PROVISIONED', streamShardCount: 0 }, 'streamShardCount', 'must be a whole number from 1 to 4096, got 0'],
    [{ pullerMemoryMb: 'lots' }, 'pullerMemoryMb', 'must be a whole number from 128 to 10240, got "lots"'],
    [{ pullerMemoryMb: 256.5 }, 'pullerMemoryMb', 'got 256.5'],
    [{ runBudgetSeconds: 88 }, 'runBudgetSeconds', 'must be at least 5 s below pullerTimeoutSeconds (90), got 88'],
    [{ logRetentionDays: 45 }, 'logRetentionDays', "must be one of CloudWatch Logs' retention periods"],
    [{ streamRetentionHours: 12 }, 'streamRetentionHours', 'from 24 to 8760, got 12'],
    [{ rateLimitReservePercent: 95 }, 'rateLimitReservePercent', 'from 0 to 90, got 95'],
    [{ pullerShards: 0 }, 'pullerShards', 'must be a whole number from 1 to 20, got 0'],
    [{ pullerShards: '21' }, 'pullerShards', 'must be a whole number from 1 to 20, got "21"'],
    [{ sourceSecretPrefix: 'okta/*' }, 'sourceSecretPrefix', 'got "okta/*"'],
    [{ sourceSecretPrefix: '' }, 'sourceSecretPrefix', 'must be 1-449 characters'],
    [{ alarmEmail: 'oncall' }, 'alarmEmail', 'must be an e-mail address, got "oncall"'],
    [{ alertsEmail: 42 }, 'alertsEmail', 'must be an e-mail address, got 42'],
    [{ archive: 'no' }, 'archive', 'must be true or false, got "no"'],
    [{ archiveRetentionDays: 30 }, 'archiveRetentionDays', 'must be a whole number from 31 to 3650, got 30'],
    [{ alarmHttpsEndpoint: 'http://events.pagerduty.com/x' }, 'alarmHttpsEndpoint', 'must be an https:// URL, got scheme http:'],
    [
      { runbookBaseUrl: 'http://wiki.example.com/alarms' },
      'runbookBaseUrl',
      'must be an https:// URL without a #fragment (the page of docs/ALARMS.md), got "http://wiki.example.com/alarms"',
    ],
    [{ runbookBaseUrl: 'https://wiki.example.com/alarms#runbooks' }, 'runbookBaseUrl', 'without a #fragment'],
    [{ runbookBaseUrl: 'docs/ALARMS.md' }, 'runbookBaseUrl', 'got "docs/ALARMS.md"'],
  ])('rejects %j naming the key %s', (context, key, message) => {
    const error = errorOf(context);
    expect(error.key).toBe(key);
    expect(error.message).toContain(`CDK context "${key}": `);
    expect(error.message).toContain(message);
  });

  it('never echoes an HTTPS endpoint, which may carry an integration key', () => {
    const secretish = 'not a url 0123456789abcdef';
    const error = errorOf({ alarmHttpsEndpoint: secretish });
    expect(error.message).toBe('CDK context "alarmHttpsEndpoint": must be an https:// URL, got a value that does not parse as a URL');
    // jest's sandbox has its own TypeError, so the class is checked by name.
    expect((error.cause as Error).name).toBe('TypeError');
  });

  it('documents every context key with its default in docs/ALARMS.md', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/ALARMS.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const match of doc.matchAll(/^\| `([A-Za-z]+)` \| `?([^|`]*)`? \|/gm)) {
      rows.set(match[1]!, match[2]!.trim());
    }
    expect([...rows.keys()].sort()).toEqual([...CONTEXT_KEYS].sort());
    for (const [key, value] of Object.entries(CONTEXT_DEFAULTS)) {
      expect(`${key}=${rows.get(key)}`).toBe(`${key}=${String(value)}`);
    }
  });
});

describe('runbookBaseUrl default', () => {
  it("is the docs/ALARMS.md of the repository package.json declares, so alarm links follow the project's published home", () => {
    const pkg: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const repository = (pkg as { repository: { url: string } }).repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(CONTEXT_DEFAULTS.runbookBaseUrl).toBe(`${repository}/blob/main/docs/ALARMS.md`);
  });
});
