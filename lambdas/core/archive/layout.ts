/**
 * Where an archived record goes, the same in S3 (written by Amazon Data Firehose) and in a local
 * archive directory (written by `npm start -- --archive DIR` and `pull --archive DIR`):
 *
 *   <table>/dt=<UTC date of p_event_time>/<object>.gz     gzip NDJSON, one record per line
 *
 * Partitioned by the EVENT's date, not by arrival: Firehose's dynamic partitioning evaluates
 * `ARCHIVE_PARTITION_JQ` on every record, so an event Okta stores (or the puller delivers) days
 * late still lands in the partition of its own date, and a query bounded on `p_event_time` with
 * the matching `dt` range finds it without a margin. Athena's partition projection computes the
 * `dt` values from the query's range, so no crawler or partition registration is needed when a
 * late event opens an old partition again.
 * https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-kinesis-firehose-example-using-custom-prefixes-and-dynamic-partitioning.html
 */
import archiveTables from '../../../schemas/generated/archive-tables.json';

const oktaTable = archiveTables.find((table) => table.logType === 'Okta.SystemLog');
if (oktaTable === undefined) throw new Error('schemas/generated/archive-tables.json has no Okta.SystemLog table: run npm run schemas');

/** The archive's one table (the puller emits Okta.SystemLog records only), as generated from the YAML. */
export const ARCHIVE_TABLE = oktaTable;

const [partitionKey] = oktaTable.partitionKeys;
if (partitionKey === undefined) throw new Error('the archive table has no partition key: run npm run schemas');

/** The partition column, `dt`. */
export const ARCHIVE_PARTITION_KEY = partitionKey.name;

/** The Firehose JQ 1.6 query of the `dt` partition key: the date part of the RFC 3339 UTC `p_event_time`. */
export const ARCHIVE_PARTITION_JQ = '.p_event_time[0:10]';

/** The object key prefix of a partition: `<table>/dt=<date>/`. */
export function archivePartitionPrefix(date: string): string {
  return `${ARCHIVE_TABLE.tableName}/${ARCHIVE_PARTITION_KEY}=${date}/`;
}

/** The same prefix with Firehose's placeholder for the partition key. */
export const ARCHIVE_FIREHOSE_PREFIX = archivePartitionPrefix('!{partitionKeyFromQuery:dt}');

/** Records Firehose could not partition (no usable `p_event_time`) go under this prefix instead. */
export const ARCHIVE_ERROR_PREFIX = 'errors/';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The `dt` of a record: what `ARCHIVE_PARTITION_JQ` yields, or undefined when that is not a date
 * (Firehose would then deliver the record under the error prefix).
 */
export function archivePartitionOf(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null || !('p_event_time' in record)) return undefined;
  const eventTime = record.p_event_time;
  if (typeof eventTime !== 'string') return undefined;
  const date = eventTime.slice(0, 10);
  return DATE.test(date) ? date : undefined;
}
