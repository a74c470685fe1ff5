/**
 * Realistic System Log traffic for the emulated org: pure and seeded, so a seed always yields the
 * same events. Shaped like `test/fixtures/okta-events.ndjson` (real API output): RFC 3339
 * `published` with milliseconds, `version` "0", `client.zone` the string "null", a
 * `geographicalContext` that is null about half the time, nulls where Okta sends nulls, and the
 * extra fields real events carry (`authenticationContext.rootSessionId`, top-level `device`).
 *
 * Everyday traffic (logins, MFA, sign-on policy evaluations, app SSO, logouts) is mixed with what
 * the built-in detections look for (`lambdas/core/detections/rules/`): admin privilege grants
 * (some "Super administrator"), API token creation and revocation, bursts of failed logins of one
 * user, and pairs of successful logins of one user from cities far apart within minutes.
 */

/** A System Log event as generated (a JSON object, like every event the API returns). */
export type SystemLogEvent = {
  readonly uuid: string;
  readonly published: string;
  readonly eventType: string;
  readonly [field: string]: unknown;
};

export type TrafficKind =
  | 'login-success'
  | 'login-failure'
  | 'mfa'
  | 'policy-evaluation'
  | 'sso'
  | 'session-end'
  | 'admin-privilege-grant'
  | 'api-token-create'
  | 'api-token-revoke'
  | 'brute-force'
  | 'impossible-travel';

/** Relative weights of the kinds; kinds left out do not occur. */
export type TrafficMix = Readonly<Partial<Record<TrafficKind, number>>>;

/** What an org's `generate` is told (the emulator's `EmulatedOrg.generate`). */
export interface GenerateOptions {
  /** `published` of the newest event, epoch ms. @default now by the org's clock */
  readonly at?: number;
  /** The batch is published evenly over this span before `at`. @default 60000 */
  readonly spreadMs?: number;
  /** Share of the events published `lateByMs` earlier than their place in storage suggests. @default 0 */
  readonly lateFraction?: number;
  /** @default 600000 (10 minutes) */
  readonly lateByMs?: number;
  /** Relative weights of the kinds of traffic. @default DEFAULT_TRAFFIC_MIX */
  readonly mix?: TrafficMix;
  /** Storage time, as for `addEvents`. @default now */
  readonly storedAt?: number;
}

/**
 * The everyday mix: mostly SSO and logins, a rare detection-worthy event. Detection scenarios are
 * rare enough that alerts stay the exception, frequent enough that a few thousand events hold
 * every one of them.
 */
export const DEFAULT_TRAFFIC_MIX: TrafficMix = {
  'login-success': 24,
  'login-failure': 4,
  mfa: 16,
  'policy-evaluation': 20,
  sso: 26,
  'session-end': 8,
  'admin-privilege-grant': 0.4,
  'api-token-create': 0.3,
  'api-token-revoke': 0.3,
  'brute-force': 0.3,
  'impossible-travel': 0.3,
};

/** Failed logins in one brute-force burst: the detection fires at 5 within 15 minutes. */
const BRUTE_FORCE_ATTEMPTS = { min: 5, max: 8 };
/** Users of the generated org; enough for varied traffic, few enough that users repeat. */
const USER_COUNT = 40;
const ADMIN_COUNT = 3;

interface City {
  readonly city: string;
  readonly state: string;
  readonly country: string;
  readonly postalCode: string;
  readonly lat: number;
  readonly lon: number;
  /** Cities of different regions are thousands of km apart: an impossible-travel pair. */
  readonly region: 'americas' | 'europe' | 'asia-pacific';
}

const CITIES: readonly City[] = [
  { city: 'New York', state: 'New York', country: 'United States', postalCode: '10013', lat: 40.7209, lon: -74.0048, region: 'americas' },
  {
    city: 'San Francisco',
    state: 'California',
    country: 'United States',
    postalCode: '94107',
    lat: 37.7697,
    lon: -122.3933,
    region: 'americas',
  },
  { city: 'Chicago', state: 'Illinois', country: 'United States', postalCode: '60601', lat: 41.8858, lon: -87.6181, region: 'americas' },
  { city: 'Austin', state: 'Texas', country: 'United States', postalCode: '78701', lat: 30.2711, lon: -97.7437, region: 'americas' },
  { city: 'Toronto', state: 'Ontario', country: 'Canada', postalCode: 'M5H', lat: 43.6529, lon: -79.3849, region: 'americas' },
  { city: 'São Paulo', state: 'São Paulo', country: 'Brazil', postalCode: '01000-000', lat: -23.5475, lon: -46.6361, region: 'americas' },
  { city: 'London', state: 'England', country: 'United Kingdom', postalCode: 'EC2V', lat: 51.5164, lon: -0.093, region: 'europe' },
  { city: 'Dublin', state: 'Leinster', country: 'Ireland', postalCode: 'D02', lat: 53.3498, lon: -6.2603, region: 'europe' },
  { city: 'Berlin', state: 'Land Berlin', country: 'Germany', postalCode: '10115', lat: 52.5244, lon: 13.4105, region: 'europe' },
  { city: 'Paris', state: 'Île-de-France', country: 'France', postalCode: '75001', lat: 48.8534, lon: 2.3488, region: 'europe' },
  { city: 'Warsaw', state: 'Mazovia', country: 'Poland', postalCode: '00-001', lat: 52.2298, lon: 21.0118, region: 'europe' },
  {
    city: 'Singapore',
    state: 'Central Singapore',
    country: 'Singapore',
    postalCode: '048619',
    lat: 1.2897,
    lon: 103.8501,
    region: 'asia-pacific',
  },
  {
    city: 'Sydney',
    state: 'New South Wales',
    country: 'Australia',
    postalCode: '2000',
    lat: -33.8678,
    lon: 151.2073,
    region: 'asia-pacific',
  },
  { city: 'Tokyo', state: 'Tokyo', country: 'Japan', postalCode: '100-0001', lat: 35.6895, lon: 139.6917, region: 'asia-pacific' },
  { city: 'Bengaluru', state: 'Karnataka', country: 'India', postalCode: '560001', lat: 12.9719, lon: 77.5937, region: 'asia-pacific' },
];

interface Browser {
  readonly rawUserAgent: string;
  readonly os: string;
  readonly browser: string;
  readonly device: string;
}

const BROWSERS: readonly Browser[] = [
  {
    rawUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36',
    os: 'Mac OS X',
    browser: 'CHROME',
    device: 'Computer',
  },
  {
    rawUserAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
    os: 'Windows 10',
    browser: 'EDGE',
    device: 'Computer',
  },
  {
    rawUserAgent: 'Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    os: 'Linux',
    browser: 'FIREFOX',
    device: 'Computer',
  },
  {
    rawUserAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    os: 'iOS',
    browser: 'SAFARI',
    device: 'Mobile',
  },
  {
    rawUserAgent: 'Okta Verify/9.20.0 (Android 14; Pixel 8)',
    os: 'Android',
    browser: 'UNKNOWN',
    device: 'Mobile',
  },
];

const FIRST_NAMES = [
  'Alice',
  'Bruno',
  'Chen',
  'Dana',
  'Emeka',
  'Fatima',
  'Gustav',
  'Hana',
  'Ivan',
  'Jamal',
  'Keiko',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
];
const LAST_NAMES = [
  'Andersen',
  'Baptiste',
  'Costa',
  'Dubois',
  'Eze',
  'Fischer',
  'García',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
];
const APPS = [
  'Salesforce',
  'Slack',
  'GitHub Enterprise',
  'AWS IAM Identity Center',
  'Google Workspace',
  'Zoom',
  'Atlassian Cloud',
  'Workday',
];
const PRIVILEGES = [
  'Super administrator',
  'Super administrator, Read only admin',
  'Organization administrator, Application administrator (all)',
  'Application administrator (all)',
  'Help Desk administrator',
  'Read only admin',
];
const AUTHENTICATORS = ['Okta Verify', 'Google Authenticator', 'Security Key or Biometric', 'Phone'];
const FAILURE_REASONS = ['INVALID_CREDENTIALS', 'VERIFICATION_ERROR', 'LOCKED_OUT'];
const NETWORKS = [
  { asNumber: 7922, asOrg: 'comcast', isp: 'comcast cable communications llc', domain: 'comcast.net' },
  { asNumber: 3320, asOrg: 'deutsche telekom ag', isp: 'deutsche telekom ag', domain: 'telekom.de' },
  { asNumber: 16509, asOrg: 'amazon.com inc.', isp: 'amazon.com inc.', domain: 'amazon.com' },
  { asNumber: 2516, asOrg: 'kddi corporation', isp: 'kddi corporation', domain: 'kddi.com' },
];

interface User {
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly home: City;
  readonly ip: string;
  readonly browser: Browser;
}

/** Where and how one event was made: the user's own place, or another one. */
interface Origin {
  readonly city: City;
  readonly ip: string;
  readonly browser: Browser;
  /** Okta resolves the location of most, not all, requests: null in about half of real logins. */
  readonly located: boolean;
}

/** Small, fast, seedable PRNG (mulberry32): the traffic must be reproducible from a seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  hex(length: number): string {
    let text = '';
    while (text.length < length) {
      text += Math.floor(this.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    }
    return text.slice(0, length);
  }

  /** Okta-style object id: a 3-character type prefix and 17 base62 characters. */
  oktaId(prefix: string): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let id = prefix;
    while (id.length < 20) {
      id += alphabet[Math.floor(this.next() * alphabet.length)];
    }
    return id;
  }

  uuid(): string {
    const hex = this.hex(32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-1${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

/** What every generated event has before its kind adds `eventType` and the rest. */
type CommonFields = { readonly uuid: string; readonly published: string; readonly [field: string]: unknown };

/** An event before its time is known: built when its `published` is assigned. */
type Draft = (published: number) => SystemLogEvent;

export interface TrafficOptions {
  /** Relative weights of the kinds. @default DEFAULT_TRAFFIC_MIX */
  readonly mix?: TrafficMix;
  /** Domain of the users' logins. @default 'example.com' */
  readonly emailDomain?: string;
}

/**
 * A seeded source of events. Multi-event scenarios (a brute-force burst, an impossible-travel
 * pair) continue across calls, so traffic produced a few events at a time still contains them
 * whole.
 */
export class TrafficGenerator {
  private readonly random: Random;
  private readonly users: readonly User[];
  private readonly admins: readonly User[];
  private readonly mix: TrafficMix;
  private readonly queued: Draft[] = [];
  private readonly tokens: Array<{ id: string; name: string; owner: User }> = [];

  constructor(seed: number, options: TrafficOptions = {}) {
    this.random = new Random(seed);
    this.mix = options.mix ?? DEFAULT_TRAFFIC_MIX;
    const domain = options.emailDomain ?? 'example.com';
    this.users = Array.from({ length: USER_COUNT }, (_, i) => {
      const first = FIRST_NAMES[i % FIRST_NAMES.length];
      const last = LAST_NAMES[(i * 7) % LAST_NAMES.length];
      const suffix = i < FIRST_NAMES.length ? '' : String(i);
      return {
        id: this.random.oktaId('00u'),
        login: `${first.toLowerCase()}.${normaliseName(last)}${suffix}@${domain}`,
        displayName: `${first} ${last}`,
        home: this.random.pick(CITIES),
        ip: this.publicIp(),
        browser: this.random.pick(BROWSERS),
      };
    });
    this.admins = this.users.slice(0, ADMIN_COUNT);
  }

  /** One event per entry of `publishedAt` (epoch ms), in that order. */
  next(publishedAt: readonly number[], mix: TrafficMix = this.mix): SystemLogEvent[] {
    return publishedAt.map((published) => {
      if (this.queued.length === 0) {
        this.queued.push(...this.scenario(this.pickKind(mix)));
      }
      const draft = this.queued.shift() as Draft;
      return draft(published);
    });
  }

  /** A random sample of `fraction` of the indices 0..count-1, in ascending order. */
  sample(count: number, fraction: number): number[] {
    return Array.from({ length: count }, (_, i) => i).filter(() => this.random.chance(fraction));
  }

  private pickKind(mix: TrafficMix): TrafficKind {
    const entries = Object.entries(mix).filter((entry): entry is [TrafficKind, number] => (entry[1] ?? 0) > 0);
    if (entries.length === 0) {
      throw new RangeError('okta emulator traffic: the mix gives no kind a positive weight');
    }
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.random.next() * total;
    for (const [kind, weight] of entries) {
      point -= weight;
      if (point < 0) {
        return kind;
      }
    }
    return entries[entries.length - 1][0];
  }

  private scenario(kind: TrafficKind): Draft[] {
    const user = this.random.pick(this.users);
    switch (kind) {
      case 'login-success':
        return [this.login(user, this.homeOrigin(user), 'SUCCESS')];
      case 'login-failure':
        return [this.login(user, this.homeOrigin(user), 'FAILURE', this.random.pick(FAILURE_REASONS))];
      case 'mfa':
        return [this.mfa(user, this.homeOrigin(user))];
      case 'policy-evaluation':
        return [this.policyEvaluation(user, this.homeOrigin(user))];
      case 'sso':
        return [this.sso(user, this.homeOrigin(user))];
      case 'session-end':
        return [this.sessionEnd(user, this.homeOrigin(user))];
      case 'admin-privilege-grant':
        return [this.privilegeGrant(this.random.pick(this.admins), user)];
      case 'api-token-create':
        return [this.apiTokenCreate(this.random.pick(this.admins))];
      case 'api-token-revoke':
        return [this.apiTokenRevoke(this.random.pick(this.admins))];
      case 'brute-force':
        return this.bruteForce(user);
      case 'impossible-travel':
        return this.impossibleTravel(user);
    }
  }

  private bruteForce(user: User): Draft[] {
    const attacker: Origin = { city: this.random.pick(CITIES), ip: this.publicIp(), browser: this.random.pick(BROWSERS), located: true };
    const reason = this.random.pick(['INVALID_CREDENTIALS', 'VERIFICATION_ERROR']);
    const attempts = this.random.int(BRUTE_FORCE_ATTEMPTS.min, BRUTE_FORCE_ATTEMPTS.max);
    return Array.from({ length: attempts }, () => this.login(user, attacker, 'FAILURE', reason));
  }

  private impossibleTravel(user: User): Draft[] {
    const far = CITIES.filter((city) => city.region !== user.home.region);
    const away: Origin = { city: this.random.pick(far), ip: this.publicIp(), browser: user.browser, located: true };
    return [this.login(user, { ...this.homeOrigin(user), located: true }, 'SUCCESS'), this.login(user, away, 'SUCCESS')];
  }

  private homeOrigin(user: User): Origin {
    return { city: user.home, ip: user.ip, browser: user.browser, located: this.random.chance(0.5) };
  }

  private login(user: User, origin: Origin, result: 'SUCCESS' | 'FAILURE', reason?: string): Draft {
    const base = this.base(origin);
    const session = this.sessionId();
    return (published) => ({
      ...base(published),
      eventType: 'user.session.start',
      legacyEventType: result === 'SUCCESS' ? 'core.user_auth.login_success' : 'core.user_auth.login_failed',
      displayMessage: 'User login to Okta',
      severity: result === 'SUCCESS' ? 'INFO' : 'WARN',
      actor: actor(user),
      outcome: { result, reason: reason ?? null },
      authenticationContext: authenticationContext(result === 'SUCCESS' ? session : null, 'PASSWORD'),
      target:
        result === 'SUCCESS'
          ? [
              {
                id: this.random.oktaId('pfd'),
                type: 'AuthenticatorEnrollment',
                alternateId: 'unknown',
                displayName: 'Password',
                detailEntry: null,
              },
            ]
          : null,
    });
  }

  private mfa(user: User, origin: Origin): Draft {
    const base = this.base(origin);
    const authenticator = this.random.pick(AUTHENTICATORS);
    const session = this.sessionId();
    return (published) => ({
      ...base(published),
      eventType: 'user.authentication.auth_via_mfa',
      legacyEventType: 'core.user.factor.attempt_success',
      displayMessage: 'Authentication of user via MFA',
      severity: 'INFO',
      actor: actor(user),
      outcome: { result: 'SUCCESS', reason: null },
      authenticationContext: authenticationContext(session, 'OTP'),
      target: [
        {
          id: this.random.oktaId('pfd'),
          type: 'AuthenticatorEnrollment',
          alternateId: 'unknown',
          displayName: authenticator,
          detailEntry: { methodTypeUsed: authenticator === 'Phone' ? 'SMS' : 'Push', methodUsedVerifiedProperties: '[HARDWARE_PROTECTED]' },
        },
      ],
    });
  }

  private policyEvaluation(user: User, origin: Origin): Draft {
    const base = this.base(origin);
    const result = this.random.pick(['ALLOW', 'ALLOW', 'ALLOW', 'CHALLENGE']);
    return (published) => ({
      ...base(published),
      eventType: 'policy.evaluate_sign_on',
      legacyEventType: null,
      displayMessage: 'Evaluation of sign-on policy',
      severity: 'INFO',
      actor: actor(user),
      outcome: {
        result,
        reason: result === 'CHALLENGE' ? 'Sign-on policy evaluation resulted in CHALLENGE' : 'Sign-on policy evaluation resulted in ALLOW',
      },
      authenticationContext: authenticationContext(this.sessionId(), null),
      target: [
        {
          id: this.random.oktaId('rst'),
          type: 'PolicyEntity',
          alternateId: 'unknown',
          displayName: 'Okta Dashboard',
          detailEntry: { policyType: 'OKTA_SIGN_ON' },
        },
        { id: this.random.oktaId('rul'), type: 'PolicyRule', alternateId: 'unknown', displayName: 'Catch-all Rule', detailEntry: null },
      ],
    });
  }

  private sso(user: User, origin: Origin): Draft {
    const base = this.base(origin);
    const app = this.random.pick(APPS);
    return (published) => ({
      ...base(published),
      eventType: 'user.authentication.sso',
      legacyEventType: 'app.auth.sso',
      displayMessage: 'User single sign on to app',
      severity: 'INFO',
      actor: actor(user),
      outcome: { result: 'SUCCESS', reason: null },
      authenticationContext: authenticationContext(this.sessionId(), null),
      target: [
        {
          id: this.random.oktaId('0oa'),
          type: 'AppInstance',
          alternateId: app,
          displayName: app,
          detailEntry: { signOnModeType: 'SAML_2_0' },
        },
        { id: this.random.oktaId('0ua'), type: 'AppUser', alternateId: user.login, displayName: user.displayName, detailEntry: null },
      ],
    });
  }

  private sessionEnd(user: User, origin: Origin): Draft {
    const base = this.base(origin);
    return (published) => ({
      ...base(published),
      eventType: 'user.session.end',
      legacyEventType: 'core.user_auth.logout_success',
      displayMessage: 'User logout from Okta',
      severity: 'INFO',
      actor: actor(user),
      outcome: { result: 'SUCCESS', reason: null },
      authenticationContext: authenticationContext(this.sessionId(), null),
      target: null,
    });
  }

  private privilegeGrant(admin: User, grantee: User): Draft {
    const base = this.base({ city: admin.home, ip: admin.ip, browser: admin.browser, located: true });
    const privilege = this.random.pick(PRIVILEGES);
    return (published) => {
      const event = base(published);
      return {
        ...event,
        eventType: 'user.account.privilege.grant',
        legacyEventType: 'core.user.admin_privilege.granted',
        displayMessage: 'Grant user privilege',
        severity: 'INFO',
        actor: actor(admin),
        outcome: { result: 'SUCCESS', reason: null },
        authenticationContext: authenticationContext(this.sessionId(), null),
        debugContext: {
          debugData: {
            ...debugData(event),
            privilegeGranted: privilege,
            requestUri: `/api/internal/administrators/${grantee.id}`,
            url: `/api/internal/administrators/${grantee.id}`,
          },
        },
        target: [{ id: grantee.id, type: 'User', alternateId: grantee.login, displayName: grantee.displayName, detailEntry: null }],
      };
    };
  }

  private apiTokenCreate(admin: User): Draft {
    const base = this.base({ city: admin.home, ip: admin.ip, browser: admin.browser, located: true });
    const token = {
      id: this.random.oktaId('00T'),
      name: `${this.random.pick(['siem', 'backup', 'terraform', 'scim'])}-${this.random.hex(4)}`,
      owner: admin,
    };
    this.tokens.push(token);
    return (published) => ({
      ...base(published),
      eventType: 'system.api_token.create',
      legacyEventType: 'api.token.create',
      displayMessage: 'Create API token',
      severity: 'INFO',
      actor: actor(admin),
      outcome: { result: 'SUCCESS', reason: null },
      authenticationContext: authenticationContext(this.sessionId(), null),
      target: [{ id: token.id, type: 'Token', alternateId: 'unknown', displayName: token.name, detailEntry: null }],
    });
  }

  private apiTokenRevoke(admin: User): Draft {
    const base = this.base({ city: admin.home, ip: admin.ip, browser: admin.browser, located: true });
    const token = this.tokens.shift() ?? { id: this.random.oktaId('00T'), name: `legacy-${this.random.hex(4)}`, owner: admin };
    return (published) => ({
      ...base(published),
      eventType: 'system.api_token.revoke',
      legacyEventType: 'api.token.revoke',
      displayMessage: 'Revoke API token',
      severity: 'INFO',
      actor: actor(admin),
      outcome: { result: 'SUCCESS', reason: null },
      authenticationContext: authenticationContext(this.sessionId(), null),
      target: [{ id: token.id, type: 'Token', alternateId: 'unknown', displayName: token.name, detailEntry: null }],
    });
  }

  /** The fields every event shares, with fresh ids; the kind's builder adds the rest. */
  private base(origin: Origin): (published: number) => CommonFields {
    const uuid = this.random.uuid();
    const requestId = this.random.hex(32);
    const network = this.random.pick(NETWORKS);
    const resolved = this.random.chance(0.9);
    const geographicalContext = origin.located
      ? {
          city: origin.city.city,
          state: origin.city.state,
          country: origin.city.country,
          postalCode: origin.city.postalCode,
          geolocation: { lat: origin.city.lat, lon: origin.city.lon },
        }
      : null;
    return (published) => ({
      uuid,
      published: new Date(published).toISOString(),
      version: '0',
      client: {
        userAgent: { rawUserAgent: origin.browser.rawUserAgent, os: origin.browser.os, browser: origin.browser.browser },
        zone: 'null',
        device: origin.browser.device,
        id: null,
        ipAddress: origin.ip,
        geographicalContext,
      },
      device: null,
      request: { ipChain: [{ ip: origin.ip, geographicalContext, version: 'V4', source: null }] },
      transaction: { type: 'WEB', id: requestId, detail: {} },
      debugContext: { debugData: { requestId, requestUri: '/idp/idx/identify', url: '/idp/idx/identify?' } },
      securityContext: resolved
        ? { asNumber: network.asNumber, asOrg: network.asOrg, isp: network.isp, domain: network.domain, isProxy: false }
        : { asNumber: null, asOrg: null, isp: null, domain: null, isProxy: null },
    });
  }

  private sessionId(): string {
    return `idx${this.random.oktaId('').slice(0, 22)}`;
  }

  /** Addresses from the documentation ranges (RFC 5737): realistic in shape, never a real host. */
  private publicIp(): string {
    const range = this.random.pick(['192.0.2', '198.51.100', '203.0.113']);
    return `${range}.${this.random.int(1, 254)}`;
  }
}

function actor(user: User): Record<string, unknown> {
  return { id: user.id, type: 'User', alternateId: user.login, displayName: user.displayName, detailEntry: null };
}

function authenticationContext(session: string | null, credentialType: string | null): Record<string, unknown> {
  return {
    authenticationProvider: credentialType === null ? null : 'OKTA_AUTHENTICATION_PROVIDER',
    credentialProvider: credentialType === null ? null : 'OKTA_CREDENTIAL_PROVIDER',
    credentialType,
    issuer: null,
    interface: null,
    authenticationStep: 0,
    rootSessionId: session,
    externalSessionId: session,
  };
}

function debugData(event: CommonFields): Record<string, unknown> {
  const debugContext = event.debugContext as { debugData: Record<string, unknown> };
  return debugContext.debugData;
}

function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/**
 * `count` publication times ending at `end`, spread over `spreadMs` before it, ascending and
 * evenly spaced (so that tests can reason about them).
 */
export function spreadTimes(count: number, end: number, spreadMs: number): number[] {
  if (count === 1) {
    return [end];
  }
  return Array.from({ length: count }, (_, i) => Math.round(end - spreadMs + (spreadMs * i) / Math.max(1, count - 1)));
}
