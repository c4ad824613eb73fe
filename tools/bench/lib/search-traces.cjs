// Varied request traces for the search index's benches (search.cjs, redis-lines.cjs
// BENCH_IR_VARIED=1): 5 services, 20 hosts, a path and statement per trace, durations
// 1–1000 ms, 1 % failed — so the index's per-trace work is not flattered by one service
// and one host.
'use strict';
const { randomUUID } = require('node:crypto');

const SERVICES = ['api', 'billing', 'orders', 'search', 'users'];

/** Python's timestamp of epoch ms `ms` (µs kept). */
function pyTimestamp(ms) {
  const us = Math.round(ms * 1000);
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
}

/** Trace i, starting at t0 + 10 i ms: a wsgi root and `children` sql children inside it. */
function variedTrace(i, children, t0) {
  const baseId = randomUUID();
  const w = randomUUID();
  const start = t0 + i * 10;
  const dur = 1 + (i * 7919) % 1000;
  const service = SERVICES[i % SERVICES.length];
  const err = i % 100 === 0;
  const mk = (name, id, parent, t, info) => ({ name, base_id: baseId, trace_id: id, parent_id: parent, timestamp: pyTimestamp(t), info: { ...info, host: `host${i % 20}` }, project: 'bench', service });
  const out = [mk('wsgi-start', w, baseId, start, { request: { method: 'GET', path: `/items/${i}`, query: '', scheme: 'http' } })];
  for (let k = 0; k < children; k++) {
    const id = randomUUID();
    out.push(mk('sql-start', id, w, start + 1 + k, { db: { statement: `SELECT * FROM items WHERE id = ${i}` } }), mk('sql-stop', id, w, start + 1 + k + dur / 8, {}));
  }
  out.push(mk('wsgi-stop', w, baseId, start + dur, err ? { etype: 'ValueError', message: 'boom' } : { request: { route: '/items/:id' } }));
  return out;
}

module.exports = { SERVICES, pyTimestamp, variedTrace };
