/**
 * `okta-log-pipeline validate [FILE|-] [--log-type T] [--out FILE|-] [--quarantine FILE]`:
 * checks NDJSON events against the log schema and writes exactly the records the stream would
 * receive. Streams its input, so files of any size work in constant memory.
 */
import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { systemClock } from '../../lambdas/core/clock';
import type { EventProcessor, NormaliseContext } from '../../lambdas/core/ports';
import { UnknownLogTypeError, eventProcessorFor, knownLogTypes } from '../../lambdas/core/schema';
import { rawEventOfText } from '../../lambdas/core/okta/json-array-scanner';
import { terminalSafeJson } from '../../lambdas/core/okta/org-text';
import { DEFAULT_EVENT_LIMITS, examineEvent } from '../../lambdas/core/pull/examine-event';
import { jsonTextString } from '../../lambdas/core/pull/quarantine-document';
import { CommandLineError, parseCommandLine } from './args';

const DEFAULT_LOG_TYPE = 'Okta.SystemLog';
/** What `p_source_id` / `p_source_label` say for records produced from a file. */
const DEFAULT_SOURCE_ID = 'local';
const DEFAULT_SOURCE_LABEL = 'okta-log-pipeline validate';

const USAGE = `usage: okta-log-pipeline validate [FILE|-] [--log-type TYPE] [--out FILE|-] [--quarantine FILE]
                                  [--source-id ID] [--source-label LABEL]
  Reads NDJSON events (one JSON object a line) from FILE, or stdin when FILE is "-" or absent,
  and checks each against the log schema (default ${DEFAULT_LOG_TYPE}).
  --out FILE|-       each valid event's normalised record, as the stream receives it (default stdout)
  --quarantine FILE  each invalid event as {"event": <raw>, "errors": ["<field>: <reason>", ...]}
                     (default stderr); a line that is not JSON is invalid, with the parse error
  --source-id, --source-label   the p_source_id / p_source_label to stamp (default "${DEFAULT_SOURCE_ID}")
  Blank lines are skipped and not counted. Prints "N valid, M invalid" on stderr.
  Exit status: 0 all valid, 3 some invalid, 2 usage error or unreadable input.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Input or output that cannot be read or written: exit 2 with one line. */
class StreamError extends Error {
  override readonly name = 'StreamError';
}

interface Options {
  input: string;
  logType: string;
  out: string;
  quarantine: string | undefined;
  sourceId: string;
  sourceLabel: string;
}

const VALUE_FLAGS = ['--log-type', '--out', '--quarantine', '--source-id', '--source-label'];

function parseArgs(args: readonly string[]): Options {
  // The last of a repeated flag counts.
  const parsed = parseCommandLine(args, { values: VALUE_FLAGS, repeated: 'last' });
  const positional = parsed.positionals;
  if (positional.length > 1) throw new UsageError(`expected at most one input file, got ${positional.join(', ')}`);
  return {
    input: positional[0] ?? '-',
    logType: parsed.value('--log-type') ?? DEFAULT_LOG_TYPE,
    out: parsed.value('--out') ?? '-',
    quarantine: parsed.value('--quarantine'),
    sourceId: parsed.value('--source-id') ?? DEFAULT_SOURCE_ID,
    sourceLabel: parsed.value('--source-label') ?? DEFAULT_SOURCE_LABEL,
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function openInput(input: string): Promise<Readable> {
  if (input === '-') return process.stdin;
  try {
    const handle = await fs.open(input, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new StreamError(`cannot read ${input}: it is a directory`);
    }
    return handle.createReadStream();
  } catch (error) {
    if (error instanceof StreamError) throw error;
    throw new StreamError(`cannot read ${input}: ${reason(error)}`, { cause: error });
  }
}

/** A file we write to: created up front so that a bad path is a usage error before any work. */
async function openOutput(file: string, fallback: Writable): Promise<Writable> {
  if (file === '-') return fallback;
  const stream = createWriteStream(file);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new StreamError(`cannot write ${file}: ${reason(error)}`, { cause: error });
  }
  return stream;
}

/** Writes `text`, waiting for the stream to drain when its buffer is full (backpressure). */
async function write(stream: Writable, text: string): Promise<void> {
  if (text === '' || stream.write(text)) return;
  await once(stream, 'drain');
}

/**
 * The NDJSON line for one input line, and whether it was valid. Blank lines give undefined. The
 * line goes through the puller's own examination: an event too large or too deep, not JSON, or
 * one the processor cannot handle is reported on its line, and the lines after it go on.
 */
function processLine(processor: EventProcessor, line: string, context: NormaliseContext): { valid: boolean; text: string } | undefined {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (trimmed.trim() === '') return undefined;
  const verdict = examineEvent(rawEventOfText(trimmed), processor, context, DEFAULT_EVENT_LIMITS);
  if ('record' in verdict) return { valid: true, text: `${verdict.record.json}\n` };
  return { valid: false, text: `{"event":${jsonTextString(verdict.eventJson)},"errors":${JSON.stringify(verdict.errors)}}\n` };
}

async function run(options: Options): Promise<number> {
  let processor: EventProcessor;
  try {
    processor = eventProcessorFor(options.logType);
  } catch (error) {
    if (error instanceof UnknownLogTypeError) throw new UsageError(`--log-type: ${error.message}`);
    throw error;
  }
  const input = await openInput(options.input);
  const out = await openOutput(options.out, process.stdout);
  const quarantine = options.quarantine === undefined ? process.stderr : await openOutput(options.quarantine, process.stderr);
  let valid = 0;
  let invalid = 0;
  let pending = '';
  const handleLines = async (lines: readonly string[]): Promise<void> => {
    const context: NormaliseContext = { sourceId: options.sourceId, sourceLabel: options.sourceLabel, parseTime: systemClock.now() };
    let records = '';
    let rejected = '';
    for (const line of lines) {
      const outcome = processLine(processor, line, context);
      if (outcome === undefined) continue;
      if (outcome.valid) {
        valid += 1;
        records += outcome.text;
      } else {
        invalid += 1;
        rejected += outcome.text;
      }
    }
    // What may reach a terminal has its C1 controls and bidi overrides escaped (the same JSON);
    // a file gets the records byte for byte as the stream receives them.
    await write(out, out === process.stdout ? terminalSafeJson(records) : records);
    await write(quarantine, quarantine === process.stderr ? terminalSafeJson(rejected) : rejected);
  };
  input.setEncoding('utf8');
  try {
    for await (const chunk of input) {
      const lines = `${pending}${String(chunk)}`.split('\n');
      pending = lines.pop() ?? '';
      await handleLines(lines);
    }
  } catch (error) {
    throw new StreamError(`cannot read ${options.input === '-' ? 'stdin' : options.input}: ${reason(error)}`, { cause: error });
  }
  await handleLines([pending]);
  for (const stream of [out, quarantine]) {
    if (stream !== process.stdout && stream !== process.stderr) {
      stream.end();
      await once(stream, 'finish');
    }
  }
  process.stderr.write(`${valid} valid, ${invalid} invalid\n`);
  return invalid === 0 ? 0 : 3;
}

export default async function validate(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\nLog types: ${knownLogTypes().join(', ')}\n`);
    return 0;
  }
  try {
    return await run(parseArgs(args));
  } catch (error) {
    if (error instanceof UsageError || error instanceof CommandLineError) {
      process.stderr.write(`okta-log-pipeline validate: ${error.message} (see --help)\n`);
      return 2;
    }
    if (error instanceof StreamError) {
      process.stderr.write(`okta-log-pipeline validate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
