#!/usr/bin/env node
import { main } from './index';

// A closed pipe (`osprofiler trace list | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exitCode ??= 0;
  else throw err;
});

main(process.argv).then(
  (code) => {
    // Set the code and let Node exit once stdout is drained (no process.exit).
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
