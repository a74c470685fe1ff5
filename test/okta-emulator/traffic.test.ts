import { eventProcessorFor } from '../../lambdas/core/schema';
import { startOktaOrg, startTraffic, TrafficGenerator, type EmulatedOrg, type SystemLogEvent } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';

const MINUTE = 60_000;
const START = Date.parse('2026-01-01T00:00:00.000Z');

function times(count: number): number[] {
  return Array.from({ length: count }, (_, i) => START + i * 1000);
}

type Outcome = { result: string; reason: string | null };
type Actor = { alternateId: string };
type Geo = { city: string; geolocation: { lat: number; lon: number } } | null;

const outcome = (event: SystemLogEvent): Outcome => event.outcome as Outcome;
const login = (event: SystemLogEvent): string => (event.actor as Actor).alternateId;
const geo = (event: SystemLogEvent): Geo => (event.client as { geographicalContext: Geo }).geographicalContext;

function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = (deg: number): number => (deg * Math.PI) / 180;
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

describe('okta emulator: traffic generator', () => {
  it('is reproducible from its seed, and differs between seeds', () => {
    const a = new TrafficGenerator(42).next(times(200));
    const b = new TrafficGenerator(42).next(times(200));
    const c = new TrafficGenerator(43).next(times(200));
    expect(b).toEqual(a);
    expect(c.map((event) => event.uuid)).not.toEqual(a.map((event) => event.uuid));
  });

  it('produces events every one of which passes Okta.SystemLog validation', () => {
    const processor = eventProcessorFor('Okta.SystemLog');
    const generator = new TrafficGenerator(7);
    // Everyday traffic, then only the rare kinds, so that every kind is checked.
    const events = [
      ...generator.next(times(1000)),
      ...generator.next(times(200), {
        'admin-privilege-grant': 1,
        'api-token-create': 1,
        'api-token-revoke': 1,
        'brute-force': 1,
        'impossible-travel': 1,
      }),
    ];
    const invalid = events
      .map((event) => ({ event, result: processor.process(event, { sourceId: 'emulator', sourceLabel: 'Emulator', parseTime: START }) }))
      .filter(({ result }) => !result.ok);
    expect(invalid).toEqual([]);
  });

  it('looks like the real API output: RFC 3339 with ms, version "0", zone "null", unique uuids, geo null in some logins', () => {
    const events = new TrafficGenerator(3).next(times(500));
    expect(new Set(events.map((event) => event.uuid)).size).toBe(500);
    for (const event of events) {
      expect(event.published).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(event.version).toBe('0');
      expect((event.client as { zone: unknown }).zone).toBe('null');
    }
    const logins = events.filter((event) => event.eventType === 'user.session.start');
    const unlocated = logins.filter((event) => geo(event) === null).length;
    expect(unlocated).toBeGreaterThan(logins.length * 0.2);
    expect(unlocated).toBeLessThan(logins.length * 0.8);
    const kinds = new Set(events.map((event) => event.eventType));
    for (const kind of [
      'user.session.start',
      'user.authentication.auth_via_mfa',
      'policy.evaluate_sign_on',
      'user.authentication.sso',
      'user.session.end',
    ]) {
      expect(kinds).toContain(kind);
    }
  });

  it('generates admin grants (some Super administrator) and API token creation and revocation', () => {
    const events = new TrafficGenerator(5).next(times(60), { 'admin-privilege-grant': 1, 'api-token-create': 1, 'api-token-revoke': 1 });
    const grants = events.filter((event) => event.eventType === 'user.account.privilege.grant');
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.every((event) => outcome(event).result === 'SUCCESS')).toBe(true);
    const privileges = grants.map(
      (event) => (event.debugContext as { debugData: { privilegeGranted: string } }).debugData.privilegeGranted,
    );
    expect(privileges.some((privilege) => privilege.includes('Super administrator'))).toBe(true);
    for (const type of ['system.api_token.create', 'system.api_token.revoke']) {
      const tokens = events.filter((event) => event.eventType === type);
      expect(tokens.length).toBeGreaterThan(0);
      expect(tokens.every((event) => (event.target as Array<{ type: string }>)[0].type === 'Token')).toBe(true);
    }
  });

  it('generates bursts of at least 5 failed logins of one user with one reason', () => {
    const events = new TrafficGenerator(9).next(times(8), { 'brute-force': 1 });
    const burst = events.slice(0, 5);
    expect(burst.every((event) => event.eventType === 'user.session.start' && outcome(event).result === 'FAILURE')).toBe(true);
    expect(new Set(burst.map(login)).size).toBe(1);
    expect(new Set(burst.map((event) => outcome(event).reason)).size).toBe(1);
  });

  it('generates pairs of successful logins of one user from cities over 900 km/h apart', () => {
    const [first, second] = new TrafficGenerator(11).next([START, START + 5 * MINUTE], { 'impossible-travel': 1 });
    expect([first, second].map((event) => [event.eventType, outcome(event).result])).toEqual([
      ['user.session.start', 'SUCCESS'],
      ['user.session.start', 'SUCCESS'],
    ]);
    expect(login(first)).toBe(login(second));
    const from = geo(first);
    const to = geo(second);
    expect(from).not.toBeNull();
    expect(to).not.toBeNull();
    const km = haversineKm((from as NonNullable<Geo>).geolocation, (to as NonNullable<Geo>).geolocation);
    expect(km / (5 / 60)).toBeGreaterThan(900);
  });

  it('continues a scenario across calls, so one event at a time still yields whole bursts', () => {
    const generator = new TrafficGenerator(9);
    const oneByOne = [0, 1, 2, 3, 4].flatMap((i) => generator.next([START + i], { 'brute-force': 1 }));
    expect(new Set(oneByOne.map(login)).size).toBe(1);
  });
});

describe('okta emulator: generate and startTraffic', () => {
  let clock: VirtualClock;
  let org: EmulatedOrg;

  beforeEach(async () => {
    clock = new VirtualClock(START);
    org = await startOktaOrg({ clock, seed: 4 });
  });

  afterEach(async () => {
    await org.close();
  });

  it('stores what it generates, published over the last minute by default', () => {
    const events = org.generate(50);
    expect(org.storedEvents()).toEqual(events);
    const published = events.map((event) => Date.parse(event.published));
    expect(Math.max(...published)).toBe(START);
    expect(Math.min(...published)).toBe(START - MINUTE);
  });

  it('publishes a late fraction earlier than their neighbours in storage', () => {
    const events = org.generate(200, { lateFraction: 0.25, lateByMs: 30 * MINUTE });
    const late = events.filter((event) => Date.parse(event.published) < START - MINUTE);
    expect(late.length).toBeGreaterThan(20);
    expect(late.length).toBeLessThan(80);
    expect(late.every((event) => Date.parse(event.published) >= START - 31 * MINUTE)).toBe(true);
  });

  it('feeds an org at a steady rate by the clock', () => {
    const traffic = startTraffic(org, { eventsPerMinute: 120, clock });
    try {
      expect(traffic.flush()).toBe(0);
      clock.advance(30_000);
      expect(traffic.flush()).toBe(60);
      clock.advance(250);
      expect(traffic.flush()).toBe(0);
      clock.advance(30_000 - 250);
      expect(traffic.flush()).toBe(60);
      expect(org.storedEvents()).toHaveLength(120);
      const newest = Math.max(...org.storedEvents().map((event) => Date.parse(event.published as string)));
      expect(newest).toBe(START + MINUTE);
    } finally {
      traffic.stop();
    }
  });
});
