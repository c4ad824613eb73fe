// Preloaded (`node --require ./dd.cjs app.cjs`) for the dd-trace variant: dd-trace's
// documented one-line set-up, every trace kept (the default with no agent rates), sent to
// the bench's fake agent (DD_TRACE_AGENT_URL, set by run.cjs with telemetry, remote
// configuration, runtime metrics and the profiler off: nothing to answer them here).
'use strict';
const tracer = require('dd-trace').init({ startupLogs: false, logInjection: false });

globalThis.__bench = {
  traced: (name, fn) => tracer.trace(name, () => fn()),
  // The exporter's own flush (what its beforeExit hook calls), so the count after a
  // window does not wait for the 2 s flush interval.
  flush: () => new Promise((resolve) => tracer._tracer._exporter.flush(resolve)),
};
