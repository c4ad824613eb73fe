// `npm run bench`: runs each benchmark in its own process (so one cannot warm the other).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
let failed = 0;
for (const f of readdirSync(dir).filter((f) => /\.(c|m)?js$/.test(f) && f !== 'run.mjs').sort()) {
  if (only && !f.includes(only)) continue;
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit', timeout: 600_000 });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
