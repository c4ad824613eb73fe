// A store that keeps nothing, for benches that measure what happens before a driver (core's
// points and lines, the agent protocol): the bench says what it does with each batch, and
// every read is refused. Registered on the core build the bench loaded (its kit passed in:
// BENCH_CORE_DIST, trace-lines' and offload-spike's builds).
'use strict';

function rawPathExpected() {
  throw new Error('the raw path was expected');
}

/**
 * Registers `<scheme>://` on `instrument` (@osprofiler/core/instrument of that build).
 * `notifyLines(batch)` takes the raw path's batches (lines, baseIds, …); without it core
 * hands the driver notification objects, which go to `notify(batch)` — by default an error
 * there, where a bench expects the raw path.
 */
function registerNullDriver(instrument, scheme, { notifyLines, notify = rawPathExpected } = {}) {
  const keepsNothing = () => Promise.reject(new Error(`${scheme}:// keeps nothing`));
  instrument.registerDriver(scheme, () => ({
    scheme,
    notify,
    ...(notifyLines === undefined ? {} : { notifyLines }),
    getReport: keepsNothing,
    listTraces: keepsNothing,
    listErrorTraces: keepsNothing,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }));
}

module.exports = { registerNullDriver };
