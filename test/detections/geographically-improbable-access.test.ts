import { haversineKm } from '../../lambdas/core/detections/rules/geographically-improbable-access';
import { BALTIMORE, BETHESDA, LONDON, MINUTE, memoryEngine, successfulLogin, T0, type Place } from './support';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Where the engine keeps the rule's state for the test user of source `acme`. */
const GEO_STATE_KEY = 'state|Okta.GeographicallyImprobableAccess|acme|buser@example.com';
const ORIGIN: Place = { city: 'Null Island', lat: 0, lon: 0 };

/** A place on the equator `km` east of ORIGIN, by the rule's own haversine (R = 6371.0 km). */
function eastOfOrigin(km: number): Place {
  return { city: `${km} km east`, lat: 0, lon: ((km / 6371.0) * 180) / Math.PI };
}

describe('Okta.GeographicallyImprobableAccess', () => {
  it('uses the haversine distance with R = 6371.0 km', () => {
    expect(haversineKm(ORIGIN, eastOfOrigin(899))).toBeCloseTo(899, 6);
    expect(haversineKm(BALTIMORE, BETHESDA)).toBeCloseTo(57.3, 0);
  });

  it('stores the first login as the baseline and raises nothing', async () => {
    const { run, state } = memoryEngine();
    expect(await run([successfulLogin(T0, BALTIMORE, '198.51.100.1')])).toEqual([[]]);
    expect(state.size).toBe(1);
  });

  it('does not alert at 899 km/h and alerts at 901 km/h', async () => {
    const slow = memoryEngine();
    const slowAlerts = await slow.run([
      successfulLogin(T0, ORIGIN, '198.51.100.1'),
      successfulLogin(T0 + HOUR, eastOfOrigin(899), '198.51.100.2'),
    ]);
    expect(slowAlerts.flat()).toEqual([]);

    const fast = memoryEngine();
    const fastAlerts = await fast.run([
      successfulLogin(T0, ORIGIN, '198.51.100.1'),
      successfulLogin(T0 + HOUR, eastOfOrigin(901), '198.51.100.2'),
    ]);
    expect(fastAlerts[1]).toHaveLength(1);
    expect(fastAlerts[1][0]).toMatchObject({
      severity: 'HIGH',
      dedupKey: 'buser@example.com',
      sourceId: 'acme',
      title: 'Geographically improbable login for user [buser@example.com] from [Null Island]  to [901 km east]',
    });
    expect(fastAlerts[1][0].context).toMatchObject({ speedKmh: 901, previousIpAddress: '198.51.100.1', ipAddress: '198.51.100.2' });
  });

  it('raises nothing when both logins come from the same IP, however far apart', async () => {
    const { run } = memoryEngine();
    const alerts = await run([successfulLogin(T0, BALTIMORE, '198.51.100.1'), successfulLogin(T0 + MINUTE, LONDON, '198.51.100.1')]);
    expect(alerts.flat()).toEqual([]);
  });

  it("keeps each user's last login for 7 days of event time", async () => {
    const { run, state } = memoryEngine();
    await run([successfulLogin(T0, BALTIMORE, '198.51.100.1')]);
    const stored = await state.get(GEO_STATE_KEY);
    expect(stored?.expiresAt).toBe((T0 + 7 * DAY) / 1000);
    expect(stored?.value).toMatchObject({ latest: { city: 'Baltimore', time: T0, ip: '198.51.100.1' } });
  });

  it('ignores and does not store failed logins and logins without city, latitude or longitude', async () => {
    const { run, state } = memoryEngine();
    const ignored = [
      successfulLogin(T0, LONDON, '198.51.100.9', 'buser@example.com', 'FAILURE'),
      successfulLogin(T0, { lat: 51.5, lon: -0.12 }, '198.51.100.9'),
      successfulLogin(T0, { city: 'London', lon: -0.12 }, '198.51.100.9'),
      successfulLogin(T0, { city: 'London', lat: 51.5 }, '198.51.100.9'),
      successfulLogin(T0, { city: 'London' }, '198.51.100.9'),
      successfulLogin(T0, LONDON, '198.51.100.9', 'buser@example.com', 'ALLOW'),
    ];
    const alerts = await run([successfulLogin(T0 - HOUR, BALTIMORE, '198.51.100.1'), ...ignored]);
    expect(alerts.flat()).toEqual([]);
    expect((await state.get(GEO_STATE_KEY))?.value).toEqual({
      latest: expect.objectContaining({ city: 'Baltimore', time: T0 - HOUR }),
    });
    // Had any London login been stored, this one would alert.
    const next = await run([successfulLogin(T0 + MINUTE, BALTIMORE, '198.51.100.2')]);
    expect(next.flat()).toEqual([]);
  });

  it('compares with the newest login: a late, older login does not replace it', async () => {
    const { run } = memoryEngine();
    const alerts = await run([
      successfulLogin(T0, BALTIMORE, '198.51.100.1'),
      successfulLogin(T0 + 2 * DAY, LONDON, '198.51.100.2'),
      // Arrives late, one day old, from Bethesda: ~5,900 km from London in a day, slow.
      successfulLogin(T0 + DAY, BETHESDA, '198.51.100.3'),
      // Ten minutes after the London login, Baltimore again: compared with London, so it alerts.
      successfulLogin(T0 + 2 * DAY + 10 * MINUTE, BALTIMORE, '198.51.100.4'),
    ]);
    expect(alerts.map((list) => list.length)).toEqual([0, 0, 0, 1]);
    expect(alerts[3][0].title).toContain('from [London]  to [Baltimore]');
  });

  it('a retried login is judged against the same baseline as the first time', async () => {
    const { engine } = memoryEngine();
    const baseline = successfulLogin(T0, BALTIMORE, '198.51.100.1');
    const jump = successfulLogin(T0 + 10 * MINUTE, LONDON, '198.51.100.2');
    await engine.evaluate(baseline);
    const first = await engine.evaluate(jump);
    const retried = await engine.evaluate(jump);
    expect(first.alerts).toHaveLength(1);
    expect(retried.alerts).toEqual(first.alerts);
  });

  it('joins further improbable logins of the user within 60 minutes to the open alert', async () => {
    const { engine } = memoryEngine();
    await engine.evaluate(successfulLogin(T0, BALTIMORE, '198.51.100.1'));
    const first = await engine.evaluate(successfulLogin(T0 + 10 * MINUTE, LONDON, '198.51.100.2'));
    const back = await engine.evaluate(successfulLogin(T0 + 20 * MINUTE, BALTIMORE, '198.51.100.3'));
    expect(first.alerts).toHaveLength(1);
    expect(back.alerts).toEqual([]);
    expect(back.updates).toHaveLength(1);
    expect(back.updates[0]).toMatchObject({ alertId: first.alerts[0].alertId, eventCount: 2 });
  });
});
