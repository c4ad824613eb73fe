// Preloaded after @osprofiler/auto (and @osprofiler/knex/register, @osprofiler/agent/register
// or @osprofiler/drivers/register) for the OSProfiler.js variants: configuration comes from
// OSPROFILER_* as in automatic mode; this only gives the app its nested-call API and a flush,
// and with BENCH_CLIENT_STATE=1 the agent:// client's state sampled through a window.
'use strict';
const core = require('@osprofiler/core');

globalThis.__bench = {
  traced: (name, fn) => core.traced('fn', { function: { name } }, fn),
  flush: () => core.flush(30_000),
};

// BENCH_TRACE_ONCE=1 (the noheader-once controls): one trace made here at start-up, as a
// process tracing on signed headers has after its first traced request.
if (process.env.BENCH_TRACE_ONCE === '1') {
  core.run({ hmacKey: 'bench-once' }, () => {
    core.start('once', {});
    core.stop();
  });
}

// BENCH_CLIENT_STATE=1 (agent:// variants): the client's public state() every 10 ms between
// the orchestrator's 'sample' and its 'flush' — points queued, points in flight, and whether
// the client held frames back (its in-flight window full, or its socket blocked until the
// agent reads): a lagging agent shows there before it shows anywhere else. The client is the driver automatic mode
// made, found when core first hands it a batch.
if (process.env.BENCH_CLIENT_STATE === '1' && /^agent:/.test(process.env.OSPROFILER_CONNECTION_STRING ?? '')) {
  const { AgentClientDriver } = require('@osprofiler/agent');
  let client;
  const take = AgentClientDriver.prototype.notifyLines;
  AgentClientDriver.prototype.notifyLines = function (batch) {
    client = this;
    return take.call(this, batch);
  };
  let timer;
  let sum;
  globalThis.__bench.sampleClient = () => {
    sum = { samples: 0, queued: 0, inflight: 0, full: 0, maxQueued: 0 };
    clearInterval(timer);
    timer = setInterval(() => {
      if (client === undefined) return;
      const st = client.state();
      sum.samples++;
      sum.queued += st.queued;
      sum.inflight += st.inflight;
      if (st.inflight >= client.options.maxInflightPoints || st.blocked) sum.full++;
      if (st.queued > sum.maxQueued) sum.maxQueued = st.queued;
    }, 10);
    timer.unref();
  };
  globalThis.__bench.clientSamples = () => {
    clearInterval(timer);
    const n = Math.max(1, sum?.samples ?? 0);
    return sum === undefined ? undefined : { samples: sum.samples, queued: sum.queued / n, inflight: sum.inflight / n, full: sum.full / n, maxQueued: sum.maxQueued };
  };
}
