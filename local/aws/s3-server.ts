import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock } from '../../lambdas/core/clock';
import type { Clock } from '../../lambdas/core/ports';
import { createStandInServer, listenOnLoopback, readBody, type LoopbackServer } from './listen';

export interface S3ServerOptions {
  /** Buckets that exist from the start (CreateBucket adds more). */
  readonly buckets?: readonly string[];
  /** Dates `Last-Modified`. */
  readonly clock?: Clock;
}

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  /** Epoch ms, whole seconds: S3 dates objects to the second. */
  readonly lastModified: number;
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
 * Query parameters that leave a request what its method and path say (PutObject, GetObject,
 * HeadObject, DeleteObject): `x-id` is the operation name the AWS SDK for JavaScript v3 adds.
 * Any other parameter on an object names a sub-resource (`?tagging`, `?acl`, `?retention`,
 * `?uploads`, ...), a different operation that must never be taken for the plain one.
 */
const OBJECT_QUERY = new Set(['x-id']);

/** The parameters of ListObjectsV2 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html). */
const LIST_V2_QUERY = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);

/**
 * A minimal loopback S3 (path-style addressing, the REST/XML protocol): CreateBucket, HeadBucket,
 * PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2 (prefix, delimiter with
 * CommonPrefixes, pagination, start-after, `encoding-type=url`), with S3's error shapes and dates
 * (`Last-Modified` on GET and HEAD, `LastModified` in listings). Every other request, sub-resources
 * such as `?tagging` included, is refused with S3's 501 `NotImplemented` (the code and status AWS
 * answers for functionality it does not implement: "An error occurred (NotImplemented) ... A header
 * you provided implies functionality that is not implemented", iann0036/iamlive issue 54) and
 * changes nothing. Use `forcePathStyle: true` on the client (`addressing_style = path` for the AWS CLI).
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const clock = options.clock ?? systemClock;
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
    const query = [...url.searchParams.keys()];
    const onlyQuery = (allowed: ReadonlySet<string>): boolean => query.every((name) => allowed.has(name));
    const notImplemented = (): void =>
      sendError(
        response,
        501,
        'NotImplemented',
        `This stand-in does not implement ${method} ${url.pathname}${url.search}.`,
        url.pathname,
        method === 'HEAD',
      );

    if (key === '') {
      if (method === 'PUT' && query.length === 0) {
        if (!buckets.has(bucketName)) buckets.set(bucketName, new Map());
        response.setHeader('location', `/${bucketName}`);
        return sendXml(response, 200, '');
      }
      if (bucket === undefined)
        return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucketName, method === 'HEAD');
      if (method === 'HEAD' && query.length === 0) return sendXml(response, 200, '');
      if (method === 'GET' && url.searchParams.get('list-type') === '2' && onlyQuery(LIST_V2_QUERY)) {
        const listing = listObjectsV2(bucketName, bucket, url.searchParams);
        return 'error' in listing
          ? sendError(response, 400, 'InvalidArgument', listing.error, bucketName)
          : sendXml(response, 200, listing.xml);
      }
      return notImplemented();
    }
    if (bucket === undefined)
      return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucketName, method === 'HEAD');
    if (!onlyQuery(OBJECT_QUERY)) return notImplemented();

    if (method === 'PUT') {
      if (failingPuts > 0) {
        failingPuts -= 1;
        return sendError(response, 503, 'SlowDown', 'Please reduce your request rate.', key);
      }
      const content = decodeAwsChunked(request, body);
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      const lastModified = Math.floor(clock.now() / 1000) * 1000;
      bucket.set(key, {
        body: content,
        contentType: String(request.headers['content-type'] ?? 'application/octet-stream'),
        etag,
        lastModified,
      });
      response.setHeader('etag', etag);
      return sendXml(response, 200, '');
    }
    if (method === 'GET' || method === 'HEAD') {
      const object = bucket.get(key);
      if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.', key, method === 'HEAD');
      response.statusCode = 200;
      response.setHeader('x-amz-request-id', randomUUID());
      response.setHeader('content-type', object.contentType);
      response.setHeader('content-length', object.body.length);
      response.setHeader('etag', object.etag);
      // An HTTP-date (RFC 9110), as S3 sends it: "Tue, 01 Dec 2026 20:11:09 GMT".
      response.setHeader('last-modified', new Date(object.lastModified).toUTCString());
      response.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    if (method === 'DELETE') {
      // S3 answers 204 whether or not the key existed, in a bucket without versioning: "The DELETE
      // operation removes the null version (if there is one)" (the DeleteObject reference, quoted
      // in adobe/s3mock issue 47).
      bucket.delete(key);
      response.statusCode = 204;
      response.setHeader('x-amz-request-id', randomUUID());
      response.end();
      return;
    }
    return notImplemented();
  }

  const server = createStandInServer(handle);
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    objects: (bucket) => buckets.get(bucket) ?? new Map(),
    failPuts(times) {
      failingPuts += times;
    },
  };
}

/** Where a page ends: after this key or common prefix; a common prefix also covers every key under it. */
interface ListPosition {
  readonly after: string;
  readonly commonPrefix?: string;
}

function listObjectsV2(bucketName: string, bucket: Map<string, StoredObject>, query: URLSearchParams): { xml: string } | { error: string } {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const startAfter = query.get('start-after') ?? '';
  const maxKeysText = query.get('max-keys') ?? String(MAX_KEYS);
  const requestedMaxKeys = Number(maxKeysText);
  if (!/^\d+$/.test(maxKeysText) || !Number.isSafeInteger(requestedMaxKeys))
    return { error: 'Provided max-keys not an integer or within integer range' };
  const maxKeys = Math.min(requestedMaxKeys, MAX_KEYS);
  const token = query.get('continuation-token');
  const encodingType = query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') return { error: 'Invalid Encoding Method specified in Request' };
  let position: ListPosition;
  if (token === null) {
    position = { after: startAfter };
  } else {
    const decoded = decodeToken(token);
    if (decoded === undefined) return { error: 'The continuation token provided is incorrect' };
    position = decoded;
  }
  const encode = (text: string): string => (encodingType === 'url' ? encodeURIComponent(text).replace(/%2F/g, '/') : text);

  const keys = [...bucket.keys()]
    .filter(
      (key) =>
        key.startsWith(prefix) && key > position.after && !(position.commonPrefix !== undefined && key.startsWith(position.commonPrefix)),
    )
    .sort();
  const contents: string[] = [];
  const commonPrefixes: string[] = [];
  let last: ListPosition | undefined;
  let truncated = false;
  for (const key of keys) {
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut < 0 ? undefined : key.slice(0, cut + delimiter.length);
    // Keys under the common prefix just listed are rolled up into it.
    if (commonPrefix !== undefined && commonPrefix === last?.commonPrefix) continue;
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix === undefined) {
      const object = bucket.get(key) as StoredObject;
      contents.push(
        `<Contents><Key>${escapeXml(encode(key))}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified>` +
          `<ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
      last = { after: key };
    } else {
      commonPrefixes.push(`<CommonPrefixes><Prefix>${escapeXml(encode(commonPrefix))}</Prefix></CommonPrefixes>`);
      last = { after: commonPrefix, commonPrefix };
    }
  }
  const optional = (name: string, value: string | null): string =>
    value === null || value === '' ? '' : `<${name}>${escapeXml(value)}</${name}>`;
  return {
    xml:
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(encode(prefix))}</Prefix>${optional('Delimiter', delimiter === '' ? null : encode(delimiter))}` +
      `${optional('StartAfter', startAfter === '' ? null : encode(startAfter))}${optional('ContinuationToken', token)}${optional('EncodingType', encodingType)}` +
      `<KeyCount>${contents.length + commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
      `${truncated && last !== undefined ? `<NextContinuationToken>${escapeXml(encodeToken(last))}</NextContinuationToken>` : ''}` +
      `${contents.join('')}${commonPrefixes.join('')}</ListBucketResult>`,
  };
}

function encodeToken(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64');
}

function decodeToken(token: string): ListPosition | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown; commonPrefix?: unknown };
    if (typeof parsed.after !== 'string') return undefined;
    return typeof parsed.commonPrefix === 'string' ? { after: parsed.after, commonPrefix: parsed.commonPrefix } : { after: parsed.after };
  } catch {
    return undefined;
  }
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
  const requestId = randomUUID();
  response.statusCode = status;
  response.setHeader('x-amz-request-id', requestId);
  response.setHeader('content-type', 'application/xml');
  response.end(
    headOnly
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}
