/** `okta-log-pipeline demo`'s command line: every usage error exits 2 before anything starts. */
import demo from '../../bin/cli/demo';

test.each([
  [['--bogus'], 'unknown option "--bogus"'],
  [['acme'], 'unknown option "acme"'],
  [['--'], 'unknown option "--"'],
  [['--out'], '--out needs a value'],
  [['--for='], '--for must be a number of seconds from 1 to 604800, got ""'],
  [['--interval', '5', '--interval=0'], '--interval must be a number of seconds from 1 to 3600, got "0"'],
  [['--quiet-org-stops-after', 'soon'], '--quiet-org-stops-after must be a number of seconds from 0 to 604800, got "soon"'],
])('%j is a usage error (exit 2) naming what is wrong, then the usage', async (args, message) => {
  const written: string[] = [];
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);

  const code = await demo(args);

  expect(code).toBe(2);
  expect(written.join('')).toMatch(
    new RegExp(`^okta-log-pipeline demo: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\nusage: okta-log-pipeline demo `),
  );
  jest.restoreAllMocks();
});
