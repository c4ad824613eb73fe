// The incoming signed trace header alone (issue 15's header goal): core's `extract` of a
// Node-like `req.headers` carrying a distinct signed X-Trace-Info / X-Trace-HMAC each call
// (made beforehand with `signedPack`), per case: one key; the matching key third of three;
// a forged HMAC (served untraced). ns per header, alternated rounds; `--instructions`:
// instructions per header of the main thread under callgrind (lib/callgrind.cjs;
// load-independent), BENCH_IR_WARMUP (10000) warm-up + BENCH_IR_COUNT (10000) counted.
// BENCH_BEFORE=<a copy of packages/core (package.json + dist/) set aside before a change>:
// that build's `extract` too, in the same run (alternated rounds / counted in the same process).
// Bounded: BENCH_N (20000) headers a case, BENCH_ROUNDS (7).
'use strict';
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const core = require('@osprofiler/core');
const CG = require('./lib/callgrind.cjs');

const N = Number(process.env.BENCH_N || 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const IR_WARMUP = Number(process.env.BENCH_IR_WARMUP || 10_000);
const IR_COUNT = Number(process.env.BENCH_IR_COUNT || 10_000);
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;

const KEY = 'bench-hmac-key';
const BUILDS = [['this build', core.extract]];
if (BEFORE) BUILDS.push(['before', require(path.join(BEFORE, 'dist/index.js')).extract]);

/** `n` distinct `req.headers`-shaped objects, signed with `key` (a forged HMAC when `forge`). */
function headers(n, key, forge) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const signed = core.signedPack({ base_id: id, parent_id: id }, key);
    const hmac = forge ? (signed.hmac[0] === '0' ? '1' : '0') + signed.hmac.slice(1) : signed.hmac;
    // Flat strings read from bytes, as Node's HTTP parser gives them (signedPack's are
    // ropes, which the first read would flatten: a cost no server request pays).
    const flat = (s) => Buffer.from(s, 'latin1').toString('latin1');
    out[i] = { host: '127.0.0.1:8080', 'user-agent': 'wrk', 'x-trace-info': flat(signed.info), 'x-trace-hmac': flat(hmac) };
  }
  return out;
}

const CASES = [
  ['one key', [KEY], false, true],
  ['the matching key third of three', ['other-key-1', 'other-key-2', KEY], false, true],
  ['forged HMAC (untraced)', [KEY], true, false],
];

/** Runs `extract` over `hs[from, to)`; throws when a verdict is not the expected one. */
function pass(extract, hs, keys, traced, from, to) {
  for (let i = from; i < to; i++) {
    if ((extract(hs[i], keys) !== undefined) !== traced) throw new Error(`unexpected verdict at header ${i}`);
  }
  return to - from;
}

async function instructionsChild() {
  const steps = CG.stepper();
  for (const [label, keys, forge, traced] of CASES) {
    const hs = headers(IR_WARMUP + IR_COUNT, KEY, forge);
    for (const [build, extract] of BUILDS) {
      pass(extract, hs, keys, traced, 0, IR_WARMUP);
      await steps.step(`${build}: ${label}`, () => pass(extract, hs, keys, traced, IR_WARMUP, IR_WARMUP + IR_COUNT));
    }
  }
  steps.end();
  process.exit(0);
}

async function instructionsMain() {
  console.log(`signed trace header, extract() — instructions per header, main thread, callgrind (${CG.version()}), node ${process.version}, ${IR_WARMUP} warm-up + ${IR_COUNT} counted${BEFORE ? `; before: ${BEFORE}` : ''}`);
  await CG.runSteps(__filename, (label, per) => console.log(`  ${label.padEnd(48)} ${(per / 1000).toFixed(2).padStart(7)}k`));
}

async function main() {
  console.log(`signed trace header, extract() — ns per header, median of ${ROUNDS} rounds of ${N}, builds alternated; node ${process.version}${BEFORE ? `; before: ${BEFORE}` : ''}`);
  for (const [label, keys, forge, traced] of CASES) {
    const hs = headers(N, KEY, forge);
    const times = BUILDS.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [b, [, extract]] of BUILDS.entries()) {
        const t0 = process.hrtime.bigint();
        pass(extract, hs, keys, traced, 0, N);
        times[b].push(Number(process.hrtime.bigint() - t0) / N);
      }
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    console.log(`  ${label.padEnd(36)} ` + BUILDS.map(([build], b) => `${build} ${med(times[b]).toFixed(0)} ns`).join(', '));
  }
}

(process.env.BENCH_IR_CHILD ? instructionsChild : process.argv.includes('--instructions') ? instructionsMain : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
