/**
 * The test cases of every registered rule (`test/fixtures/detections/<rule id>.ndjson`, and
 * `<rule id>.history.ndjson` where older versions of the cases exist): for the rules that came from
 * Panther, Panther's own cases, current and historical. A case says whether the rule matches one
 * event on its own. For a threshold rule a single matching event cannot alert, so "expected true"
 * is checked as: the rule matches, and the threshold's worth of such events alerts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../../lambdas/core/detections/rules';
import { memoryEngine, readCases, type CorpusCase } from './support';

const FIXTURES = join(__dirname, '..', 'fixtures', 'detections');

/** Every case of every rule, from whichever of its two files exist (the first test requires the first). */
const allCases: Array<[string, string, CorpusCase]> = DEFAULT_RULES.flatMap((rule) =>
  [`${rule.id}.ndjson`, `${rule.id}.history.ndjson`]
    .filter((file) => existsSync(join(FIXTURES, file)))
    .flatMap((file) => readCases(file).map((item): [string, string, CorpusCase] => [rule.id, file, item])),
);
// The 2020 geo sequence needs shared state; it runs in order below.
const cases = allCases.filter(([, file, item]) => !(file.endsWith('.history.ndjson') && /Login - /.test(item.name)));

describe('the test cases', () => {
  // Some of Panther's rules have only cases that must alert, so that is what every rule must have.
  // `npm run bench` reads `<rule id>.ndjson` of every rule too.
  it.each(DEFAULT_RULES.map((rule) => [rule.id]))('%s has its cases file and a case that must alert', (id) => {
    expect(readdirSync(FIXTURES)).toContain(`${id}.ndjson`);
    expect(
      allCases.filter(([ruleId, , item]) => ruleId === id && item.expected).map(([, file, item]) => `${file}: ${item.name}`),
    ).not.toEqual([]);
  });

  // The other way round: a cases file whose rule is not in the rule set (a rule module that was not
  // found, or a renamed id) fails here rather than going untested.
  it('belong each to a rule of the rule set', () => {
    const ids = readdirSync(FIXTURES)
      .filter((file) => file.endsWith('.ndjson'))
      .map((file) => file.replace(/(\.history)?\.ndjson$/, ''));
    expect(ids.filter((id) => !DEFAULT_RULES.some((rule) => rule.id === id))).toEqual([]);
  });

  it.each(cases)('%s (%s): %p', async (id, _file, item) => {
    const rule = DEFAULT_RULES.find((candidate) => candidate.id === id)!;
    const { engine } = memoryEngine();
    const threshold = rule.threshold ?? 1;
    const alerts = [];
    for (let copy = 0; copy < threshold; copy += 1) {
      const event = { ...item.event, uuid: `${String(item.event.uuid)}-${copy}` };
      const verdict = await engine.evaluate(event);
      expect(verdict.problems.filter((problem) => problem.includes(id))).toEqual([]);
      alerts.push(...verdict.alerts.filter((alert) => alert.ruleId === id));
    }
    expect(rule.match(item.event)).toBe(item.expected);
    expect(alerts).toHaveLength(item.expected ? 1 : 0);
  });
});

describe('expected titles and severities', () => {
  async function only(file: string, name: string) {
    const item = readCases(file).find((candidate) => candidate.name === name);
    if (!item) throw new Error(`no case ${name}`);
    const { engine } = memoryEngine();
    const { alerts } = await engine.evaluate(item.event);
    expect(alerts).toHaveLength(1);
    return alerts[0];
  }

  it('Okta.AdminRoleAssigned: INFO for an organisation administrator, HIGH for a super administrator', async () => {
    const admin = await only('Okta.AdminRoleAssigned.ndjson', 'Admin Access Assigned');
    expect(admin).toMatchObject({
      ruleId: 'Okta.AdminRoleAssigned',
      severity: 'INFO',
      dedupKey: 'X777JJ9sssQQHHrrrQTyYQAABBE',
      title:
        'Jack Naglieri <jack@acme.io> granted [Organization administrator, Application administrator (all)] privileges to Alice Green <alice@acme.io>',
      firstEventTime: '2020-11-25T21:27:03.496Z',
      eventUuids: ['2a992f80-d1ad-4f62-900e-8c68bb72a21b'],
      sourceId: '<UNKNOWN_SOURCE>',
    });
    expect(admin.context).toMatchObject({
      actor: { alternateId: 'jack@acme.io' },
      ipAddress: '136.24.229.58',
      location: { city: 'San Francisco', country: 'United States' },
      targets: [{ alternateId: 'alice@acme.io', displayName: 'Alice Green' }],
    });
    const superAdmin = await only('Okta.AdminRoleAssigned.ndjson', 'Super Admin Access Assigned (High sev)');
    expect(superAdmin.severity).toBe('HIGH');
  });

  it("Okta.APIKeyCreated and Okta.APIKeyRevoked keep Panther's missing space in the title", async () => {
    expect((await only('Okta.APIKeyCreated.ndjson', 'API Key Created')).title).toBe(
      'Test User <user@example.com>created a new API key - <test_key>',
    );
    expect((await only('Okta.APIKeyRevoked.ndjson', 'API Key Revoked')).title).toBe(
      'Test User <user@example.com>revoked API key - <test_key>',
    );
  });
});

describe('the 2020 geo history sequence, run in order against shared state', () => {
  const sequence = readCases('Okta.GeographicallyImprobableAccess.history.ndjson').filter((item) => /Login - /.test(item.name));

  it("has the three logins of Panther's sequence", () => {
    expect(sequence.map((item) => item.name)).toEqual(['First Login - Baseline', 'Second Login - Safe', 'Third Login - Too Fast']);
  });

  it('raises no alert for the third login: all three come from one IP, which our rule exempts (Panther expected true)', async () => {
    const { run } = memoryEngine();
    const alerts = await run(sequence.map((item) => item.event));
    expect(alerts.map((list) => list.length)).toEqual([0, 0, 0]);
  });

  it('alerts on the third login as Panther expected once it comes from another IP', async () => {
    const { run } = memoryEngine();
    const events = sequence.map((item, index) =>
      index === 2 ? { ...item.event, uuid: 'third', client: { ...(item.event.client as object), ipAddress: '198.51.100.4' } } : item.event,
    );
    const alerts = await run(events);
    expect(alerts.map((list) => list.length)).toEqual([0, 0, 1]);
    expect(alerts[2][0]).toMatchObject({
      ruleId: 'Okta.GeographicallyImprobableAccess',
      severity: 'HIGH',
      title: 'Geographically improbable login for user [buser@example.com] from [Bethesda]  to [Baltimore]',
      dedupKey: 'buser@example.com',
      firstEventTime: '2020-01-02T00:01:00.000Z',
      eventUuids: ['third'],
    });
    expect(alerts[2][0].context).toMatchObject({ old_city: 'Bethesda', new_city: 'Baltimore', speedKmh: expect.any(Number) });
    expect(alerts[2][0].context.speedKmh).toBeGreaterThan(3000);
  });
});
