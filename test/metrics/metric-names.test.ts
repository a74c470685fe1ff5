import {
  DETECTION_METRICS,
  METRIC_UNITS,
  METRICS_NAMESPACE,
  PULLER_RUN_METRICS,
  SOURCE_ID_DIMENSION,
  SOURCE_METRICS,
} from '../../lambdas/core/metrics/metric-names';

/**
 * The metrics contract as shipped. Every value is written out literally on purpose: users'
 * alarms, dashboards and Logs Insights queries name these, so a change to metric-names.ts that
 * renames, re-units or moves a metric between dimension sets must fail here, not only be
 * followed consistently by the Lambdas and the stack.
 */
describe('the metrics contract', () => {
  it('keeps the namespace and the dimension users alarm on', () => {
    expect(METRICS_NAMESPACE).toBe('OktaLogPipeline');
    expect(SOURCE_ID_DIMENSION).toBe('SourceId');
  });

  it('keeps every metric name with its unit', () => {
    expect(METRIC_UNITS).toEqual({
      EventsDelivered: 'Count',
      EventsInvalid: 'Count',
      PagesFetched: 'Count',
      RateLimited: 'Count',
      PullErrors: 'Count',
      AuthFailures: 'Count',
      PagingLoops: 'Count',
      SourceConfigErrors: 'Count',
      SourcesPulled: 'Count',
      LagSeconds: 'Seconds',
      DropOffBreached: 'None',
      AlertsRaised: 'Count',
      DetectionErrors: 'Count',
    });
  });

  it('keeps which metrics are per source and which are published without dimensions', () => {
    expect([...SOURCE_METRICS].sort()).toEqual(['AuthFailures', 'DropOffBreached', 'EventsInvalid', 'PagingLoops']);
    expect([...PULLER_RUN_METRICS].sort()).toEqual([
      'AuthFailures',
      'EventsDelivered',
      'EventsInvalid',
      'LagSeconds',
      'PagesFetched',
      'PagingLoops',
      'PullErrors',
      'RateLimited',
      'SourceConfigErrors',
      'SourcesPulled',
    ]);
    expect([...DETECTION_METRICS].sort()).toEqual(['AlertsRaised', 'DetectionErrors']);
  });
});
