/**
 * A loopback server that speaks the SNS query protocol for `Publish`, so that the handler's real
 * `SNSClient` is exercised end to end. `refuse` makes the next publishes fail with a 403
 * `AuthorizationError` (not retried by the SDK, so tests stay fast).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject: string | undefined;
  readonly message: string;
  readonly attributes: Record<string, string>;
}

export interface SnsServer {
  readonly endpoint: string;
  readonly published: PublishedMessage[];
  refuse(times: number): void;
  close(): Promise<void>;
}

export async function startSnsServer(): Promise<SnsServer> {
  const published: PublishedMessage[] = [];
  let refusals = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      response.setHeader('content-type', 'text/xml');
      if (form.get('Action') !== 'Publish') {
        response.statusCode = 400;
        response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        return;
      }
      if (refusals > 0) {
        refusals -= 1;
        response.statusCode = 403;
        response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized to publish</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        return;
      }
      const attributes: Record<string, string> = {};
      for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index += 1) {
        attributes[form.get(`MessageAttributes.entry.${index}.Name`) ?? ''] = form.get(`MessageAttributes.entry.${index}.Value.StringValue`) ?? '';
      }
      published.push({
        topicArn: form.get('TopicArn') ?? '',
        subject: form.get('Subject') ?? undefined,
        message: form.get('Message') ?? '',
        attributes,
      });
      response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${published.length}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    published,
    refuse: (times) => {
      refusals = times;
    },
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
