#!/usr/bin/env node
/** The collector as a plain process (same flags as `osprofiler collector`). */
import { parseCollectorArgs, runCollectorProcess } from './run';

let options;
try {
  options = parseCollectorArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
runCollectorProcess(options).then((code) => {
  process.exitCode = code;
});
