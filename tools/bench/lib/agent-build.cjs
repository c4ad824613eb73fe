// The agent daemon the benches start: this tree's, or (BENCH_AGENT_BEFORE=<dir holding
// node_modules/@osprofiler/{agent,core,drivers}> of an older build set aside) that build's,
// for A/B runs; and the environment every started agent gets, in which such a build outside
// the repository finds its other dependencies in this tree's node_modules.
'use strict';
const path = require('node:path');

const ROOT = path.join(__dirname, '../../..');

/** This tree's agent daemon. */
const DAEMON = path.join(ROOT, 'packages/agent/dist/daemon.js');

/** BENCH_AGENT_BEFORE's agent daemon, or undefined when it is not set. */
function beforeDaemon() {
  const dir = process.env.BENCH_AGENT_BEFORE;
  return dir ? path.join(path.resolve(dir), 'node_modules/@osprofiler/agent/dist/daemon.js') : undefined;
}

/** `env` (the process's by default) with NODE_PATH at this tree's node_modules. */
function agentEnv(env = process.env) {
  return { ...env, NODE_PATH: path.join(ROOT, 'node_modules') };
}

module.exports = { DAEMON, beforeDaemon, agentEnv };
