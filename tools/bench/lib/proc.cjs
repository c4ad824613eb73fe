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

/**
 * CPU time of process `pid` in µs at nanosecond resolution: the sum of its threads'
 * /proc/<pid>/task/<tid>/schedstat (time on a CPU). procCpuUs counts 10 ms ticks, ±3.3 µs
 * a point over 3,000 points; a thread that ended within the window is missed (a node
 * process keeps its threads).
 */
function procCpuFineUs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1000;
}

/**
 * Process `pid`'s threads, the main thread apart from the rest: per group, user and system
 * CPU (µs, 10 ms ticks), time on a CPU and time runnable but waiting for one (µs, from
 * schedstat), voluntary and involuntary context switches, minor page faults. The wait and the involuntary
 * switches show preemption by other processes, which CPU time alone does not.
 */
function procThreads(pid) {
  const out = { main: threadZero(), other: threadZero() };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const sched = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const g = out[tid === String(pid) ? 'main' : 'other'];
      g.faults += Number(f[7]);
      g.user += (Number(f[11]) * 1e6) / CLK_TCK;
      g.sys += (Number(f[12]) * 1e6) / CLK_TCK;
      g.run += Number(sched[0]) / 1000;
      g.wait += Number(sched[1]) / 1000;
      g.vol += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      g.inv += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended between the listing and the reads
    }
  }
  return out;
}

function threadZero() {
  return { user: 0, sys: 0, run: 0, wait: 0, vol: 0, inv: 0, faults: 0 };
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

module.exports = { CLK_TCK, procCpuUs, procCpuFineUs, procThreads, procRssMb, freePort, waitFor };
