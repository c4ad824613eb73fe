import type { PointSink } from './runtime';
import { untraced } from './api';
import { formatTimestamp, maybeReanchor, nowMs, timestampMilli, timestampSecond, timestampSub } from './clock';
import type { Driver } from './driver';
import { recordFailure } from './failures';
import { DriverWriteError } from './driver';
import { hasErrorType, lineTail, pointLine, startLines, type LineBatch, type LineIndex } from './line';
import { newLineIndex, pointDetail, stopRoute } from './search';
import type { Notification, NotificationInfo } from './notification';
import { toPrimitive } from './primitive';
import { cutInfo, infoBytes, mayExceed } from './info-budget';
import { TimeoutError, withTimeout } from './kit/timeout';
import { isLastUuid, isUuidBeforeLast } from './uuid';
import { ContextIdle } from './context-idle';
import { isThenable } from './thenable';

export interface NotifierOptions {
  project: string | null;
  service: string | null;
  host: string;
  /** How long points wait in the buffer before a batch goes to the driver. */
  flushIntervalMs: number;
  /** Points held at most; past this, new points are dropped and counted. */
  maxBufferPoints: number;
  /** A point's serialised info at most (bytes); longer string values are cut. Default: no limit. */
  maxInfoBytes?: number;
  /** Quiet ms after which the trace context's async hooks go off (context-idle.ts). Default 0: never. */
  contextIdleMs?: number;
}

export interface NotifierStats {
  /** Points accepted into the buffer. */
  points: number;
  /** Points dropped because the buffer was full. */
  dropped: number;
  /** Points handed to the driver in batches that then failed. */
  lost: number;
  /** Batches the driver accepted. */
  batches: number;
  /** Points stored with their info cut to `maxInfoBytes`. */
  infoCut: number;
  /** Times the trace context's async hooks were turned off while no trace was at work (`contextIdleMs`). */
  contextOff: number;
}

const FIELDS = 5; // per point in `Points.slots`: name, baseId, traceId, parentId, info (its phase in `Points.phases`)
/**
 * The phase slot of a start whose trace id is the uuid4 this copy of core drew for it
 * (bit 0 is the phase: 0 start, 1 stop). Its line skips that id's escaping check.
 */
const FRESH_START = 2;
/**
 * FRESH_START whose base id is the uuid4 drawn just before its own (a new trace's first
 * point, its root profiler's fresh base): the base id's escaping check is skipped too (the
 * RegExp over its 36 characters, ~0.7k instructions a trace; callgrind, trace-lines nested).
 */
const FRESH_ROOT = FRESH_START | 4;
/**
 * Under load a batch also goes as soon as it holds this many points (in a setImmediate,
 * still off the request path). Points that wait for the timer outlive the young
 * generation and cost the GC far more than their formatting: measured with 50 ms
 * batches, 6.2 µs of CPU per point against 3.8 µs with 1 ms ones (tools/bench/agent.cjs).
 */
const EARLY_FLUSH_POINTS = 256;

/**
 * The points of one batch, as the request path appends them. The arrays are made at their
 * batch's likely size (the last batch's, plus a quarter) and written by index within it:
 * grown from empty by `push` they were copied at every growth, and the times were boxed
 * numbers — 2.2 KB of young garbage a traced /nested request (6 points) of its 6.4 KB
 * (tools/bench/trace-lines.cjs shapes, new-space bytes measured around 40 requests).
 */
interface Points {
  /** FIELDS slots a point. */
  slots: unknown[];
  /**
   * Each point's phase (3 bits: 0 start, 1 stop, FRESH_START, FRESH_ROOT), PHASES_PER to a
   * small integer: a slot of its own was 8 bytes a point (10 with the presizing), a traced
   * /nested request's 12 points 120 bytes of young garbage (trace-lines.cjs BENCH_ALLOC).
   */
  phases: number[];
  /** Each point's `nowMs()`: a holey-double array, the numbers unboxed. */
  times: number[];
  /** Points written. */
  n: number;
}

const MIN_POINTS = 64;
const MAX_PRESIZED_POINTS = 4096;

/**
 * A holey array of doubles at least as long as any `times` made so far, copied (`slice`) for
 * each new one: `new Array(n)` is an array of small integers, and the batch's first time
 * stored in it changed its elements to doubles, a second backing store of n × 8 bytes made
 * and the first one garbage (120 bytes a traced /nested request at 40 traces a batch, and
 * `CopySmiToDoubleElements`: trace-lines.cjs BENCH_ALLOC and callgrind). Grown only when a
 * batch asks for more, up to MAX_PRESIZED_POINTS doubles (32 KB).
 */
let doubles: number[] = holeyDoubles(MIN_POINTS);

function holeyDoubles(n: number): number[] {
  return new Array<number>(n).fill(0.5);
}

/** `n` times' room, doubles from the start (see `doubles`; past MAX_PRESIZED_POINTS made apart, not kept). */
function newTimes(n: number): number[] {
  if (doubles.length < n) {
    if (n > MAX_PRESIZED_POINTS) return holeyDoubles(n);
    doubles = holeyDoubles(n);
  }
  return doubles.slice(0, n);
}

const PHASE_BITS = 3;
const PHASES_PER = 8; // 24 bits: a small integer on every platform
const PHASES_SHIFT = 3; // log2(PHASES_PER)

function newPhases(capacity: number): number[] {
  return new Array<number>(Math.ceil(capacity / PHASES_PER)).fill(0);
}

/** Point `p`'s phase (bit 0: 0 start, 1 stop; FRESH_START, FRESH_ROOT). */
function phaseOf(points: Points, p: number): number {
  return (points.phases[p >> PHASES_SHIFT] >> ((p & (PHASES_PER - 1)) * PHASE_BITS)) & 7;
}

/** Bit 0 (the phase: 1 a stop) of each of a phases word's points. */
const STOP_BITS = 0b001_001_001_001_001_001_001_001;

/** How many of `points`' points are stops (their phases' bit 0 counted a word at a time). */
function stopsOf(points: Points): number {
  const words = points.phases;
  const last = (points.n + PHASES_PER - 1) >> PHASES_SHIFT;
  let stops = 0;
  for (let i = 0; i < last; i++) {
    let x = words[i] & STOP_BITS;
    while (x !== 0) {
      x &= x - 1;
      stops++;
    }
  }
  return stops;
}

function newPoints(capacity: number): Points {
  return { slots: new Array<unknown>(capacity * FIELDS), phases: newPhases(capacity), times: newTimes(capacity), n: 0 };
}

/**
 * The sink behind every trace point. The request path only appends ids, a time and the
 * caller's info object to a flat array; formatting timestamps, building notification
 * dicts and handing batches to the driver all happen later, off the request path.
 */
export class BatchNotifier implements PointSink {
  private buf: Points = newPoints(MIN_POINTS);
  /**
   * One timer for the notifier's life, re-armed with `refresh()`: a new timer per batch
   * was made under `storage.exit()`, which on Node 20 turns the async hooks off and on
   * again (~40k instructions a batch under callgrind, more than formatting the batch).
   * It was created outside any trace, so its callback never runs in a request's context.
   */
  private timer: NodeJS.Timeout | undefined;
  private armed = false;
  private early: NodeJS.Immediate | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The driver once `driver` resolved, so that a batch is handed over without awaiting it. */
  private resolved: Driver | undefined;
  /** Sends that returned a promise and have not settled: later batches wait in `chain`. */
  private sending = 0;
  private closed = false;
  readonly stats: NotifierStats = { points: 0, dropped: 0, lost: 0, batches: 0, infoCut: 0, contextOff: 0 };
  private readonly maxPoints: number;

  constructor(
    private readonly driver: Driver | Promise<Driver>,
    private readonly options: NotifierOptions,
  ) {
    this.maxPoints = options.maxBufferPoints;
    this.maxInfo = options.maxInfoBytes ?? Infinity;
    this.idle = new ContextIdle(options.contextIdleMs ?? 0, this);
    if (isDriver(driver)) this.resolved = driver;
    else
      driver.then(
        (d) => {
          this.resolved = d;
        },
        () => {},
      );
  }

  private readonly maxInfo: number;
  private readonly idle: ContextIdle;

  /** `info` cut to the info budget, or undefined when it fits (off the request path). */
  private fitInfo(info: object): Record<string, unknown> | undefined {
    const o = toPrimitive(info);
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined; // the formatter reports it
    if (!mayExceed(o, this.maxInfo) || infoBytes(o as Record<string, unknown>) <= this.maxInfo) return undefined;
    this.stats.infoCut++;
    return cutInfo(o, this.maxInfo);
  }

  point(phase: 0 | 1, name: string, baseId: string, traceId: string, parentId: string, info: object | undefined): void {
    const buf = this.buf;
    const n = buf.n;
    if (n >= this.maxPoints || this.closed) {
      this.stats.dropped++;
      return;
    }
    if (n === buf.times.length) grow(buf);
    const s = buf.slots;
    const o = n * FIELDS;
    const ph = phase === 0 && isLastUuid(traceId) ? (isUuidBeforeLast(baseId) ? FRESH_ROOT : FRESH_START) : phase;
    if (ph !== 0) buf.phases[n >> PHASES_SHIFT] |= ph << ((n & (PHASES_PER - 1)) * PHASE_BITS);
    s[o] = name;
    s[o + 1] = baseId;
    s[o + 2] = traceId;
    s[o + 3] = parentId;
    s[o + 4] = info;
    buf.times[n] = nowMs();
    buf.n = n + 1;
    if (!this.armed) this.schedule();
    else if (n + 1 >= EARLY_FLUSH_POINTS && this.early === undefined) this.scheduleEarly();
  }

  private scheduleEarly(): void {
    // Made outside any trace (an immediate made inside a request would keep its context);
    // untraced() swaps the store, where storage.exit() would toggle the async hooks.
    this.early = untraced(() =>
      setImmediate(() => {
        this.early = undefined;
        void this.flushBuffer();
      }),
    );
  }

  private schedule(): void {
    this.armed = true;
    if (this.timer !== undefined) {
      // Untraced too: refresh() of a timer that already fired runs the async init hooks again
      // (Node's timers re-initialise a destroyed Timeout), so the timer would take the
      // current request's context and the driver's own writes would be recorded in that
      // trace (packages/pg/test/own-driver.test.ts caught it).
      const timer = this.timer;
      untraced(() => timer.refresh());
      return;
    }
    this.timer = untraced(() => setTimeout(() => this.onTimer(), this.options.flushIntervalMs));
    this.timer.unref();
  }

  private onTimer(): void {
    // Fired after an early flush emptied the buffer: nothing to do until the next point re-arms it.
    if (this.armed) void this.flushBuffer();
  }

  /** Formats everything buffered so far and hands it to the driver (in order, one batch at a time). */
  private flushBuffer(): Promise<void> {
    this.armed = false;
    const buf = this.buf;
    if (buf.n === 0) return this.chain;
    this.idle.batch(buf.n, stopsOf(buf));
    this.buf = newPoints(Math.min(Math.max(buf.n + (buf.n >> 2), MIN_POINTS), MAX_PRESIZED_POINTS));
    // With the driver ready and no earlier batch still being stored, the batch goes now:
    // no promise and no microtask per batch (each is a promise-hook call on Node 20 once
    // a trace has run). A send that returns a promise makes later batches wait for it.
    if (this.resolved !== undefined && this.sending === 0) {
      const r = this.sendTo(this.resolved, buf);
      if (r !== undefined) this.track(r);
      return this.chain;
    }
    this.track(this.chain.then(() => this.send(buf)));
    return this.chain;
  }

  /** Later batches wait for `p` (sends never reject: failures are counted inside). */
  private track(p: Promise<void>): void {
    this.sending++;
    const done = (): void => {
      this.sending--;
    };
    this.chain = p.then(done, done);
  }

  private async send(buf: Points): Promise<void> {
    let driver: Driver;
    try {
      driver = await this.driver;
    } catch (err) {
      this.stats.lost += buf.n;
      recordFailure('driver.notify', err);
      return;
    }
    await this.sendTo(driver, buf);
  }

  /** Hands `buf` to `driver`; a promise only when the driver's call returned one. Never throws. */
  private sendTo(driver: Driver, buf: Points): Promise<void> | undefined {
    maybeReanchor();
    // Drivers that store text take the lines directly (the raw path): no notification
    // objects, one serialisation per point, done here.
    if (typeof driver.notifyLines === 'function') return this.sendLines(driver, buf);
    return this.sendObjects(driver, buf);
  }

  private async sendObjects(driver: Driver, buf: Points): Promise<void> {
    let batch: Notification[];
    try {
      batch = this.format(buf);
    } catch (err) {
      this.stats.lost += buf.n;
      recordFailure('notifier.format', err);
      return;
    }
    this.stats.points += batch.length;
    try {
      await driver.notify(batch);
      this.stats.batches++;
    } catch (err) {
      this.stats.lost += batch.length;
      recordFailure('driver.notify', err);
    }
  }

  private sendLines(driver: Driver, buf: Points): Promise<void> | undefined {
    let n = 0;
    try {
      const batch = this.formatLines(buf);
      n = batch.lines.length;
      if (n === 0) return undefined;
      this.stats.points += n;
      const r = (driver.notifyLines as (b: LineBatch) => Promise<void> | void)(batch);
      if (!isThenable(r)) {
        this.stats.batches++;
        return undefined;
      }
      const lost = n;
      return Promise.resolve(r).then(
        () => {
          this.stats.batches++;
        },
        (err: unknown) => {
          this.stats.lost += lost;
          recordFailure('driver.notify', err);
        },
      );
    } catch (err) {
      this.stats.lost += n;
      recordFailure('driver.notify', err);
      return undefined;
    }
  }

  private tail: string | undefined;

  /** The lines of a buffer; a point whose info cannot be serialised is lost and counted alone. */
  private formatLines(points: Points): LineBatch {
    const { project, service, host } = this.options;
    const tail = (this.tail ??= lineTail(host, project, service));
    const buf = points.slots;
    const n = points.n;
    // Made at the batch's size and written by index (`push` from empty grew it twice for a
    // 24-line batch); cut to the lines kept only when a point was lost. The base ids are read
    // from the points when a driver asks (FormattedLines.baseIds).
    const lines = new Array<string>(n);
    let kept = 0;
    let errors: Uint8Array | null = null;
    // Each kept line's point (the search index, base ids and timestamps are read from there,
    // only when a driver asks): made only once a point is lost, line j's point is otherwise
    // point j.
    let at: number[] | null = null;
    startLines();
    for (let p = 0; p < n; p++) {
      const i = p * FIELDS;
      const info = buf[i + 4] as object | undefined;
      const baseId = buf[i + 1] as string;
      const micros = timestampSub(points.times[p]);
      const milli = timestampMilli();
      const second = timestampSecond();
      let line: string;
      try {
        const phase = phaseOf(points, p);
        const suffix = (phase & 1) === 0 ? '-start' : '-stop';
        line = pointLine(buf[i] as string, suffix, baseId, buf[i + 2] as string, buf[i + 3] as string, second, milli, micros, info, tail, (phase & FRESH_START) !== 0, phase === FRESH_ROOT);
        // The line holds the whole info, so a line within the budget needs no closer look.
        if (line.length > this.maxInfo && info !== undefined) {
          const cut = this.fitInfo(info);
          if (cut !== undefined) line = pointLine(buf[i] as string, suffix, baseId, buf[i + 2] as string, buf[i + 3] as string, second, milli, micros, cut, tail, (phase & FRESH_START) !== 0, phase === FRESH_ROOT);
        }
      } catch (err) {
        this.stats.lost++;
        recordFailure('notifier.format', err);
        if (at === null) {
          at = [];
          for (let j = 0; j < kept; j++) at.push(j);
        }
        continue;
      }
      if (hasErrorType(info)) (errors ??= new Uint8Array(n))[kept] = 1;
      if (at !== null) at.push(p);
      lines[kept] = line;
      kept++;
    }
    if (kept !== n) lines.length = kept;
    if (errors !== null && errors.length !== kept) errors = errors.subarray(0, kept);
    return new FormattedLines(lines, errors, at, points, this.options);
  }

  private format(points: Points): Notification[] {
    const { project, service, host } = this.options;
    const buf = points.slots;
    const out: Notification[] = new Array(points.n);
    for (let j = 0; j < points.n; j++) {
      const i = j * FIELDS;
      const raw = buf[i + 4];
      let info = (raw === undefined ? {} : (toPrimitive(raw) as Record<string, unknown>)) as NotificationInfo;
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new TypeError('trace info must be an object');
      if (this.maxInfo !== Infinity && mayExceed(info, this.maxInfo) && infoBytes(info) > this.maxInfo) {
        this.stats.infoCut++;
        info = cutInfo(info, this.maxInfo) as NotificationInfo;
      }
      // host goes last, as Python adds it
      delete (info as { host?: string }).host;
      info.host = host;
      out[j] = {
        name: (buf[i] as string) + ((phaseOf(points, j) & 1) === 0 ? '-start' : '-stop'),
        base_id: buf[i + 1] as string,
        trace_id: buf[i + 2] as string,
        parent_id: buf[i + 3] as string,
        timestamp: formatTimestamp(points.times[j]),
        info,
        project,
        service,
      };
    }
    return out;
  }

  /** Sends what is buffered and waits until the driver has stored it, or `timeoutMs` passed. */
  async flush(timeoutMs = 5000): Promise<void> {
    // The driver's own I/O runs outside the caller's trace (flush() awaited in a request):
    // a DB adapter on the same client library (@osprofiler/pg) would record it otherwise.
    // untraced(), not storage.exit(): a process trace (api.ts enterProcessTrace) would be read
    // where exit() leaves no store.
    await untraced(() =>
      withTimeout(
        (async () => {
          await this.flushBuffer();
          const driver = await this.driver;
          await driver.flush(timeoutMs);
        })(),
        timeoutMs,
        'flush',
      ),
    ).catch((err: unknown) => {
      // Past timeoutMs the caller goes on (what is left is sent later): not a failure.
      if (err instanceof TimeoutError) return;
      // A buffering driver counted its lost writes when they happened: only add them up.
      if (err instanceof DriverWriteError) this.stats.lost += err.lost;
      else recordFailure('notifier.flush', err);
    });
  }

  /** Flushes, then closes the driver; later points are dropped and counted. */
  async close(timeoutMs = 5000): Promise<void> {
    this.idle.stop();
    await this.flush(timeoutMs);
    this.closed = true;
    try {
      const driver = await this.driver;
      await withTimeout(driver.close(), timeoutMs, 'driver close');
    } catch (err) {
      if (!(err instanceof TimeoutError)) recordFailure('driver.close', err);
    }
  }

  /** Points waiting in the buffer. */
  get pending(): number {
    return this.buf.n;
  }
}

/**
 * A batch's lines; its base ids, timestamps and search index are made when a driver reads
 * them (the agent:// client reads none of them unless it drops points: an array of the base
 * ids made for each batch was 8 bytes a line of young garbage, trace-lines.cjs BENCH_ALLOC). A class, not an object literal with getters: each literal's
 * getters were closures of their own, so each batch got a hidden class of its own, made in
 * old space, whose accessors held the batch's points. Dead there until a mark-compact, those
 * maps kept every batch's points alive through the scavenges: ~1.8 KB a traced /nested
 * request (6 points) promoted, ~2 MB at every scavenge (tools/bench/README.md, trace-lines).
 */
class FormattedLines implements LineBatch {
  private bases: string[] | undefined;
  private times: string[] | undefined;
  private idx: LineIndex | undefined;

  constructor(
    readonly lines: string[],
    readonly errors: Uint8Array | null,
    /** Each line's point (its index in `points`); null: line j is point j. */
    private readonly at: number[] | null,
    private readonly points: Points,
    private readonly options: NotifierOptions,
  ) {}

  /** Each line's base id. */
  get baseIds(): string[] {
    if (this.bases === undefined) {
      const { at, points, lines } = this;
      const slots = points.slots;
      const b = new Array<string>(lines.length);
      for (let j = 0; j < lines.length; j++) b[j] = slots[(at === null ? j : at[j]) * FIELDS + 1] as string;
      this.bases = b;
    }
    return this.bases;
  }

  /** The same text as the lines' timestamps. */
  get timestamps(): string[] {
    if (this.times === undefined) {
      const { at, points, lines } = this;
      const t = new Array<string>(lines.length);
      for (let j = 0; j < lines.length; j++) t[j] = formatTimestamp(points.times[at === null ? j : at[j]]);
      this.times = t;
    }
    return this.times;
  }

  get index(): LineIndex {
    const { project, service, host } = this.options;
    return (this.idx ??= indexOfBuffer(this.points, this.at, this.lines.length, project, service, host));
  }
}

/** What search indexes need of the points at `at` in a notifier buffer (LineBatch.index). */
function indexOfBuffer(points: Points, at: readonly number[] | null, n: number, project: string | null, service: string | null, host: string): LineIndex {
  // Filled by position (search.ts newLineIndex): names are already cut, and project, service
  // and host are this process's, so setIndexEntry's reads of a point object do not apply.
  const index = newLineIndex(n);
  const buf = points.slots;
  for (let j = 0; j < n; j++) {
    const p = at === null ? j : at[j];
    const i = p * FIELDS;
    const info = buf[i + 4] as object | undefined;
    const stop = (phaseOf(points, p) & 1) !== 0;
    index.phases[j] = stop ? 1 : 0;
    index.names[j] = buf[i] as string;
    index.parentIds[j] = buf[i + 3] as string;
    index.projects[j] = project;
    index.services[j] = service;
    index.hosts[j] = host;
    index.details[j] = pointDetail(info);
    index.routes[j] = stop ? stopRoute(info) : null;
  }
  return index;
}

/** Twice the room, the points kept (a batch larger than its arrays were made for). */
function grow(b: Points): void {
  const slots = new Array<unknown>(b.slots.length * 2);
  const phases = newPhases(b.times.length * 2);
  const times = newTimes(b.times.length * 2);
  for (let k = 0; k < b.slots.length; k++) slots[k] = b.slots[k];
  for (let k = 0; k < b.phases.length; k++) phases[k] = b.phases[k];
  for (let k = 0; k < b.times.length; k++) times[k] = b.times[k];
  b.slots = slots;
  b.phases = phases;
  b.times = times;
}

function isDriver(d: Driver | Promise<Driver>): d is Driver {
  return !isThenable(d);
}
