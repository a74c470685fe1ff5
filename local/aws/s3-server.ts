import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody, type LoopbackServer } from './listen';

export interface S3ServerOptions {
  /** Buckets that exist from the start (CreateBucket adds more). */
  readonly buckets?: readonly string[];
}

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface S3Server extends LoopbackServer {
  /** The objects of one bucket by key, for assertions that do not go through the SDK. */
  objects(bucket: string): ReadonlyMap<string, StoredObject>;
  /** The next `times` PutObject calls answer 503 SlowDown, as S3 does under load. */
  failPuts(times: number): void;
}

/** ListObjectsV2's own page ceiling. */
const MAX_KEYS = 1000;

/**
 * A minimal loopback S3 (path-style addressing, the REST/XML protocol): CreateBucket, PutObject,
 * GetObject, HeadObject, ListObjectsV2, with S3's error shapes. Enough for the quarantine; use
 * `forcePathStyle: true` on the client.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  for (const bucket of options.buckets ?? []) buckets.set(bucket, new Map());
  let failingPuts = 0;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://s3.local');
    const [bucketName = '', ...keyParts] = url.pathname.slice(1).split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    const body = await readBody(request);
    const bucket = buckets.get(bucketName);
    const method = request.method ?? 'GET';

    if (method === 'PUT' && key === '') {
      if (!buckets.has(bucketName)) buckets.set(bucketName, new Map());
      response.setHeader('location', `/${bucketName}`);
      return sendXml(response, 200, '');
    }
    if (bucket === undefined) return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucketName);

    if (method === 'PUT') {
      if (failingPuts > 0) {
        failingPuts -= 1;
        return sendError(response, 503, 'SlowDown', 'Please reduce your request rate.', key);
      }
      const content = decodeAwsChunked(request, body);
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      bucket.set(key, { body: content, contentType: String(request.headers['content-type'] ?? 'application/octet-stream'), etag });
      response.setHeader('etag', etag);
      return sendXml(response, 200, '');
    }
    if ((method === 'GET' || method === 'HEAD') && key !== '') {
      const object = bucket.get(key);
      if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.', key, method === 'HEAD');
      response.statusCode = 200;
      response.setHeader('content-type', object.contentType);
      response.setHeader('content-length', object.body.length);
      response.setHeader('etag', object.etag);
      response.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    if (method === 'GET' && url.searchParams.get('list-type') === '2') {
      return sendXml(response, 200, listObjectsV2(bucketName, bucket, url.searchParams));
    }
    return sendError(response, 501, 'NotImplemented', `This stand-in does not implement ${method} ${url.pathname}${url.search}.`, key);
  }

  const server = createServer((request, response) => void handle(request, response));
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    objects: (bucket) => buckets.get(bucket) ?? new Map(),
    failPuts(times) {
      failingPuts += times;
    },
  };
}

function listObjectsV2(bucketName: string, bucket: Map<string, StoredObject>, query: URLSearchParams): string {
  const prefix = query.get('prefix') ?? '';
  const maxKeys = Math.min(Number(query.get('max-keys') ?? MAX_KEYS), MAX_KEYS);
  const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
  const keys = [...bucket.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page
    .map((key) => {
      const object = bucket.get(key) as StoredObject;
      return `<Contents><Key>${escapeXml(key)}</Key><ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
    `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${escapeXml(page[page.length - 1] ?? '')}</NextContinuationToken>` : ''}` +
    `${contents}</ListBucketResult>`
  );
}

/**
 * The SDK may stream a body with `content-encoding: aws-chunked` (hex size line, data, and a
 * trailer carrying the checksum); the stored object is the data alone.
 */
function decodeAwsChunked(request: IncomingMessage, body: Buffer): Buffer {
  if (!String(request.headers['content-encoding'] ?? '').includes('aws-chunked')) return body;
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '0', 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function sendXml(response: ServerResponse, status: number, xml: string): void {
  response.statusCode = status;
  response.setHeader('x-amz-request-id', randomUUID());
  if (xml !== '') response.setHeader('content-type', 'application/xml');
  response.end(xml);
}

function sendError(response: ServerResponse, status: number, code: string, message: string, resource: string, headOnly = false): void {
  response.statusCode = status;
  response.setHeader('x-amz-request-id', randomUUID());
  response.setHeader('content-type', 'application/xml');
  response.end(
    headOnly
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource></Error>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}
