import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startS3Server, type S3Server } from '../../local/aws/s3-server';
import { VirtualClock } from '../support/virtual-clock';

/**
 * The S3 stand-in against the real `@aws-sdk/client-s3`, which parses S3's REST/XML answers the
 * way it parses AWS's; what each answer must hold is from the S3 API reference
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html, API_GetObject.html,
 * API_HeadObject.html, API_DeleteObject.html, API_PutObjectTagging.html). The AWS CLI drives the
 * same requests in aws-cli-stand-ins.test.ts.
 */

const BUCKET = 'quarantine';
let clock: VirtualClock;
let server: S3Server;
let s3: S3Client;

beforeEach(async () => {
  clock = new VirtualClock(Date.parse('2026-03-04T05:06:07.890Z'));
  server = await startS3Server({ buckets: [BUCKET], clock });
  s3 = new S3Client({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
});

afterEach(async () => {
  s3.destroy();
  await server.close();
});

async function put(key: string, body = `body of ${key}`): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
}

describe('S3 stand-in', () => {
  it('dates objects: Last-Modified on GetObject and HeadObject, LastModified in ListObjectsV2, to the second', async () => {
    await put('acme/one.json');
    clock.advance(90_000);
    await put('acme/two.json');
    const second = new Date('2026-03-04T05:07:37.000Z');

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'acme/two.json' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'acme/two.json' }));
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));

    expect(got.LastModified).toEqual(second);
    expect(await got.Body?.transformToString()).toBe('body of acme/two.json');
    expect(head).toMatchObject({ LastModified: second, ContentLength: 'body of acme/two.json'.length, ContentType: 'application/json' });
    expect(Contents.map((object) => [object.Key, object.LastModified])).toEqual([
      ['acme/one.json', new Date('2026-03-04T05:06:07.000Z')],
      ['acme/two.json', second],
    ]);
  });

  it('rolls keys up into CommonPrefixes by delimiter, across pages where each prefix counts once', async () => {
    for (const key of ['acme/2026/01.json', 'acme/2026/02.json', 'acme/2027/01.json', 'acme/readme.json', 'beta/2026/01.json', 'top.json'])
      await put(key);
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'acme/', Delimiter: '/', MaxKeys: 1, ContinuationToken: token }),
      );
      pages.push(page);
      token = page.NextContinuationToken;
    } while (token !== undefined);

    expect(pages.map((page) => [page.KeyCount, page.IsTruncated])).toEqual([
      [1, true],
      [1, true],
      [1, false],
    ]);
    expect(pages.flatMap((page) => (page.CommonPrefixes ?? []).map((entry) => entry.Prefix))).toEqual(['acme/2026/', 'acme/2027/']);
    expect(pages.flatMap((page) => (page.Contents ?? []).map((entry) => entry.Key))).toEqual(['acme/readme.json']);

    const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((entry) => entry.Prefix)).toEqual(['acme/', 'beta/']);
    expect(top.Contents?.map((entry) => entry.Key)).toEqual(['top.json']);
    expect(top).toMatchObject({ Delimiter: '/', KeyCount: 3, IsTruncated: false });
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'acme/readme.json' }));
    expect(after.Contents?.map((entry) => entry.Key)).toEqual(['beta/2026/01.json', 'top.json']);
  });

  it('deletes an object with DeleteObject, and answers a missing key the same way (204)', async () => {
    await put('acme/one.json');

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'acme/one.json' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'acme/never.json' }));

    expect(server.objects(BUCKET).size).toBe(0);
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'acme/one.json' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('refuses sub-resource requests (?tagging) with S3’s NotImplemented, never taking them for PutObject or CreateBucket', async () => {
    await put('acme/one.json', 'the original');
    const before = server.objects(BUCKET).get('acme/one.json');

    await expect(
      s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'acme/one.json', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } })),
    ).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } });
    await expect(s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'acme/one.json' }))).rejects.toMatchObject({
      name: 'NotImplemented',
    });
    await expect(s3.send(new PutBucketTaggingCommand({ Bucket: 'not-a-bucket-yet', Tagging: { TagSet: [] } }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
    await expect(s3.send(new PutBucketTaggingCommand({ Bucket: BUCKET, Tagging: { TagSet: [] } }))).rejects.toMatchObject({
      name: 'NotImplemented',
    });

    expect(server.objects(BUCKET).get('acme/one.json')).toBe(before);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'acme/one.json' }))).Body?.transformToString()).toBe(
      'the original',
    );
    expect(server.objects('not-a-bucket-yet').size).toBe(0);
  });
});
