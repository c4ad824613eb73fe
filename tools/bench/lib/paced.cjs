'use strict';
/**
 * Traces made on schedule, as a service makes them: `trace()` is called `total` times at
 * `rate` a second, catching up every millisecond (so the rate holds when a timer is late),
 * then core is flushed and `done(made, elapsedSeconds)` called. Used by agent.cjs (service
 * rates) and agent-frames.cjs.
 */
function pacedTraces(core, rate, total, trace, done) {
  const t0 = process.hrtime.bigint();
  let made = 0;
  const tick = () => {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * rate));
    while (made < due) {
      trace();
      made++;
    }
    if (made < total) return void setTimeout(tick, 1);
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    core.flush(20_000).then(() => done(made, elapsed));
  };
  tick();
}

module.exports = { pacedTraces };
