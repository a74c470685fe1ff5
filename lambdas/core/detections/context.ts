import { field, number, text, type DetectionRecord } from './record';

/** Drops missing values and empty groups, so the context shows only what the event says. */
function compact(entries: Record<string, unknown>): Record<string, unknown> | undefined {
  const kept = Object.entries(entries).filter(
    ([, value]) => value !== undefined && !(typeof value === 'object' && value !== null && Object.keys(value).length === 0),
  );
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

/** The first-look context of every alert: who, from where, against what. */
export function commonContext(record: DetectionRecord): Record<string, unknown> {
  return compact(fields(record)) ?? {};
}

function fields(record: DetectionRecord): Record<string, unknown> {
  const targets = field(record, 'target');
  const geo = ['client', 'geographicalContext'] as const;
  return {
    eventType: text(record, 'eventType'),
    outcome: compact({ result: text(record, 'outcome', 'result'), reason: text(record, 'outcome', 'reason') }),
    actor: compact({
      id: text(record, 'actor', 'id'),
      type: text(record, 'actor', 'type'),
      alternateId: text(record, 'actor', 'alternateId'),
      displayName: text(record, 'actor', 'displayName'),
    }),
    ipAddress: text(record, 'client', 'ipAddress'),
    location: compact({
      city: text(record, ...geo, 'city'),
      state: text(record, ...geo, 'state'),
      country: text(record, ...geo, 'country'),
      lat: number(record, ...geo, 'geolocation', 'lat'),
      lon: number(record, ...geo, 'geolocation', 'lon'),
    }),
    userAgent: text(record, 'client', 'userAgent', 'rawUserAgent'),
    requestId: text(record, 'debugContext', 'debugData', 'requestId'),
    targets: Array.isArray(targets)
      ? targets.map(
          (target: unknown) =>
            compact({
              id: text(target, 'id'),
              type: text(target, 'type'),
              alternateId: text(target, 'alternateId'),
              displayName: text(target, 'displayName'),
            }) ?? {},
        )
      : undefined,
  };
}
