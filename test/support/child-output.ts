import type { ChildProcess } from 'node:child_process';

/** How a child process ended (`code` is null when a signal ended it) and all it wrote. */
export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Everything a child spawned with piped stdout and stderr writes, until it closes; rejects when it
 * could not be started. `onStdout` sees the whole stdout so far after each chunk (to react to a line).
 */
export function childOutput(child: ChildProcess, onStdout?: (stdout: string) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      onStdout?.(stdout);
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
