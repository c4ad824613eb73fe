// Preloaded after @osprofiler/auto (and @osprofiler/knex/register, @osprofiler/agent/register
// or @osprofiler/drivers/register) for the OSProfiler.js variants: configuration comes from
// OSPROFILER_* as in automatic mode; this only gives the app its nested-call API and a flush.
'use strict';
const core = require('@osprofiler/core');

globalThis.__bench = {
  traced: (name, fn) => core.traced('fn', { function: { name } }, fn),
  flush: () => core.flush(30_000),
};
