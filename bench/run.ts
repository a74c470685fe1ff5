/**
 * `npm run bench`: runs every benchmark section, prints each one's table, and ends with one JSON
 * line that merges the sections' figures (`{"validate": {...}, "pull": {...}, ...}`).
 * Figures are printed, never asserted: timing goals are read by people, not by tests.
 */
import type { BenchSection } from './section';
import { detectBench } from './detect';
import { pullBench } from './pull';
import { lambdaBench } from './lambda';
import { validateBench } from './validate';

// Children (the bundled puller) inherit this: the SDK's Node 22 notice is noise in a figures table.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SECTIONS: BenchSection[] = [validateBench, detectBench, lambdaBench, pullBench];

async function main(): Promise<void> {
  const summary: Record<string, Record<string, number>> = {};
  for (const section of SECTIONS) {
    process.stdout.write(`\n== ${section.name}\n`);
    const figures = await section.run((line) => process.stdout.write(`${line}\n`));
    summary[section.name] = figures;
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
