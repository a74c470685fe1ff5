import { number, recordId, text, type DetectionRecord } from '../record';
import type { CheckVerdict, Findings, Rule } from '../rule';
import type { JsonObject } from '../json';

/** Mean Earth radius used by Panther's rule, in km. */
const EARTH_RADIUS_KM = 6371.0;
/** Faster than a Boeing 747 cruises: nobody travels that fast between two logins. */
const MAX_PLAUSIBLE_SPEED_KMH = 900;
/** How long a user's last login stays the baseline, as in Panther's rule. */
const LOGIN_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Panther's stand-in for a zero time difference (0.36 s), so that simultaneous logins still compare. */
const MIN_HOURS_BETWEEN_LOGINS = 0.0001;

interface Login {
  readonly uuid: string;
  readonly time: number;
  readonly city: string;
  readonly lat: number;
  readonly lon: number;
  readonly ip?: string;
}

const geo = ['client', 'geographicalContext'] as const;

/** The login's place, or `undefined` unless city, latitude and longitude are all present. */
function loginOf(record: DetectionRecord, time: number): Login | undefined {
  const city = text(record, ...geo, 'city');
  const lat = number(record, ...geo, 'geolocation', 'lat');
  const lon = number(record, ...geo, 'geolocation', 'lon');
  if (city === undefined || lat === undefined || lon === undefined) return undefined;
  const uuid = recordId(record);
  const ip = text(record, 'client', 'ipAddress');
  return ip === undefined ? { uuid, time, city, lat, lon } : { uuid, time, city, lat, lon, ip };
}

function parseLogin(value: unknown): Login | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { uuid, time, city, lat, lon, ip } = value as Record<string, unknown>;
  if (
    typeof uuid !== 'string' ||
    typeof time !== 'number' ||
    typeof city !== 'string' ||
    typeof lat !== 'number' ||
    typeof lon !== 'number' ||
    (ip !== undefined && typeof ip !== 'string')
  ) {
    return undefined;
  }
  return ip === undefined ? { uuid, time, city, lat, lon } : { uuid, time, city, lat, lon, ip };
}

function toJson(login: Login): JsonObject {
  return { ...login };
}

/** Great-circle distance in km (haversine). */
export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The findings when going from `before` to `login` is improbable, else `undefined`. */
function compare(before: Login | undefined, login: Login): Findings | undefined {
  if (before === undefined || Math.abs(login.time - before.time) > LOGIN_RETENTION_MS) return undefined;
  // The same IP in two places means the geolocation moved, not the user.
  if (before.ip !== undefined && before.ip === login.ip) return undefined;
  const distanceKm = haversineKm(before, login);
  // Absolute time: two logins far apart are as improbable when they arrive out of order.
  const hours = Math.max(Math.abs(login.time - before.time) / 3_600_000, MIN_HOURS_BETWEEN_LOGINS);
  const speedKmh = distanceKm / hours;
  if (!(speedKmh > MAX_PLAUSIBLE_SPEED_KMH)) return undefined;
  return {
    old_city: before.city,
    new_city: login.city,
    previousIpAddress: before.ip ?? '',
    previousLoginTime: new Date(before.time).toISOString(),
    distanceKm: Math.round(distanceKm * 10) / 10,
    speedKmh: Math.round(speedKmh),
  };
}

/**
 * A successful login too far from the same user's previous one for the time between them (Panther
 * `Okta.GeographicallyImprobableAccess`, which Panther has since deprecated). Per user the state
 * keeps the newest login (and the one before it, so a retried record compares with the same
 * baseline as the first time). Logins without a city and coordinates, and failed ones, are
 * neither judged nor stored.
 */
export const geographicallyImprobableAccess: Rule = {
  id: 'Okta.GeographicallyImprobableAccess',
  severity: 'HIGH',
  dedupPeriodMinutes: 60,
  match: (record) =>
    text(record, 'eventType') === 'user.session.start' &&
    text(record, 'outcome', 'result') === 'SUCCESS' &&
    text(record, ...geo, 'city') !== undefined &&
    number(record, ...geo, 'geolocation', 'lat') !== undefined &&
    number(record, ...geo, 'geolocation', 'lon') !== undefined,
  check: {
    key: (record) => text(record, 'actor', 'alternateId'),
    retentionMs: LOGIN_RETENTION_MS,
    evaluate(record, eventTime, previous): CheckVerdict {
      const login = loginOf(record, eventTime);
      if (login === undefined) return {};
      const stored = typeof previous === 'object' && previous !== null ? (previous as Record<string, unknown>) : {};
      const latest = parseLogin(stored.latest);
      const before = parseLogin(stored.before);
      if (latest?.uuid === login.uuid && latest.time === login.time) {
        // This record was judged already (a retry): judge it the same way, change nothing.
        return { findings: compare(before, login) };
      }
      const findings = compare(latest, login);
      if (latest !== undefined && latest.time > login.time) {
        // An older login arriving late must not replace the newer baseline.
        return { findings };
      }
      return { findings, next: latest === undefined ? { latest: toJson(login) } : { latest: toJson(login), before: toJson(latest) } };
    },
  },
  dedupKey: ({ record }) => text(record, 'actor', 'alternateId') ?? '<UNKNOWN_ACCOUNT>',
  // Two spaces before "to": Panther's title, kept so that titles compare equal.
  title: ({ record, findings }) =>
    `Geographically improbable login for user [${text(record, 'actor', 'alternateId') ?? 'None'}] from [${findings.old_city ?? '<NOT_STORED>'}]  to [${findings.new_city ?? '<UNKNOWN_NEW_CITY>'}]`,
  context: ({ findings }) => ({ ...findings }),
};
