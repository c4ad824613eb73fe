'use strict';
// Process figures and small waits the benchmark orchestrators share (Linux /proc).
const fs = require('node:fs');
const net = require('node:net');

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64

/** User + system CPU time of process `pid`, in µs. */
function procCpuUs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK; // utime + stime
}

/** Resident set size of process `pid`, in MB. */
function procRssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A loopback port nothing listens on now. */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `check` every 25 ms until it is true; throws after `ms`. */
async function waitFor(what, check, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

module.exports = { CLK_TCK, procCpuUs, procRssMb, freePort, waitFor };
