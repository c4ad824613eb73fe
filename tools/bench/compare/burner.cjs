// The `plain-busy` control's sidecar: busy for BENCH_BUSY_DUTY_MS of every 10 ms (default 2:
// 20 % of a core, about what the agent and its redis-server use beside a traced /hello at
// these rates: 16.6 + 21.4 µs a request at ~4,600 req/s in session 14), walking a 16 MB
// array as a store's working set would. It adds no instruction to the server: whatever the
// server loses beside it is what sharing the two cores costs, not tracing.
'use strict';
const duty = Number(process.env.BENCH_BUSY_DUTY_MS || 2);
const a = new Uint32Array(4 * 1024 * 1024);
let i = 0;
setInterval(() => {
  const end = performance.now() + duty;
  while (performance.now() < end) {
    for (let k = 0; k < 4096; k++) {
      i = (i + 16411) % a.length;
      a[i]++;
    }
  }
}, 10);
process.on('disconnect', () => process.exit(0));
