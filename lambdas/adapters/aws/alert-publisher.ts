/** Publishes alert messages to the alerts SNS topic as JSON. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { alertMessageText } from '../../core/detections/alert';
import type { AlertMessage, AlertPublisher } from '../../core/detections/ports';
import { describeAwsError } from './errors';

/** SNS caps an e-mail subject at 100 printable ASCII characters, without line breaks. */
const MAX_SUBJECT_LENGTH = 100;

export class AlertPublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertPublishError';
  }
}

/** The subject e-mail subscribers see: severity and title, reduced to what SNS accepts. */
export function alertSubject(message: AlertMessage): string {
  const prefix = message.status === 'new' ? '' : 'Updated: ';
  const subject = `${prefix}[${message.severity}] ${message.title}`.replace(/[^\x20-\x7e]/g, '?');
  return subject.length <= MAX_SUBJECT_LENGTH ? subject : `${subject.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: AlertMessage): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: alertSubject(message),
          Message: alertMessageText(message),
          // Attributes let subscriptions filter, e.g. page only on HIGH or only on new alerts.
          MessageAttributes: {
            ruleId: { DataType: 'String', StringValue: message.ruleId },
            severity: { DataType: 'String', StringValue: message.severity },
            status: { DataType: 'String', StringValue: message.status },
          },
        }),
      );
    } catch (error) {
      throw new AlertPublishError(
        `alerts topic ${this.topicArn}: Publish failed for alert ${message.alertId} (${message.ruleId}): ${describeAwsError(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}
