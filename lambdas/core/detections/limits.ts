/** Every bound of the detections, in one place, with the reason for its default. */
export const DETECTION_LIMITS = {
  /** Panther's default when a rule sets no threshold: every match alerts. */
  defaultThreshold: 1,
  /** Panther's default dedup period. */
  defaultDedupPeriodMinutes: 60,
  /**
   * Uuids kept per alert. Brute force can add thousands of matches to one alert; 200 uuids keep a
   * DynamoDB item (400 KB limit) and an SNS message (256 KB limit) small while listing far more
   * events than a responder reads. `eventCount` keeps counting beyond it.
   */
  maxEventUuidsPerAlert: 200,
  /** Distinct collected labels (e.g. failure reasons) kept per alert; Okta has a few dozen reasons. */
  maxCollectedPerAlert: 50,
  /**
   * Conditional-write attempts on one key before the record is handed back for a retry. Conflicts
   * only happen when shards process matches of one key at the same moment; 5 rounds settle that.
   */
  maxStateConflictAttempts: 5,
} as const;

export type DetectionLimits = { readonly [K in keyof typeof DETECTION_LIMITS]: number };
