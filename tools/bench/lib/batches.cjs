// Realistic notification batches for the driver benches (drivers.cjs, sql-lines.cjs):
// traces of 5 nested spans (wsgi → rpc → driver → db → sql), 10 notifications each.
'use strict';
const { randomUUID } = require('node:crypto');
const instrument = require('@osprofiler/core/instrument');

const POINTS_PER_TRACE = 10;

/** `size` notifications (a multiple of 10): size / 10 traces; `onTrace(baseId)` sees each trace's id. */
function traceBatch(size, host, onTrace) {
  const out = new Array(size);
  const t0 = Date.now();
  for (let i = 0; i < size; i += POINTS_PER_TRACE) {
    const base = randomUUID();
    if (onTrace) onTrace(base);
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const kinds = ['wsgi', 'rpc', 'driver', 'db', 'sql'];
    for (let s = 0; s < 5; s++) {
      const parent = s === 0 ? base : ids[s - 1];
      const info =
        s === 0 ? { request: { method: 'GET', path: `/orders/${i}`, query: '', scheme: 'http' } }
        : s === 4 ? { db: { statement: 'select * from "orders" where "id" = ?' } }
        : { function: { name: `svc.Orders.method${s}` } };
      const ts = (k) => instrument.formatTimestamp(t0 + s + k / 1000);
      out[i + s] = { name: `${kinds[s]}-start`, base_id: base, trace_id: ids[s], parent_id: parent, timestamp: ts(0), info: { ...info, host }, project: 'bench', service: 'orders' };
      out[i + 9 - s] = { name: `${kinds[s]}-stop`, base_id: base, trace_id: ids[s], parent_id: parent, timestamp: ts(500), info: { host }, project: 'bench', service: 'orders' };
    }
  }
  return out;
}

module.exports = { POINTS_PER_TRACE, traceBatch };
