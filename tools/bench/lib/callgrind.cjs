// Instruction counts under `valgrind --tool=callgrind --separate-threads=yes`, which the
// machine's other load does not change (wall-clock CPU does). Shared by
// compare/instructions.cjs (a server, counted per request) and db.cjs (counted per query).
// Instrumentation starts off (--instr-atstart=no: start-up and warm-up run ~10x faster);
// `on` + zero before the counted work, `dump` after it, `mainThreadTotal` reads the dump.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** valgrind's version line; throws with how to install it when missing. */
function version() {
  const r = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (r.error) throw new Error('valgrind is not installed: apt-get install -y valgrind');
  return r.stdout.trim();
}

/** Node running `argv` under callgrind, dumps to `${file}.<pid>.<n>-<thread>`. */
function spawnNode(file, argv, options) {
  return spawn('valgrind', ['--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', `--callgrind-out-file=${file}.%p`, process.execPath, ...argv], options);
}

function control(args, pid) {
  // The command is picked up when valgrind next polls; retry while it is not yet detected.
  for (let k = 0; k < 50; k++) {
    const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
    if (r.status === 0 && /OK/.test(r.stdout)) return;
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`callgrind_control ${args.join(' ')} ${pid} did not answer`);
}

/** Instrumentation on and counters zeroed. */
function start(pid) {
  control(['-i', 'on'], pid);
  control(['-z'], pid);
}

/** Dumps the counters and returns the main thread's total since `start`; `keep` copies the dump there. */
function dumpMainThread(file, pid, keep) {
  control(['-d'], pid);
  const dir = path.dirname(file);
  const dumps = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(`${file}.${pid}.`)) && f.endsWith('-01'));
  dumps.sort((a, b) => Number(a.split('.').at(-1).split('-')[0]) - Number(b.split('.').at(-1).split('-')[0]));
  const text = fs.readFileSync(path.join(dir, dumps.at(-1)), 'utf8');
  if (keep) fs.copyFileSync(path.join(dir, dumps.at(-1)), keep);
  return Number(/^summary: (\d+)/m.exec(text)[1]);
}

module.exports = { version, spawnNode, control, start, dumpMainThread };
