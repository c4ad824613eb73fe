// BENCH_SCHED=1 (compare/run.cjs): who takes the server's main thread's CPU. Through each
// measured window the kernel's `sched:sched_switch` tracepoint is recorded on every CPU
// (`perf record -a`, Debian's linux-perf; no hardware counters needed). Each switch away
// from the server's main thread while it could still run (prev_state R: preempted) is
// counted by the task that took the CPU — wrk, the agent, redis-server, the server's own
// threads (V8's GC helpers and compiler, libuv's pool) or anything else — with the time
// until the thread ran again. The table says why a traced server waits longer for a CPU
// than plain (`main waiting µs/req`): session 30 found wrk's wake-ups landing on its CPU
// once the agent kept the other one busy. perf itself takes some CPU (its buffer, ~1 MB a
// second): read these windows against each other, not against runs without it.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** perf's recording of every CPU's switches (the check and the windows alike). */
const RECORD = ['record', '-q', '-e', 'sched:sched_switch', '-a'];

/** Who preempted, in the table's order. */
const GROUPS = ['wrk', 'agent', 'redis', 'server threads', 'other'];

/** Fails the run, with what to install, when perf cannot record the tracepoint here. */
function checkPerf(dir) {
  const file = path.join(dir, 'sched-check.data');
  const r = spawnSync('perf', [...RECORD, '-o', file, '--', 'true'], { encoding: 'utf8' });
  fs.rmSync(file, { force: true });
  if (r.error || r.status !== 0) throw new Error(`BENCH_SCHED=1: perf cannot record sched:sched_switch (Debian's linux-perf, run as root): ${r.error?.message ?? r.stderr}`);
}

/**
 * A perf recording every CPU's switches into `file`, started with its events off: `start()`
 * turns them on once perf is set up (its control FIFO's acknowledgement), so perf's own
 * start-up (reading every task, mapping its buffers) falls before the window, where it was
 * read as ~150 preemptions a 1k requests of plain's in a first version; `stop()` ends it and
 * resolves once perf has written the file.
 */
function record(file) {
  const ctl = `${file}.ctl`;
  const ack = `${file}.ack`;
  for (const f of [ctl, ack]) fs.rmSync(f, { force: true });
  const made = spawnSync('mkfifo', [ctl, ack], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`BENCH_SCHED=1: mkfifo failed: ${made.stderr || made.error}`);
  const perf = spawn('perf', [...RECORD, '-D', '-1', '--control', `fifo:${ctl},${ack}`, '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  perf.stderr.on('data', (b) => (err += b));
  const exited = new Promise((resolve) => perf.once('exit', (code) => resolve(code)));
  // Opened read-write: neither open waits for perf's end of the FIFO. The acknowledgement is
  // polled on a non-blocking descriptor: a stream's read of a FIFO holds a libuv pool thread
  // until data comes, and destroying the stream does not free it (four windows took the pool).
  const ctlFd = fs.openSync(ctl, fs.constants.O_RDWR);
  const ackFd = fs.openSync(ack, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  let done;
  void exited.then((code) => (done = code));
  const acked = async () => {
    const buf = Buffer.alloc(64);
    for (let seen = ''; !seen.includes('ack'); ) {
      if (done !== undefined) throw new Error(`BENCH_SCHED=1: perf record exited (${done}) before recording: ${err}`);
      try {
        seen += buf.toString('latin1', 0, fs.readSync(ackFd, buf));
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const close = () => {
    fs.closeSync(ackFd);
    fs.closeSync(ctlFd);
    for (const f of [ctl, ack]) fs.rmSync(f, { force: true });
  };
  return {
    async start() {
      fs.writeSync(ctlFd, 'enable\n');
      await acked();
    },
    async stop() {
      perf.kill('SIGINT');
      const code = await exited;
      close();
      if (!fs.existsSync(file)) throw new Error(`BENCH_SCHED=1: perf record wrote nothing (exit ${code}): ${err}`);
    },
  };
}

/** The thread ids of process `pid` (its /proc task list; empty once it has exited). */
function tasksOf(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

const SWITCH = /\[(\d+)\]\s+(\d+\.\d+):(?: +sched:sched_switch:)? +prev_comm=.* prev_pid=(\d+) prev_prio=-?\d+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=-?\d+$/;

/**
 * The preemptions of thread `mainTid` in `file`: per GROUPS entry, how many and the µs the
 * thread then waited until it ran again. `pids`: { agent, redis, server } process ids, whose
 * threads make their groups; a task named `wrk` is wrk's.
 */
function preemptions(file, mainTid, pids) {
  const group = new Map();
  for (const [name, pid] of [['agent', pids.agent], ['redis', pids.redis], ['server threads', pids.server]]) {
    if (pid !== undefined) for (const t of tasksOf(pid)) group.set(t, name);
  }
  const out = Object.fromEntries(GROUPS.map((g) => [g, { count: 0, waitUs: 0 }]));
  const r = spawnSync('perf', ['script', '-i', file, '-F', 'cpu,time,trace'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`BENCH_SCHED=1: perf script failed: ${r.stderr}`);
  // The preemption waiting for the thread to run again: its group and when.
  let pending;
  for (const line of r.stdout.split('\n')) {
    const m = SWITCH.exec(line);
    if (m === null) continue;
    const t = Number(m[2]);
    const prev = Number(m[3]);
    const next = Number(m[6]);
    if (next === mainTid && pending !== undefined) {
      out[pending.group].waitUs += (t - pending.t) * 1e6;
      pending = undefined;
    }
    if (prev === mainTid && m[4].startsWith('R')) {
      const g = next === mainTid ? undefined : m[5] === 'wrk' ? 'wrk' : group.get(next) ?? 'other';
      if (g !== undefined) {
        out[g].count++;
        pending = { group: g, t };
      }
    }
  }
  return out;
}

module.exports = { GROUPS, checkPerf, record, preemptions };
