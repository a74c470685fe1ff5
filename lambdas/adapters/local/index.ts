/** Local adapters of the core's ports, for the CLI: a JSON state file or an in-process cursor, NDJSON records and quarantine, a local archive. */
export { FileCursorStore, StateFileError } from './file-cursor-store';
export { MemoryCursorStore } from './memory-cursor-store';
export { NdjsonOutput } from './ndjson-output';
export { NdjsonQuarantine } from './ndjson-quarantine';
export { NdjsonRecordSink } from './ndjson-record-sink';
export { LocalArchive, TeeRecordSink } from './local-archive';
