// Spike (issue 15, brief off25): what would the app's MAIN THREAD save if a batch's lines were
// formatted and framed by a worker_thread of the app instead of on it? A scratch bench: core
// and the agent client are not changed; their dist code is used as it is, and the notifier's
// request-path half (BatchNotifier.point, its timer/early-flush scheduling) is replicated in
// a PointSink of its own, installed as core's setup installs the notifier (runtime.sink).
//
// RESULT (callgrind, node v20.20.2, 2000 warm-up + 2000 counted traces a case, 2 rounds in
// one run, case order reversed in round 2; instructions per nested trace, 12 lines):
//   case     main thread        worker thread      main-thread heap bytes (BENCH_ALLOC)
//   today    90.91k / 90.90k    —                  10,310 B
//   clone    102.81k / 103.25k  207k / 211k        3,904 B
//   shared   86.11k / 85.84k    93.1k / 92.7k      4,943 B
//   fields   67.78k / 67.51k    69.5k / 69.1k      3,910 B
//   drop     49.80k / 49.80k    —                  3,410 B   (the floor: recording only)
// today − drop = 41.1k a trace is the formatting + text + frame the main thread does now.
// - clone (structured clone of the raw records) is DEARER on the main thread than formatting
//   there (+12k): V8's ValueSerializer writes every string in full (a trace's base id 12
//   times), looks each info's properties up one by one, and grows an IdentityMap.
// - shared with JSON.stringify'd infos saves 5k only: JSON.stringify is ~15k a trace for 7
//   small infos (its string escaping, toJSON lookups).
// - fields saves 23.1–23.4k a trace (≥ 15k): 17.8k of today's 41.1k stay on the main thread
//   (the ring writer's loop ~6.7k, the info walk ~6k, string equality of interned values,
//   the batch's rope and its ucs2Write). Its worker spends 69k a trace for the 41k moved:
//   the process's CPU per trace goes UP, 91k → 137k. So it helps req/s only while a core
//   is otherwise idle; on the compare bench's 2 shared cores (app, agent, load generator)
//   that is not given: measure there before any redesign.
// Not counted in any case (trace-lines has no socket): the agent client's socket write,
// which the worker would take too. Byte-exactness (BENCH_OFF_VERIFY, below): clone, shared
// and fields frames are byte-identical to today's for the nested shape; fields also for the
// odd infos (Date, Map, Buffer, class instance, bigint, function, cycles, depth > 10, -0,
// NaN, lone surrogates, `__proto__` and integer keys, etype); clone fails on a function
// (DataCloneError) and would turn a class instance into a plain object; shared is exact for
// JSON-plain infos only.
//
// Shape: trace-lines.cjs `nested` — a `wsgi` root point with a request info as core's wsgi
// start info, five nested `traced('fn', { function: { name } })` points inside (their stops
// carry no info), the root's stop with status and route: 6 points, 12 lines a trace, 40
// traces between flushes (trace-lines PER_FLUSH: one 480-point batch a flush; the 256-point
// early flush is scheduled, as core does, and finds the buffer already flushed).
// Cases (BENCH_OFF_CASES, default today,clone,shared,fields,drop):
//   today   core's BatchNotifier as it is: points recorded through the public API, its
//           formatLines (line.ts pointLine) and the agent:// client's text and BATCH frame
//           (agent lines.ts encodeLineBatch, no socket), all on the main thread (= trace-lines).
//   clone   the same points recorded by this file's HandoffSink (the notifier's point() —
//           five slots a point, the FRESH_START/FRESH_ROOT phase bits — times in a
//           Float64Array, phases in a Uint8Array), and at each flush the raw records
//           { n, phases, times, slots: [name, baseId, traceId, parentId, info]… } sent with
//           one `postMessage` (structured clone) to a worker that formats them with core's
//           line.ts (startLines, pointLine, the clock's timestamp parts) and frames them.
//   shared  the same sink; at each flush the records go into a SharedArrayBuffer ring of 4
//           batch slots: per point 6 int32 (phase, name, base, trace, parent refs, info
//           length), the times as float64, and one UTF-16 text per batch (one ucs2Write of
//           the batch's new strings and infos joined by `+`; UTF-8 turned lone surrogates
//           into U+FFFD, caught by the verify run). Names and ids are interned by
//           identity in direct-mapped tables (ids by their first two hex digits, as line.ts's
//           idSlots; names by length and middle character) mirrored by the worker, so a
//           trace's base id goes once and each point's id once (its stop and children find
//           it). Infos go as JSON.stringify text (made on the main thread), JSON.parse'd by
//           the worker — exact for JSON-plain infos only (strings, finite numbers, booleans,
//           null, plain objects/arrays): a Date, Map, class instance, -0, NaN, BigInt or a
//           cycle would differ from core's text (a product would need a check or a fallback).
//           Wake-up: Atomics.store + Atomics.notify; the worker blocks in Atomics.wait (a
//           dedicated thread; Atomics.waitAsync let the worker exit on Node 20, no handle).
//           A full ring makes the main thread Atomics.wait (not counted: blocked).
//   fields  shared, with each info walked on the main thread as line.ts's valueText walks
//           it (for-in own keys, isFieldObject, depth 10, `<circular>`) into int32 tokens
//           (object/array begin and end, key refs, string refs, small ints, other numbers as
//           String(v) text, -0, true/false/null/undefined), keys and short string values
//           interned like ids (slots by length and a character); the worker rebuilds the
//           object and pointLine formats it (same text). What valueText would hand to
//           toPrimitive (Date, Map, Buffer, class instances, bigint, functions) is not
//           walked: that info's text is made on the main thread by core's line.ts infoFields
//           and spliced in by the worker (the rare, dear path: today's cost for that info).
//   drop    the floor of any handoff: the same sink, each batch dropped at flush (recording,
//           uuids, async_hooks, core.flush's own overhead only).
// Counting: each case in its own `node --predictable` (fixed 16 MB young generation, 256 MB
// initial old space: trace-lines.cjs NODE_ARGS) under `valgrind --tool=callgrind
// --separate-threads=yes --instr-atstart=no` (lib/callgrind.cjs spawnNode); warm-up, then
// instrumentation on + zero, the counted traces (and the wait until the worker has framed
// them all), a dump: the main thread is the `-01` part, the worker thread the other part with
// the most instructions (with --predictable V8 runs no background threads: the rest, shown as
// `other`, is ~0). Per trace = dump / BENCH_IR_COUNT. Rounds alternate the case order (ABBA:
// round 2 runs the cases in reverse). Both sides call core.flush(30_000) every 40 traces
// (its storage.exit/withTimeout cost the same; the handoff sink flushes just before).
// Env: BENCH_IR_WARMUP (2000), BENCH_IR_COUNT (2000) traces, BENCH_ROUNDS (2).
// BENCH_OFF_VERIFY=1 (no callgrind): each handoff case fed the same points as core's own
// notifier (a tee sink; clock.nowMs pinned so both read the same time) — every frame the
// worker makes must be byte-identical to today's frame of the same batch, else it fails.
// The verify run adds an `odd` point a trace whose infos hit the encodings' corners (see
// oddInfos; `shared` gets none of them, `clone` not the function or class instance).
// BENCH_IR_KEEP=<dir> (with BENCH_OFF_NODE_ARGS=--perf-basic-prof): the dumps and perf maps
// kept for lib/callgrind-functions.cjs (where the fields split above comes from).
// BENCH_ALLOC=1 (no callgrind): bytes allocated on the main thread's V8 heap per trace
// (lib/allocated.cjs, the sampling heap profiler: the main isolate only).
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const ROOT = path.resolve(__dirname, '../..');
// 8,000 as trace-lines.cjs: after 2,000 (the default when the RESULT above was counted) this
// tree's code was not yet optimised — today 125.9k / drop 84.3k a trace against 75.7k / 33.3k
// after 8,000, the difference (formatting, 41.6k / 42.4k) the same (session 36).
const WARMUP = Number(process.env.BENCH_IR_WARMUP || 8000);
const COUNT = Number(process.env.BENCH_IR_COUNT || 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const CASES = (process.env.BENCH_OFF_CASES || 'today,clone,shared,fields,drop').split(',');
const VERIFY = process.env.BENCH_OFF_VERIFY === '1';
const ALLOC = process.env.BENCH_ALLOC === '1';
const KEY = 'bench-key';
const PER_FLUSH = 40; // trace-lines.cjs: traces between flushes
const DEPTH = 5;
const LINES_PER_TRACE = 2 * (DEPTH + 1);
const NODE_ARGS = require('./lib/callgrind.cjs').PREDICTABLE_NODE_ARGS;
const { registerNullDriver } = require('./lib/null-driver.cjs');

// The notifier's constants (packages/core/src/notifier.ts), replicated.
const FIELDS = 5;
const FRESH_START = 2;
const FRESH_ROOT = FRESH_START | 4;
const EARLY_FLUSH_POINTS = 256;
const MIN_POINTS = 64;
const MAX_PRESIZED_POINTS = 4096;

// The shared ring: CTL int32s, then SLOTS batch slots of SLOT_BYTES each.
const WRITTEN = 0; // batches written (the main thread's sequence)
const DONE = 1; // batches the worker has framed
const FRAMED = 2; // lines the worker has framed (stored before DONE)
const FAILED = 3; // 1: the worker threw (its error on stderr)
const CTL_BYTES = 64;
const SLOTS = 4;
const MAX_POINTS = 4096; // per batch (a larger batch would be split; not needed here)
const REC = 6; // int32 a point: phase, name, base, trace, parent refs, info length (-1: none)
const HEAD_BYTES = 16; // n, new strings, text bytes
const RECS_BYTES = MAX_POINTS * REC * 4;
const LENS_BYTES = MAX_POINTS * 16 * 4; // new strings (ids, names, and with `fields` keys and values)
const TIMES_BYTES = MAX_POINTS * 8;
const TEXT_BYTES = 1 << 20;
const TOKENS_BYTES = MAX_POINTS * 64 * 4; // `fields`: the infos' tokens
const SLOT_BYTES = HEAD_BYTES + RECS_BYTES + LENS_BYTES + TIMES_BYTES + TOKENS_BYTES + TEXT_BYTES;
const ID_SLOTS = 256;
const NAME_SLOTS = 64;
const KEY_SLOTS = 128;
const VALUE_SLOTS = 128;
const KEYS_AT = ID_SLOTS + NAME_SLOTS;
const VALUES_AT = KEYS_AT + KEY_SLOTS;
const NEW = VALUES_AT + VALUE_SLOTS; // a ref ≥ NEW: a new string, its table slot ref − NEW
// `fields`: an info as tokens (int32) in the slot's token lane, strings by ref as above.
// In an object, a token ≥ 0 is a key's ref and its value follows; T_END closes it.
const T_OBJ = -1;
const T_ARR = -2;
const T_END = -3;
const T_UNDEF = -4;
const T_NULL = -5;
const T_TRUE = -6;
const T_FALSE = -7;
const T_INT = -8; // then the int32
const T_NUM = -9; // then a string ref: String(v) (round-trips every double but -0)
const T_NEGZERO = -10;
const T_STR = -11; // then a string ref
const T_ABORT = -12; // the info was not walkable: its tokens so far are dropped, its text follows
const MAX_DEPTH = 10; // line.ts: an object or array this deep is written "?"
const INFO_NONE = 0;
const INFO_TOKENS = 1;
const INFO_TEXT = 2; // core's infoFields text (made on the main thread), | INFO_ETYPE
const INFO_ETYPE = 4;

function mods(root) {
  const dist = (p) => require(path.join(root, 'packages', p));
  return {
    core: dist('core/dist/index.js'),
    instrument: dist('core/dist/instrument.js'),
    api: dist('core/dist/api.js'),
    clock: dist('core/dist/clock.js'),
    uuid: dist('core/dist/uuid.js'),
    line: dist('core/dist/line.js'),
    lines: dist('agent/dist/lines.js'),
  };
}

/** Slot of an id (line.ts idSlot: its first two hex digits). */
function idSlot(s) {
  if (s.length < 2) return 0;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(1);
  return (((a & 15) + 9 * (a >> 6)) * 16 + (b & 15) + 9 * (b >> 6)) & (ID_SLOTS - 1);
}

function nameSlot(s) {
  const n = s.length;
  return ID_SLOTS + ((n === 0 ? 0 : n * 7 + s.charCodeAt(n >> 1)) & (NAME_SLOTS - 1));
}

function keySlot(s) {
  const n = s.length;
  return KEYS_AT + ((n === 0 ? 0 : n * 7 + s.charCodeAt(n >> 1)) & (KEY_SLOTS - 1));
}

function valueSlot(s) {
  const n = s.length;
  return VALUES_AT + ((n === 0 ? 0 : n * 31 + s.charCodeAt(n - 1)) & (VALUE_SLOTS - 1));
}

function slotOffsets(k) {
  const base = CTL_BYTES + k * SLOT_BYTES;
  const times = base + HEAD_BYTES + RECS_BYTES + LENS_BYTES;
  return { head: base, recs: base + HEAD_BYTES, lens: base + HEAD_BYTES + RECS_BYTES, times, tokens: times + TIMES_BYTES, text: times + TIMES_BYTES + TOKENS_BYTES };
}

// ---------------------------------------------------------------- the worker thread
function workerMain() {
  const { root, kind, tail, verify, sab } = workerData;
  const m = mods(root);
  const clientId = Buffer.alloc(16, 1);
  let seq = 0;
  let framed = 0;
  /** Today's formatLines + the bench driver's frame, off the main thread. */
  function frame(n, phases, times, slots, texts) {
    m.line.startLines();
    const lines = new Array(n);
    let kept = 0;
    let errors = null;
    for (let p = 0; p < n; p++) {
      const i = p * FIELDS;
      const info = slots[i + 4];
      const micros = m.clock.timestampSub(times[p]);
      const milli = m.clock.timestampMilli();
      const second = m.clock.timestampSecond();
      const ph = phases[p];
      const text = texts === undefined ? undefined : texts[p];
      try {
        const l = m.line.pointLine(slots[i], (ph & 1) === 0 ? '-start' : '-stop', slots[i + 1], slots[i + 2], slots[i + 3], second, milli, micros, text === undefined ? info : undefined, tail, (ph & FRESH_START) !== 0, ph === FRESH_ROOT);
        // An info the main thread formatted (core's infoFields): in where the bare line has `", "info": {`.
        lines[kept] = text === undefined ? l : l.slice(0, l.length - tail.length) + text + tail;
      } catch {
        continue; // lost (the notifier counts it); not met here
      }
      if (text === undefined ? m.line.hasErrorType(info) : info === true) (errors ??= new Uint8Array(n))[kept] = 1;
      kept++;
    }
    if (kept !== n) lines.length = kept;
    const f = m.lines.encodeLineBatch(clientId, ++seq, [{ text: lines.join('\n'), count: kept, errors }], false);
    framed += f.count;
    if (verify) parentPort.postMessage({ frame: f.frame });
  }
  if (kind === 'clone') {
    parentPort.on('message', (msg) => {
      if (msg.sync) parentPort.postMessage({ framed });
      else frame(msg.n, msg.phases, msg.times, msg.slots);
    });
    return;
  }
  // shared, fields: block until batches are written, frame them in order.
  const ABORT = new Error('abort');
  const ctl = new Int32Array(sab, 0, CTL_BYTES / 4);
  const i32 = new Int32Array(sab);
  const u8 = Buffer.from(sab);
  const table = new Array(NEW).fill('');
  let done = 0;
  for (;;) {
    const w = Atomics.load(ctl, WRITTEN);
    if (w === done) {
      Atomics.wait(ctl, WRITTEN, w);
      continue;
    }
    for (let s = done + 1; s <= w; s++) {
      try {
        decode(s);
      } catch (e) {
        require('node:fs').writeSync(2, `worker: ${e.stack}\n`);
        Atomics.store(ctl, FAILED, 1);
      }
      Atomics.store(ctl, FRAMED, framed);
      Atomics.store(ctl, DONE, s);
      Atomics.notify(ctl, DONE);
    }
    done = w;
  }
  /** Batch `s`'s records back into a notifier-like batch, framed. */
  function decode(s) {
    const o = slotOffsets((s - 1) % SLOTS);
    const n = i32[o.head / 4];
    const bytes = i32[o.head / 4 + 2];
    const text = u8.ucs2Slice(o.text, o.text + bytes);
    let pos = 0;
    let li = o.lens / 4;
    const get = (ref) => {
      if (ref < NEW) return table[ref];
      const len = i32[li++];
      const str = text.slice(pos, pos + len);
      pos += len;
      table[ref - NEW] = str;
      return str;
    };
    let ti = o.tokens / 4;
    const value = () => {
      const t = i32[ti++];
      switch (t) {
        case T_STR:
          return get(i32[ti++]);
        case T_INT:
          return i32[ti++];
        case T_NUM:
          return Number(get(i32[ti++]));
        case T_NEGZERO:
          return -0;
        case T_UNDEF:
          return undefined;
        case T_NULL:
          return null;
        case T_TRUE:
          return true;
        case T_FALSE:
          return false;
        case T_ARR: {
          const a = [];
          while (i32[ti] !== T_END) a.push(value());
          ti++;
          return a;
        }
        case T_OBJ: {
          const obj = {};
          for (let k = i32[ti++]; k !== T_END; k = i32[ti++]) {
            if (k < 0) throw new Error(`token ${k} for a key`);
            const key = get(k);
            const v = value();
            if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
            else obj[key] = v;
          }
          return obj;
        }
        case T_ABORT:
          throw ABORT;
      }
      throw new Error(`token ${t}`);
    };
    const slots = new Array(n * FIELDS);
    const phases = new Uint8Array(n);
    let texts;
    for (let p = 0; p < n; p++) {
      const r = o.recs / 4 + p * REC;
      phases[p] = i32[r];
      const i = p * FIELDS;
      slots[i] = get(i32[r + 1]);
      slots[i + 1] = get(i32[r + 2]);
      slots[i + 2] = get(i32[r + 3]);
      slots[i + 3] = get(i32[r + 4]);
      const il = i32[r + 5];
      if (kind === 'shared') {
        if (il >= 0) {
          slots[i + 4] = JSON.parse(text.slice(pos, pos + il));
          pos += il;
        }
      } else if (il === INFO_TOKENS) slots[i + 4] = value();
      else if (il !== INFO_NONE) {
        // Not walkable: its tokens up to T_ABORT (their new strings kept), then core's text of it.
        try {
          value();
        } catch (e) {
          if (e !== ABORT) throw e;
        }
        (texts ??= [])[p] = get(i32[ti++]);
        slots[i + 4] = (il & INFO_ETYPE) !== 0;
      }
    }
    frame(n, phases, new Float64Array(sab, o.times, n), slots, texts);
  }
}

// ---------------------------------------------------------------- the app's side (child)
function newPoints(cap) {
  return { slots: new Array(cap * FIELDS), phases: new Uint8Array(cap), times: new Float64Array(cap), n: 0, cap };
}

function grow(b) {
  const nb = newPoints(b.cap * 2);
  for (let k = 0; k < b.n * FIELDS; k++) nb.slots[k] = b.slots[k];
  nb.phases.set(b.phases);
  nb.times.set(b.times);
  b.slots = nb.slots;
  b.phases = nb.phases;
  b.times = nb.times;
  b.cap = nb.cap;
}

/** BatchNotifier's request-path half (point, timer, early flush), replicated; `send` takes each batch. */
function handoffSink(m, send) {
  const { clock, uuid, api } = m;
  return {
    buf: newPoints(MIN_POINTS),
    armed: false,
    timer: undefined,
    early: undefined,
    point(phase, name, baseId, traceId, parentId, info) {
      const buf = this.buf;
      const n = buf.n;
      if (n === buf.cap) grow(buf);
      const s = buf.slots;
      const o = n * FIELDS;
      buf.phases[n] = phase === 0 && uuid.isLastUuid(traceId) ? (uuid.isUuidBeforeLast(baseId) ? FRESH_ROOT : FRESH_START) : phase;
      s[o] = name;
      s[o + 1] = baseId;
      s[o + 2] = traceId;
      s[o + 3] = parentId;
      s[o + 4] = info;
      buf.times[n] = clock.nowMs();
      buf.n = n + 1;
      if (!this.armed) this.schedule();
      else if (n + 1 >= EARLY_FLUSH_POINTS && this.early === undefined) this.scheduleEarly();
    },
    schedule() {
      this.armed = true;
      if (this.timer !== undefined) {
        const timer = this.timer;
        api.untraced(() => timer.refresh());
        return;
      }
      this.timer = api.untraced(() => setTimeout(() => this.armed && this.flush(), 60_000));
      this.timer.unref();
    },
    scheduleEarly() {
      this.early = api.untraced(() =>
        setImmediate(() => {
          this.early = undefined;
          this.flush();
        }),
      );
    },
    flush() {
      this.armed = false;
      const buf = this.buf;
      if (buf.n === 0) return;
      this.buf = newPoints(Math.min(Math.max(buf.n + (buf.n >> 2), MIN_POINTS), MAX_PRESIZED_POINTS));
      clock.maybeReanchor();
      send(buf);
    },
  };
}

/** The shared ring's writer: `send(buf)` for handoffSink; `fields`: infos as tokens (else JSON text). */
function sharedWriter(sab, m, fields) {
  const ctl = new Int32Array(sab, 0, CTL_BYTES / 4);
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab);
  const u8 = Buffer.from(sab);
  const table = new Array(NEW).fill('');
  let seq = 0;
  let text = '';
  let li = 0;
  let ti = 0;
  const ref = (s, slot) => {
    if (table[slot] === s) return slot;
    table[slot] = s;
    text += s;
    i32[li++] = s.length;
    return slot + NEW;
  };
  // The objects being walked (the info first), for line.ts's "<circular>": a fixed array and
  // its depth (`path.length = 0` and pushes into a shrunk array cost ~1.8k a trace, callgrind).
  const path = new Array(MAX_DEPTH + 2).fill(null);
  let depth0 = 0;
  const onPath = (v) => {
    for (let i = 0; i < depth0; i++) if (path[i] === v) return true;
    return false;
  };
  /** `v` (at line.ts valueText's `depth`) as tokens; false when core's text of it could differ (then T_ABORT). */
  const value = (v, depth) => {
    switch (typeof v) {
      case 'string':
        i32[ti++] = T_STR;
        i32[ti++] = ref(v, valueSlot(v));
        return true;
      case 'number':
        if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
          i32[ti++] = T_INT;
          i32[ti++] = v;
        } else if (v === 0) i32[ti++] = T_NEGZERO;
        else {
          const t = String(v);
          i32[ti++] = T_NUM;
          i32[ti++] = ref(t, valueSlot(t));
        }
        return true;
      case 'boolean':
        i32[ti++] = v ? T_TRUE : T_FALSE;
        return true;
      case 'undefined':
        i32[ti++] = T_UNDEF;
        return true;
      case 'object':
        break;
      default:
        return false; // bigint, function, symbol: String(v) — left to core
    }
    if (v === null) {
      i32[ti++] = T_NULL;
      return true;
    }
    if (depth >= MAX_DEPTH || onPath(v)) {
      const t = depth >= MAX_DEPTH ? '?' : '<circular>';
      i32[ti++] = T_STR;
      i32[ti++] = ref(t, valueSlot(t));
      return true;
    }
    const isArray = Array.isArray(v);
    // line.ts isFieldObject: anything else (Date, Map, Buffer, class) is core's toPrimitive's.
    if (!isArray && v.constructor !== Object && Object.getPrototypeOf(v) !== Object.prototype) return false;
    path[depth0++] = v;
    let ok = true;
    if (isArray) {
      i32[ti++] = T_ARR;
      for (let i = 0; ok && i < v.length; i++) ok = value(v[i], depth + 1);
    } else {
      i32[ti++] = T_OBJ;
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        i32[ti++] = ref(k, keySlot(k));
        if (!(ok = value(v[k], depth + 1))) break;
      }
    }
    path[--depth0] = null;
    if (ok) i32[ti++] = T_END;
    return ok;
  };
  /** An info's tokens (INFO_TOKENS), or its text by core (INFO_TEXT). */
  const info = (o) => {
    let ok = typeof o === 'object' && o !== null && !Array.isArray(o) && (o.constructor === Object || Object.getPrototypeOf(o) === Object.prototype);
    if (ok) {
      path[0] = o;
      depth0 = 1;
      i32[ti++] = T_OBJ;
      for (const k in o) {
        if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
        i32[ti++] = ref(k, keySlot(k));
        if (!(ok = value(o[k], 1))) break;
      }
      for (; depth0 > 0; depth0--) path[depth0 - 1] = null;
      if (ok) {
        i32[ti++] = T_END;
        return INFO_TOKENS;
      }
    }
    i32[ti++] = T_ABORT;
    const t = m.line.infoFields(o);
    i32[ti++] = ref(t, valueSlot(t));
    return INFO_TEXT | (m.line.hasErrorType(o) ? INFO_ETYPE : 0);
  };
  return (buf) => {
    const s = ++seq;
    // A free slot: the worker is at most SLOTS batches behind (blocked here otherwise).
    for (let d = Atomics.load(ctl, DONE); s - d > SLOTS; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d, 1000);
    const o = slotOffsets((s - 1) % SLOTS);
    const n = buf.n;
    if (n > MAX_POINTS) throw new Error(`a batch of ${n} points: split it`);
    const sl = buf.slots;
    text = '';
    li = o.lens / 4;
    ti = o.tokens / 4;
    const tiEnd = ti + TOKENS_BYTES / 4 - 4096;
    let r = o.recs / 4;
    for (let p = 0; p < n; p++, r += REC) {
      const i = p * FIELDS;
      i32[r] = buf.phases[p];
      i32[r + 1] = ref(sl[i], nameSlot(sl[i]));
      i32[r + 2] = ref(sl[i + 1], idSlot(sl[i + 1]));
      i32[r + 3] = ref(sl[i + 2], idSlot(sl[i + 2]));
      i32[r + 4] = ref(sl[i + 3], idSlot(sl[i + 3]));
      const inf = sl[i + 4];
      if (fields) {
        i32[r + 5] = inf === undefined ? INFO_NONE : info(inf);
        if (ti > tiEnd) throw new Error('a batch of tokens past its slot: split it');
      } else if (inf === undefined) i32[r + 5] = -1;
      else {
        const t = JSON.stringify(inf);
        text += t;
        i32[r + 5] = t.length;
      }
    }
    if (li > o.lens / 4 + LENS_BYTES / 4) throw new Error('new strings past their lane: split it');
    const bytes = text === '' ? 0 : u8.ucs2Write(text, o.text, TEXT_BYTES); // UTF-16: lone surrogates too (UTF-8 made them U+FFFD)
    if (bytes > TEXT_BYTES - 4) throw new Error('a batch text past its slot: split it');
    f64.set(buf.times.subarray(0, n), o.times / 8);
    i32[o.head / 4] = n;
    i32[o.head / 4 + 2] = bytes;
    text = '';
    Atomics.store(ctl, WRITTEN, s);
    Atomics.notify(ctl, WRITTEN, 1);
  };
}

async function child() {
  const kase = process.env.BENCH_OFF_CASE;
  const m = mods(ROOT);
  const { core, instrument, line } = m;
  const clientId = Buffer.alloc(16, 1);
  let seq = 0;
  let framed = 0;
  const todayFrames = [];
  registerNullDriver(instrument, 'benchframes', {
    notifyLines(b) {
      const f = m.lines.encodeLineBatch(clientId, ++seq, [{ text: b.lines.join('\n'), count: b.lines.length, errors: b.errors }], false);
      framed += f.count;
      if (VERIFY) todayFrames.push(f.frame);
    },
  });
  const config = core.configure({ enabled: true, connectionString: 'benchframes://x', host: 'bench', service: 'bench', hmacKeys: [KEY], maxBufferPoints: 1e6, flushIntervalMs: 60_000 });
  const runtime = globalThis[Symbol.for('osprofiler.runtime.v1')];
  const notifier = runtime.sink;
  const tail = line.lineTail(config.host, config.project, config.service);

  // The handoff side.
  let worker;
  let sink;
  let sab;
  const workerFrames = [];
  let workerFramed = () => framed;
  if (kase !== 'today') {
    let send = () => {};
    if (kase === 'clone' || kase === 'shared' || kase === 'fields') {
      if (kase !== 'clone') sab = new SharedArrayBuffer(CTL_BYTES + SLOTS * SLOT_BYTES);
      worker = new Worker(__filename, { workerData: { root: ROOT, kind: kase, tail, verify: VERIFY, sab } });
      worker.on('error', (e) => {
        console.error(e);
        process.exit(1);
      });
      if (VERIFY) worker.on('message', (msg) => msg.frame && workerFrames.push(Buffer.from(msg.frame)));
    }
    if (kase === 'clone') {
      send = (buf) => {
        buf.slots.length = buf.n * FIELDS;
        worker.postMessage({ n: buf.n, phases: buf.phases, times: buf.times, slots: buf.slots });
      };
      workerFramed = () =>
        new Promise((resolve) => {
          const on = (msg) => {
            if (msg.framed === undefined) return;
            worker.off('message', on);
            resolve(msg.framed);
          };
          worker.on('message', on);
          worker.postMessage({ sync: true });
        });
    } else if (kase === 'shared' || kase === 'fields') {
      send = sharedWriter(sab, m, kase === 'fields');
      const ctl = new Int32Array(sab, 0, CTL_BYTES / 4);
      workerFramed = () => {
        const w = Atomics.load(ctl, WRITTEN);
        for (let d = Atomics.load(ctl, DONE); d !== w; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d, 1000);
        if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`${kase}: the worker failed`);
        return Atomics.load(ctl, FRAMED);
      };
    } else if (kase === 'drop') {
      let dropped = 0;
      send = (buf) => (dropped += buf.n);
      workerFramed = () => dropped;
    } else throw new Error(`unknown case ${kase}`);
    sink = handoffSink(m, send);
    if (VERIFY) {
      // Both sinks fed the same points at the same time: nowMs pinned for each point.
      const clock = m.clock;
      const realNow = clock.nowMs;
      let t = 0;
      clock.nowMs = () => t;
      runtime.sink = {
        point(phase, name, baseId, traceId, parentId, info) {
          t = realNow();
          notifier.point(phase, name, baseId, traceId, parentId, info);
          sink.point(phase, name, baseId, traceId, parentId, info);
        },
      };
    } else runtime.sink = sink;
  }

  const nested = (k) => (k === 0 ? 0 : core.traced('fn', { function: { name: `f${k}` } }, () => nested(k - 1) + 1));
  const request = (trace) =>
    core.run(trace, () => {
      core.start('wsgi', { request: { path: '/nested', query: '', method: 'GET', scheme: 'http' } });
      nested(DEPTH);
      if (odd.length > 0) {
        core.start('odd', odd[nth++ % odd.length]);
        core.stop(odd[nth % odd.length]);
      }
      core.stop({ response: { status_code: 200 }, request: { route: '/nested' } });
    });
  // BENCH_OFF_VERIFY: each trace also records an `odd` point whose info is one of these
  // (the encodings' corners: what core formats with toPrimitive, cycles, depth, numbers,
  // non-ASCII and lone surrogates, escapes, `__proto__` and integer keys, an error's etype).
  // `shared` sends infos as JSON text: exact for JSON-plain infos only, so it gets none of
  // them; `clone` cannot clone a function (DataCloneError) and makes a class instance a plain
  // object, a Buffer a Uint8Array: those left out for it (a product would need a fallback).
  const odd = !VERIFY || kase === 'shared' ? [] : oddInfos().filter((o) => kase !== 'clone' || !(o && (typeof o.f === 'function' || o.row)));
  const linesPerTrace = LINES_PER_TRACE + (odd.length > 0 ? 2 : 0);
  const sampled = { hmacKey: KEY };
  let nth = 0;
  const traces = async (n) => {
    const before = kase === 'today' ? framed : await workerFramed();
    for (let i = 0; i < n; i += PER_FLUSH) {
      for (let j = i; j < Math.min(n, i + PER_FLUSH); j++) request(sampled);
      if (sink !== undefined) sink.flush();
      await core.flush(30_000);
    }
    const after = kase === 'today' ? framed : await workerFramed();
    if (after - before !== n * linesPerTrace) throw new Error(`${kase}: framed ${after - before} lines for ${n} traces`);
    return n;
  };
  await core.run(sampled, async () => {
    await null;
  }); // promise hooks on, as in a service
  const CG = require('./lib/callgrind.cjs');
  const steps = ALLOC || VERIFY ? undefined : CG.stepper();
  await traces(WARMUP);
  if (VERIFY) {
    for (let k = 0; k < 200 && workerFrames.length < todayFrames.length; k++) await new Promise((r) => setTimeout(r, 10));
    if (workerFrames.length !== todayFrames.length) throw new Error(`${kase}: ${workerFrames.length} frames from the worker, ${todayFrames.length} today`);
    let bytes = 0;
    for (let k = 0; k < todayFrames.length; k++) {
      if (!todayFrames[k].equals(workerFrames[k])) {
        const a = todayFrames[k].toString('latin1').split('\n');
        const b = workerFrames[k].toString('latin1').split('\n');
        const j = a.findIndex((l, i) => l !== b[i]);
        console.error(`line ${j}\ntoday:  ${a[j]}\nworker: ${b[j]}`);
        throw new Error(`${kase}: frame ${k} differs`);
      }
      bytes += todayFrames[k].length;
    }
    const sample = todayFrames[0].toString('latin1').split('\n')[0];
    process.stdout.write(`${JSON.stringify({ frames: todayFrames.length, lines: framed, bytes, sample: sample.slice(sample.indexOf('{')) })}\n`);
  } else if (ALLOC) {
    const { allocated } = require('./lib/allocated.cjs');
    const { bytes, frames } = await allocated(() => traces(COUNT));
    process.stdout.write(`${JSON.stringify({ bytes: bytes / COUNT, frames: frames.slice(0, 8).map(([f, b]) => [f, b / COUNT]) })}\n`);
  } else {
    await steps.step(kase, () => traces(COUNT));
    steps.end();
  }
  process.exit(0);
}

function oddInfos() {
  const cyc = { a: 1 };
  cyc.self = cyc;
  let deep = { leaf: 'x' };
  for (let d = 0; d < 12; d++) deep = { d, deep };
  const bare = Object.create(null);
  bare.k = 'v';
  class Row {
    constructor() {
      this.id = 7;
    }
  }
  return [
    { d: new Date(0), n: [1.5, -0, NaN, Infinity, -Infinity, 1e21, 2 ** 31, -5, 0.1 + 0.2], b: [true, false, null, undefined], u: undefined },
    { s: 'é€😀"\\\n\t\u0001', long: 'x'.repeat(40), empty: '', sur: 'a\ud800b' },
    { m: new Map([['a', 1]]), after: 'map' },
    { big: 10n },
    { f: function foo() {} },
    cyc,
    deep,
    bare,
    { row: new Row(), buf: Buffer.from('hi') },
    JSON.parse('{"__proto__": {"x": 1}, "b": 1, "2": "two", "a": 3, "1": "one"}'),
    { etype: 'ValueError', message: 'boom' },
    { etype: 'E', when: new Date(5) },
    { host: 'not-this-host', db: { statement: 'SELECT 1', params: [1, 'a', null] } },
    undefined,
  ];
}

// ---------------------------------------------------------------- the parent
/** A case under callgrind: per trace { main, worker, other } instructions. */
async function count(kase) {
  const CG = require('./lib/callgrind.cjs');
  const fs = require('node:fs');
  const os = require('node:os');
  const readline = require('node:readline');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-off25-'));
  const file = path.join(dir, 'cg');
  const extra = (process.env.BENCH_OFF_NODE_ARGS || '').split(' ').filter(Boolean);
  const vg = CG.spawnNode(file, [...NODE_ARGS, ...extra, __filename], { env: { ...process.env, BENCH_IR_CHILD: '1', BENCH_OFF_CASE: kase }, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  vg.stderr.on('data', (b) => (log += b));
  let out;
  try {
    for await (const l of readline.createInterface({ input: vg.stdout })) {
      if (l.startsWith('ready ')) {
        CG.start(vg.pid);
        vg.stdin.write('go\n');
      } else if (l.startsWith('done ')) {
        const units = Number(l.slice(5));
        const main = CG.dumpMainThreadEvents(file, vg.pid).Ir;
        const rest = CG.lastDumpThreads(file, vg.pid).filter((t) => t.thread !== '01').sort((a, b) => b.count - a.count);
        const worker = rest.length === 0 ? 0 : rest[0].count;
        const other = rest.slice(1).reduce((s, t) => s + t.count, 0);
        out = { main: main / units, worker: worker / units, other: other / units, threads: rest.length + 1 };
        // BENCH_IR_KEEP=<dir>: the dump's thread files (and a --perf-basic-prof map) kept for
        // lib/callgrind-functions.cjs, as <case>.<pid>-<thread> (with BENCH_OFF_NODE_ARGS=--perf-basic-prof).
        if (process.env.BENCH_IR_KEEP) {
          for (const t of CG.lastDumpThreads(file, vg.pid)) {
            const src = fs.readdirSync(dir).filter((f) => f.endsWith(`-${t.thread}`)).sort((a, b) => Number(b.split('.')[2].split('-')[0]) - Number(a.split('.')[2].split('-')[0]))[0];
            fs.copyFileSync(path.join(dir, src), path.join(process.env.BENCH_IR_KEEP, `${kase}.${vg.pid}-${t.thread}`));
          }
          const map = `/tmp/perf-${vg.pid}.map`;
          if (fs.existsSync(map)) fs.copyFileSync(map, path.join(process.env.BENCH_IR_KEEP, `${kase}.${vg.pid}.map`));
        }
        vg.stdin.write('next\n');
      }
    }
    const code = await new Promise((r) => (vg.exitCode !== null || vg.signalCode !== null ? r(vg.exitCode) : vg.once('exit', r)));
    if (code !== 0 || out === undefined) throw new Error(`${kase}: the run under callgrind exited with ${code}\n${log}`);
    return out;
  } finally {
    if (vg.exitCode === null && vg.signalCode === null) vg.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function plainChild(kase, env) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...NODE_ARGS, __filename], { env: { ...process.env, ...env, BENCH_IR_CHILD: '1', BENCH_OFF_CASE: kase }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      if (code !== 0 || !last) reject(new Error(`${kase}: the child exited with ${code}`));
      else resolve(JSON.parse(last));
    });
  });
}

const k = (v) => `${(v / 1000).toFixed(2)}k`;

async function main() {
  if (VERIFY) {
    for (const kase of CASES.filter((c) => c === 'clone' || c === 'shared' || c === 'fields')) {
      const v = await plainChild(kase, { BENCH_OFF_VERIFY: '1' });
      console.log(`verify ${kase}: ${v.frames} frames, ${v.lines} lines, ${v.bytes} bytes byte-identical to today's (core's notifier fed the same points and times)`);
      console.log(`  first line: ${v.sample}`);
    }
    return;
  }
  if (ALLOC) {
    console.log(`bytes allocated on the main thread's V8 heap per nested trace (lib/allocated.cjs), node ${process.version} --predictable; ${WARMUP} warm-up + ${COUNT} counted traces`);
    const last = new Map();
    for (let r = 1; r <= ROUNDS; r++) {
      const out = [];
      for (const kase of r % 2 === 0 ? [...CASES].reverse() : CASES) {
        const a = await plainChild(kase, { BENCH_ALLOC: '1' });
        last.set(kase, a.frames);
        out.push(`${kase} ${a.bytes.toFixed(0)} B`);
      }
      console.log(`  round ${r}  ${out.join('  ')}`);
    }
    for (const [kase, frames] of last) {
      console.log(`${kase}, bytes a trace by function (round ${ROUNDS}):`);
      for (const [f, b] of frames) console.log(`  ${b.toFixed(0).padStart(6)}  ${f}`);
    }
    return;
  }
  const CG = require('./lib/callgrind.cjs');
  console.log(`instructions per nested trace (6 points, 12 lines), callgrind (${CG.version()}) --separate-threads=yes, node ${process.version} --predictable; ${WARMUP} warm-up + ${COUNT} counted traces a case`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const kase of r % 2 === 0 ? [...CASES].reverse() : CASES) {
      const c = await count(kase);
      console.log(`  round ${r} ${kase.padEnd(6)} main ${k(c.main)}  worker ${k(c.worker)}  other ${k(c.other)}  (${c.threads} threads)`);
    }
  }
}

if (!isMainThread) workerMain();
else
  (process.env.BENCH_IR_CHILD ? child : main)().catch((err) => {
    console.error(err);
    process.exit(1);
  });
