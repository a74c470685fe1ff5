import type { BatchReport } from '../detections/run-batch';
import { emfDocument, type EmfDocument } from './emf';
import { METRIC_UNITS } from './metric-names';

/**
 * The detections Lambda's metrics for one batch, without dimensions (`[[]]`): the alerts it
 * raised, and the records it could not judge or whose alert it could not publish (a batch stopped
 * for redelivery counts one).
 */
export function detectionMetricsDocument(report: BatchReport, timestamp: number): EmfDocument {
  return emfDocument({
    timestamp,
    dimensions: {},
    metrics: {
      AlertsRaised: { value: report.alertsRaised, unit: METRIC_UNITS.AlertsRaised },
      DetectionErrors: {
        value: report.skipped.length + report.failedUpdates.length + (report.retryFrom ? 1 : 0),
        unit: METRIC_UNITS.DetectionErrors,
      },
    },
  });
}
