#!/usr/bin/env node
/** The agent process `ensureAgent` starts (same flags as `osprofiler agent`). */
import { parseDaemonArgs, runAgentProcess } from './run';

let options;
try {
  options = parseDaemonArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
runAgentProcess(options).then((code) => {
  process.exitCode = code;
});
