// BENCH_CORE_DIST=<dir>: every require of @osprofiler/core (and /instrument) in this
// process — the bench's and the adapters' — loads that core build instead: a copy of
// packages/core (its package.json and dist/) set aside before a change, so that two core
// builds can be compared in the same run (under callgrind, or alternated). Required first.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const dir = process.env.BENCH_CORE_DIST;
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
