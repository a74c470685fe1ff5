import type { SourceConfig } from '../../../lambdas/core/ports';

/** How the source authenticates, in a word for tables: never any part of the credential. */
export function authKindOf(source: SourceConfig): 'api-token' | 'oauth' | 'oauth+dpop' {
  if (source.credential.kind === 'apiToken') return 'api-token';
  return source.credential.dpop ? 'oauth+dpop' : 'oauth';
}

/** The public facts of a source, as `list --json` prints them. */
export interface SourceSummary {
  readonly id: string;
  readonly label: string;
  readonly domain: string;
  readonly enabled: boolean;
  readonly auth: ReturnType<typeof authKindOf>;
  readonly dropOffMinutes: number;
  readonly backfillHours: number;
}

/** Only named, non-secret fields are copied: a new credential field can never leak into output by default. */
export function summarize(source: SourceConfig): SourceSummary {
  return {
    id: source.id,
    label: source.label,
    domain: source.domain,
    enabled: source.enabled,
    auth: authKindOf(source),
    dropOffMinutes: source.dropOffMinutes,
    backfillHours: source.backfillHours,
  };
}

/** A plain-text table: a header row and left-aligned columns, two spaces apart. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
