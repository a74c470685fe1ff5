/**
 * A loopback SNS that speaks the query protocol of `Publish`, so the detections handler's real
 * `SNSClient` delivers its alerts here; the local runtime and the tests read them back as they are
 * published. The AWS CLI v2 checks it in test/aws/aws-cli-stand-ins.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody, type LoopbackServer } from '../aws/listen';

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SnsServer extends LoopbackServer {
  /** Every message published so far, in order. */
  readonly published: readonly PublishedMessage[];
  /**
   * Makes the next `times` publishes fail with a 403 `AuthorizationError`, as SNS answers a
   * publisher without `sns:Publish` on the topic; the SDK does not retry it, so a test stays fast.
   */
  refuse(times: number): void;
}

export async function startSnsServer(): Promise<SnsServer> {
  const published: PublishedMessage[] = [];
  let refusals = 0;
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const form = new URLSearchParams(body.toString('utf8'));
        if (form.get('Action') !== 'Publish') {
          return sendError(response, 400, 'InvalidAction', `This stand-in serves Publish only, not ${form.get('Action') ?? 'nothing'}.`);
        }
        if (refusals > 0) {
          refusals -= 1;
          return sendError(response, 403, 'AuthorizationError', 'The stand-in was told to refuse this publish.');
        }
        const attributes: Record<string, string> = {};
        for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index += 1) {
          attributes[form.get(`MessageAttributes.entry.${index}.Name`) ?? ''] =
            form.get(`MessageAttributes.entry.${index}.Value.StringValue`) ?? '';
        }
        const subject = form.get('Subject');
        published.push({
          topicArn: form.get('TopicArn') ?? '',
          ...(subject === null ? {} : { subject }),
          message: form.get('Message') ?? '',
          attributes,
        });
        response.setHeader('content-type', 'text/xml');
        response.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
            `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
        return undefined;
      },
      (error: unknown) => sendError(response, 500, 'InternalError', error instanceof Error ? error.message : String(error)),
    );
  });
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    published,
    refuse: (times) => {
      refusals = times;
    },
  };
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  response.statusCode = status;
  response.setHeader('content-type', 'text/xml');
  response.end(
    `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message.replace(/[<>&]/g, (character) => `&#${character.charCodeAt(0)};`)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}
