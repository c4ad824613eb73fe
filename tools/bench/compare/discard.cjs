// Control store `discard://` (the discard and agent-discard variants): a driver that counts
// the points it is handed and keeps nothing. Preloaded into the server (core's notifier
// formats every line as for any store, then drops it: the app's own cost of tracing, no
// socket, no agent, no Redis) or into an agent (the app and the agent protocol as for
// `agent`, the agent's decode included, no driver writes and no Redis).
'use strict';
const instrument = require('@osprofiler/core/instrument');
const { registerNullDriver } = require('../lib/null-driver.cjs');

let lines = 0;

registerNullDriver(instrument, 'discard', {
  notify(batch) {
    lines += batch.length;
  },
  // baseIds, not lines: the agent's batches make a line's string only when it is read.
  notifyLines(batch) {
    lines += batch.baseIds.length;
  },
});

/** Lines (a point's start or stop) dropped so far in this process. */
globalThis.__benchDiscarded = () => lines;
