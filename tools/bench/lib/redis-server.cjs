'use strict';
// The benches' own redis-server: loopback, a free port, nothing kept on disk. Benches never
// write into the shared 6379, so what they count is theirs alone.
const { spawn } = require('node:child_process');
const { freePort, waitFor } = require('./proc.cjs');

/**
 * Starts redis-server in `dir` (its working dir) and resolves once it accepts connections
 * (its "Ready to accept" log line). `wrap`, e.g. ['valgrind', '--tool=callgrind', ...], runs
 * it under that command (same pid: valgrind becomes the process). The caller stops it by
 * its handle (`child`); a server that exits before it is ready rejects with its output.
 */
async function startRedisServer(dir, { wrap = [], timeoutMs = 15_000 } = {}) {
  const port = await freePort();
  const args = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const cmd = [...wrap, ...args];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d) => {
    if (out.length < 65536) out += d;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  try {
    await waitFor(`redis-server on port ${port}`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited before it was ready: ${out}`);
      return /Ready to accept/.test(out);
    }, timeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Later output is not kept (the pipes are still read, so the server never blocks on them).
  out = '';
  child.stdout.off('data', keep).resume();
  child.stderr.off('data', keep).resume();
  return { child, port, pid: child.pid };
}

module.exports = { startRedisServer };
