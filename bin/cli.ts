import { main } from './cli/main';
import { stripControlCharacters } from '../lambdas/core/okta/org-text';

// The AWS SDK warns on Node 20 that its versions published after January 2027 will need Node 22.
// Ours are pinned, so for an operator the warning is only noise around the one clear line every
// command promises on stderr. Whoever sets the variable themselves keeps their choice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`okta-log-pipeline: ${stripControlCharacters(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  },
);
