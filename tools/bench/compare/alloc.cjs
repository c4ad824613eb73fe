// Preload of the `plain-alloc` control variant (not in the default lists): plain Express that
// allocates, per request, about what a traced /nested request allocates and drops (strings the
// size of its lines, then their join: BENCH_ALLOC_BYTES, default 11,700 bytes). Against plain it
// isolates what the young generation's churn alone costs the host, apart from any tracer work.
'use strict';
const http = require('node:http');
const BYTES = Number(process.env.BENCH_ALLOC_BYTES || 11_700);
// BENCH_ALLOC_KIND=array: the same bytes as one holey array (a few thousand instructions), to
// tell the bytes' cost from the string building's.
const ARRAY = process.env.BENCH_ALLOC_KIND === 'array';
const SLOTS = Math.max(1, Math.round((BYTES - 32) / 8));
const LINE = 290;
const N = Math.max(1, Math.round(BYTES / 2 / LINE));
let n = 0;
globalThis.__benchAllocSink = '';
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (ev) {
  if (ev === 'request' && ARRAY) globalThis.__benchAllocSink = new Array(SLOTS);
  else if (ev === 'request') {
    const parts = new Array(N);
    for (let i = 0; i < N; i++) parts[i] = String(n++).padEnd(LINE, 'x');
    globalThis.__benchAllocSink = parts.join('\n');
  }
  return emit.apply(this, arguments);
};
