/** Local adapters of the core's ports, for the CLI: a JSON state file, NDJSON records and quarantine. */
export { FileCursorStore, StateFileError } from './file-cursor-store';
export { NdjsonOutput } from './ndjson-output';
export { NdjsonQuarantine } from './ndjson-quarantine';
export { NdjsonRecordSink } from './ndjson-record-sink';
