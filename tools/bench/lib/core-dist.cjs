// BENCH_CORE_DIST=<dir>: every require of @osprofiler/core (and /instrument) in this
// process — the bench's and the adapters' — loads that core build instead: a copy of
// packages/core (its package.json and dist/) set aside before a change, so that two core
// builds can be compared in the same run (under callgrind, or alternated). Required first.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const dir = process.env.BENCH_CORE_DIST;
// BENCH_AGENT_DIST=<copy of packages/agent> likewise for the agent:// client: every module
// resolved into this tree's packages/agent/dist (the register preload is given by path) is
// loaded from the copy's dist instead.
const agentDir = process.env.BENCH_AGENT_DIST;
if (agentDir) {
  const from = path.join(__dirname, '../../../packages/agent/dist') + path.sep;
  const to = path.resolve(agentDir, 'dist') + path.sep;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const r = resolve.apply(this, args);
    return r.startsWith(from) ? to + r.slice(from.length) : r;
  };
}
if (dir) {
  const targets = {
    '@osprofiler/core': path.resolve(dir, 'dist/index.js'),
    '@osprofiler/core/instrument': path.resolve(dir, 'dist/instrument.js'),
  };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolve.call(this, targets[request] ?? request, ...rest);
  };
}
