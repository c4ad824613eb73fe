// Micro-benchmark of @osprofiler/logs: what the pino mixin and the winston format add to
// a log call, untraced (the "one lookup") and traced, as ratios against the same logger
// without them, measured in this process. Loggers write to a destination that drops lines.
'use strict';
const { AsyncLocalStorage } = require('node:async_hooks');
const core = require('@osprofiler/core');
const { logIds, pinoMixin, winstonFormat } = require('@osprofiler/logs');
const pino = require('pino');
const winston = require('winston');

const N = Number(process.env.BENCH_N || 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function ns(body, n) {
  const t0 = process.hrtime.bigint();
  body(n);
  return Number(process.hrtime.bigint() - t0) / n;
}
function measure(body, n = N) {
  body(Math.min(n, 20_000)); // warm up / let the JIT settle
  return median(Array.from({ length: ROUNDS }, () => ns(body, n)));
}
/** Plain and ours, round by round (the machine's load drifts), as medians and the median ratio. */
function pair(plain, ours, n = N) {
  plain(Math.min(n, 20_000));
  ours(Math.min(n, 20_000));
  const a = [];
  const b = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(ns(plain, n));
    b.push(ns(ours, n));
  }
  return { plain: median(a), ours: median(b), ratio: median(a.map((x, i) => b[i] / x)) };
}

let bytes = 0;
const pinoDest = { write(s) { bytes += s.length; } };
const plainPino = pino({}, pinoDest);
const mixedPino = pino({ mixin: pinoMixin }, pinoDest);
const logN = (logger) => (n) => { for (let i = 0; i < n; i++) logger.info('request handled'); };
// Winston formats run synchronously in log(); its transports write later, through streams
// that a tight loop would only fill. So the winston rows time the format pipeline alone.
const plainFormat = winston.format.json();
const ourFormat = winston.format.combine(winstonFormat(), winston.format.json());
const formatN = (fmt) => (n) => { for (let i = 0; i < n; i++) bytes += fmt.transform({ level: 'info', message: 'request handled' }, fmt.options) ? 1 : 0; };


const probe = new AsyncLocalStorage();
let sink = 0;
const lookup = (n) => { for (let i = 0; i < n; i++) if (probe.getStore() !== undefined) sink++; };
const ids = (n) => { for (let i = 0; i < n; i++) if (logIds() !== undefined) sink++; };

function rows() {
  const r = {};
  r.lookup = measure(lookup, N * 10);
  r.ids = measure(ids, N * 10);
  r.pino = pair(logN(plainPino), logN(mixedPino));
  r.winston = pair(formatN(plainFormat), formatN(ourFormat));
  return r;
}

async function main() {
  core.configure({ connectionString: 'memory://bench-logs', host: 'bench', flushIntervalMs: 1000 });
  await core.run({ hmacKey: 'k' }, async () => { core.traced('warm', () => 1); await null; });
  probe.run(1, () => {}); // the probe's lookup costs what a real one does
  const untraced = rows();
  const traced = await core.run({ hmacKey: 'k' }, () => core.traced('wsgi', () => rows()));
  const f = (x) => `${x.toFixed(1).padStart(8)} ns`;
  console.log(`@osprofiler/logs — node ${process.version}, N=${N}, rounds=${ROUNDS}, median ns per call`);
  console.log(`  ALS lookup (reference)                               ${f(untraced.lookup)}`);
  console.log(`  logIds(), untraced                                   ${f(untraced.ids)}  ${(untraced.ids / untraced.lookup).toFixed(2)}x lookup`);
  console.log(`  logIds(), traced                                     ${f(traced.ids)}`);
  for (const [name, key] of [['pino info()', 'pino'], ['winston format pipeline', 'winston']]) {
    for (const [label, r] of [['untraced', untraced], ['traced', traced]]) {
      const m = r[key];
      console.log(`  ${`${name}, ${label}: plain / with ours`.padEnd(52)} ${f(m.plain)} / ${f(m.ours)}  ${m.ratio.toFixed(2)}x`);
    }
  }
  if (bytes === 0) throw new Error('the loggers wrote nothing');
  await core.shutdown();
}
main().catch((e) => { console.error(e); process.exit(1); });
