/**
 * The redis:// search index's write side, layout 2 (./index-layout.ts): a batch's traces go
 * out as ONE record blob, its ids, and one sorted-set member per distinct filter value, all
 * framed here as one text (RespEncoder.framedCommands). A trace's records are never merged
 * here: a trace whose lines came in more than one batch is marked in `split` once its LPUSH
 * answered (./driver.ts), and read whole from its lines (./index-read.ts).
 */
import { randomBytes } from 'node:crypto';
import type { TraceDelta } from '@osprofiler/core/instrument';
import { timestampMicrosText } from '../timestamp';
import { BATCHES, BLOB, ERROR_POSTING, IDS, META, POSTING, POSTING_KEYS, SPAN, SPLIT, DUR_CLASS_MAX, batchMember, durClass, idInBlob, postingKey, type PostingKind } from './index-layout';
import { TRIM_SCRIPT } from './index-scripts';
import { CRLF, cmd, frame, head, named } from './frame';
import { Script, type RespEncoder } from './resp';
import { PartsMemo, sameList, summaryText } from './search';

/** Trimming's script (`?ttl=`), sent as EVALSHA on the driver's write connection (loaded there at connect). */
export const TRIM = new Script(TRIM_SCRIPT);

/** Trimming runs at most this often per driver. */
const TRIM_EVERY_MS = 60_000;
/** Posting keys a writer remembers having listed in `vkeys` (then it lists them again). */
const KNOWN_MAX = 4096;

const SET = named('SET');
const ZADD = named('ZADD');
const SADD = named('SADD');
/** A 4-argument ZADD's header. */
const ZADD4 = cmd(4, ZADD);
const EVALSHA = named('EVALSHA');
const EX = frame('EX', false);
const LT = frame('LT', false);

/**
 * A character JSON escapes or one past ASCII (as core's isPlainString): a batch whose
 * strings have none is written without a check per string (PLAIN_TEXT: the traces' texts,
 * whose only escaped character may then be their line breaks).
 */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const PLAIN_TEXT = /^[\n\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A trace's duration in µs (its first timestamp read: `fu`, timestampMicrosText's), or NaN
 * when its last is not a timestamp Python reads (the trace is then not indexed). When the
 * two (Python's 26-character form) share their minute, the difference of their seconds'
 * and six fraction digits, read here (µs are linear in them within a minute), and the last
 * is known readable by those digits (its seconds below 60, the rest as the first's): its
 * own µs reading (timestampMicrosText, ~1k instructions: a 19-character slice compared in
 * V8's runtime) is saved, which the summary no longer holds (search.ts summaryText); else
 * read and `Number(lu) - Number(fu)`.
 */
export function durationMicros(first: string, last: string, fu: string): number {
  if (first === last) return 0;
  // The minutes compared as two slices (V8's runtime compares them): 17 charCodeAt pairs
  // cost ~350 instructions more a trace (scratch callgrind, timestamps as search.cjs's).
  if (first.length === 26 && last.length === 26 && first.slice(0, 17) === last.slice(0, 17)) {
    if (first.charCodeAt(19) === 46 && last.charCodeAt(19) === 46 && last.charCodeAt(17) <= 53) {
      let a = 0;
      let b = 0;
      let digits = true;
      for (let i = 17; i < 26; i++) {
        if (i === 19) continue;
        const x = first.charCodeAt(i) - 48;
        const y = last.charCodeAt(i) - 48;
        if (x < 0 || x > 9 || y < 0 || y > 9) {
          digits = false;
          break;
        }
        a = a * 10 + x;
        b = b * 10 + y;
      }
      if (digits) return b - a;
    }
  }
  const lu = timestampMicrosText(last);
  return lu === undefined ? NaN : Number(lu) - Number(fu);
}

/** Whether one of the list's first m ids holds a space. */
function spaced(ids: readonly string[], m: number): boolean {
  for (let i = 0; i < m; i++) if (ids[i].indexOf(' ') >= 0) return true;
  return false;
}

/** Whether µs text `a` is before `b` (same length and no sign: their characters order them). */
function earlier(a: string, b: string): boolean {
  if (a.length === b.length && a.charCodeAt(0) !== 45 && b.charCodeAt(0) !== 45) return a < b;
  return Number(a) < Number(b);
}

/** A filter kind's values in a batch, each once, in the order first met. */
class Values {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  private last: readonly string[] | undefined;

  /** Empty again, for the writer's next batch (kept: see Kept). */
  reset(): void {
    if (this.list.length === 0) return;
    this.list.length = 0;
    this.seen.clear();
    this.last = undefined;
  }

  addAll(values: readonly string[]): void {
    // Consecutive traces mostly share their lists (one app's batch): compared, not hashed.
    if (this.last !== undefined && sameList(values, this.last)) return;
    this.last = values;
    // Indexed, not for-of: whenever this ran unoptimized (not inlined into an optimized
    // addToBatch) a for-of allocated an array iterator and a result object a value (~110
    // bytes a trace of search.cjs's, two lists a trace, BENCH_ALLOC=1).
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  add(v: string): void {
    if (this.seen.has(v)) return;
    this.seen.add(v);
    this.list.push(v);
  }
}

/** Traces a batch may have for a writer to keep its arrays (Kept); past it they are made anew. */
const KEPT_MAX = 4096;

/**
 * IndexWriter's per-batch arrays and sets (addToBatch), kept: besides the garbage, objects
 * of a class made anew each batch lose their map in a full GC once the last is collected
 * ('weak objects': V8 throws away the optimized code that holds it, and addToBatch then ran
 * in baseline code, its Map iteration allocating a result object an entry).
 */
class Kept {
  readonly traces: TraceDelta[] = [];
  /** The traces' durations (µs). */
  readonly durs: number[] = [];
  readonly idList: string[] = [];
  readonly strs: string[] = [];
  readonly txts: string[] = [];
  readonly services = new Values();
  readonly projects = new Values();
  readonly hosts = new Values();
  readonly roots = new Values();
  /** Which duration classes the batch has (classList: in the order first met). */
  readonly classes = new Uint8Array(DUR_CLASS_MAX + 1);
  readonly classList: number[] = [];
  readonly tail: string[] = [];
  readonly keys: Posting[] = [];
  readonly fresh: Posting[] = [];
}

/** A posting key, framed (counting characters) and as its ZADD's start, each made once (flat). */
class Posting {
  readonly framed: string;
  readonly zadd: string;

  constructor(readonly key: string) {
    this.framed = [head(key.length), key, CRLF].join('');
    this.zadd = [ZADD4, this.framed].join('');
  }
}

const KINDS: readonly PostingKind[] = ['service', 'project', 'host', 'root'];

/** Postings a writer keeps (Postings); past it they are made anew. */
const POSTINGS_MAX = 4096;

/**
 * A writer's Posting per kind and value, kept from batch to batch: a batch's ~40 keys were
 * each joined, framed and hashed again (~100 bytes a trace of 100, callgrind ~0.3k). Keyed
 * by a copy of the value (a slice of its flat key), not the batch's string, which may be a
 * slice of a whole frame's text.
 */
class Postings {
  private readonly byKind = KINDS.map(() => new Map<string, Posting>());
  private readonly durs: (Posting | undefined)[] = new Array<Posting | undefined>(DUR_CLASS_MAX + 1).fill(undefined);
  private size = 0;
  readonly error = new Posting(ERROR_POSTING);

  of(kind: number, v: string): Posting {
    const m = this.byKind[kind];
    let p = m.get(v);
    if (p === undefined) {
      if (++this.size > POSTINGS_MAX) {
        for (const x of this.byKind) x.clear();
        this.size = 1;
      }
      const prefix = POSTING + KINDS[kind] + ':';
      p = new Posting([prefix, v].join(''));
      m.set(p.key.slice(prefix.length), p);
    }
    return p;
  }

  dur(c: number): Posting {
    return (this.durs[c] ??= new Posting(postingKey('dur', String(c))));
  }
}

export class IndexWriter {
  /** The summaries' shared parts, kept from batch to batch (PartsMemo). */
  private readonly parts = new PartsMemo();
  /** This writer's part of its batch members (unique across writers and restarts). */
  private readonly writer = randomBytes(4).toString('hex');
  private seq = 0;
  private lastTrim = 0;
  /** Posting keys this writer listed in `vkeys` since its last trim. */
  private readonly known = new Set<string>();
  private readonly postings = new Postings();
  /** The largest span this writer sent to `meta`. */
  private span = 0;
  /** Trimming runs at most this often (tests set 0: every batch). */
  trimEveryMs = TRIM_EVERY_MS;
  /**
   * addToBatch's arrays, kept from batch to batch (not grown again a batch: ~90 bytes a
   * trace of 100), each holding its batch's values in its first entries.
   */
  private kept = new Kept();

  constructor(private readonly ttlSeconds: number) {}

  /**
   * Encodes the index update of a batch (its deltas, one a trace) into the driver's write
   * batch. Returns whether its last command is TRIM's EVALSHA (once.ts looks for its
   * NOSCRIPT there).
   */
  addToBatch(enc: RespEncoder, deltas: Map<string, TraceDelta>): boolean {
    // The writer's arrays (see Kept): the batch's first n or m entries are its own, each
    // emptied once used (held until the next batch, a scavenge in between would copy what
    // they hold and promote it to the old space).
    const { traces, durs, idList, strs, txts } = this.kept;
    // Spread (a builtin's fast path): a for-of of the Map's values allocated a result object
    // an entry whenever addToBatch ran unoptimized.
    const all = [...deltas.values()];
    const n = all.length;
    // The batch's strings at once, for one plainness check instead of one per string (a
    // RegExp's call costs ~300 instructions, through the runtime): joined, where `+` cost a
    // 32-byte ConsString a string and the check's flattening a copy; a value the trace before
    // had too is not added again.
    let ns = 0;
    let nt = 0;
    let prev: TraceDelta | undefined;
    let m = 0;
    // The batch's earliest and latest first timestamps (µs): of traces with keys as numbers,
    // of the others as texts (see below).
    let minKey = Infinity;
    let maxKey = -Infinity;
    let minFu = '';
    let maxFu = '';
    for (let i = 0; i < n; i++) {
      const d = all[i];
      // From the timestamps' keys when the batch had them (the agent's: numbers). A keyed
      // timestamp is one core's µs text reads too, so the trace is indexed; its text, read
      // for every trace before (timestampMicrosText: a 19-character slice compared in V8's
      // runtime, ~1.2k instructions, and `earlier`'s compares of two µs texts ~0.65k a trace
      // of 1-point traces, agent-ir.cjs's profile), is made once a batch, for its extremes.
      const key = d.firstUs;
      let us = key === undefined ? NaN : (d.lastUs as number) - key;
      if (us === us) {
        const k = key as number;
        if (k < minKey) minKey = k;
        if (k > maxKey) maxKey = k;
      } else {
        // The µs text of the trace's first timestamp (core's reading keeps the last second it
        // met at hand: a batch's starts share their seconds in runs); its last is read only
        // for its duration (durationMicros), mostly from its digits.
        const fu = timestampMicrosText(d.first);
        if (fu === undefined) continue; // not a timestamp Python could read: not indexed
        us = durationMicros(d.first, d.last, fu);
        if (us !== us) continue; // its last not readable either
        if (minFu === '' || earlier(fu, minFu)) minFu = fu;
        if (maxFu === '' || earlier(maxFu, fu)) maxFu = fu;
      }
      idList[m] = d.baseId;
      traces[m] = d;
      durs[m++] = us;
      if (prev === undefined || !sameList(d.services, prev.services)) for (let j = 0; j < d.services.length; j++) strs[ns++] = d.services[j];
      if (prev === undefined || !sameList(d.projects, prev.projects)) for (let j = 0; j < d.projects.length; j++) strs[ns++] = d.projects[j];
      if (prev === undefined || !sameList(d.hosts, prev.hosts)) for (let j = 0; j < d.hosts.length; j++) strs[ns++] = d.hosts[j];
      const r = d.root;
      if (r !== null) {
        const pr = prev?.root;
        if (pr == null || r.name !== pr.name) strs[ns++] = r.name;
        // The root's service is mostly the trace's first (checked with the services above, or before).
        if (r.service !== null && (pr == null || r.service !== pr.service) && r.service !== d.services[0]) strs[ns++] = r.service;
        if (r.ts !== d.first) strs[ns++] = r.ts;
        if (r.detail !== null) strs[ns++] = r.detail;
      }
      if (d.route !== null && (prev === undefined || d.route !== prev.route)) strs[ns++] = d.route;
      txts[nt++] = d.text;
      prev = d;
    }
    if (m === 0) return false;
    // The ids joined (one flat string, written as it is): checked there, not copied into `strs`.
    idList.length = m;
    strs.length = ns;
    txts.length = nt;
    let ids = idList.join(' ');
    const plain = PLAIN.test(ids) && PLAIN.test(strs.join('')) && PLAIN_TEXT.test(txts.join(''));
    for (let i = 0; i < ns; i++) strs[i] = '';
    for (let i = 0; i < nt; i++) txts[i] = '';
    // An id holding a space (or, in a batch not plain, a backslash) is written escaped
    // (idInBlob): the reader splits the blob on spaces.
    if (!plain || spaced(idList, m)) {
      for (let i = 0; i < m; i++) idList[i] = idInBlob(idList[i]);
      ids = idList.join(' ');
    }
    for (let i = 0; i < m; i++) idList[i] = '';
    const bytes = !plain;

    const { services, projects, hosts, roots, classes, classList } = this.kept;
    services.reset();
    projects.reset();
    hosts.reset();
    roots.reset();
    for (let i = 0; i < classList.length; i++) classes[classList[i]] = 0;
    classList.length = 0;
    let error = false;
    let records = '';
    // Keys as µs texts: String() of such a number is its timestampMicrosText (an integer
    // under 2^53, no exponent).
    if (minKey <= maxKey) {
      const a = String(minKey);
      const b = minKey === maxKey ? a : String(maxKey);
      if (minFu === '' || earlier(a, minFu)) minFu = a;
      if (maxFu === '' || earlier(maxFu, b)) maxFu = b;
    }
    const parts = this.parts;
    for (let i = 0; i < m; i++) {
      const d = traces[i];
      traces[i] = undefined as unknown as TraceDelta;
      // A rope, its pieces `+`-joined: Array.join of a batch's pieces (a slot a piece, no
      // ConsString) allocated ~40 % fewer bytes a trace but cost ~2.5k instructions more (its
      // loop ~110 a piece, the kept array's write barrier), see tools/bench/README.md.
      const sum = summaryText(d, '', '', plain, parts.of(d), d.baseId, i > 0);
      records = i === 0 ? sum : records + sum;
      if (d.error) error = true;
      services.addAll(d.services);
      projects.addAll(d.projects);
      hosts.addAll(d.hosts);
      if (d.root !== null && d.root.name !== '') roots.add(d.root.name);
      const c = durClass(durs[i]);
      if (classes[c] === 0) {
        classes[c] = 1;
        classList.push(c);
      }
    }

    if (n > KEPT_MAX) this.kept = new Kept(); // a burst's batch: its arrays not kept
    const { keys, fresh } = this.kept;
    const postings = this.postings;
    let nk = 0;
    if (error) keys[nk++] = postings.error;
    // Indexed loops here and below (see Values.addAll).
    for (let i = 0; i < services.list.length; i++) keys[nk++] = postings.of(0, services.list[i]);
    for (let i = 0; i < projects.list.length; i++) keys[nk++] = postings.of(1, projects.list[i]);
    for (let i = 0; i < hosts.list.length; i++) keys[nk++] = postings.of(2, hosts.list[i]);
    for (let i = 0; i < roots.list.length; i++) keys[nk++] = postings.of(3, roots.list[i]);
    for (let i = 0; i < classList.length; i++) keys[nk++] = postings.dur(classList[i]);
    keys.length = nk;
    let nf = 0;
    for (let i = 0; i < nk; i++) if (!this.known.has(keys[i].key)) fresh[nf++] = keys[i];
    fresh.length = nf;
    let span = '';
    if (m > 1) {
      const us = Number(maxFu) - Number(minFu);
      if (us > this.span) span = String(us);
    }
    const now = Date.now();
    const trim = this.ttlSeconds > 0 && now - this.lastTrim >= this.trimEveryMs ? String((now - this.ttlSeconds * 1000) * 1000) : '';
    const member = batchMember(minFu, this.writer, this.seq++);
    // Framed counting characters, or bytes when a string may be past ASCII.
    this.frameBatch(enc, member, maxFu, records, ids, keys, fresh, span, trim, bytes);
    if (span !== '') this.span = Number(span);
    if (trim !== '') {
      this.lastTrim = now;
      // A key trimming empties leaves `vkeys`: listed again by the next batch that has it.
      this.known.clear();
    } else {
      if (this.known.size + fresh.length > KNOWN_MAX) this.known.clear();
      for (let i = 0; i < fresh.length; i++) this.known.add(fresh[i].key);
    }
    return trim !== '';
  }

  /**
   * The batch's commands (see index-layout.ts), written as five texts: the records (a rope,
   * flattened by their write) and the ids (joined, flat) each by a framedCommands call of
   * their own, so the ids and the commands around them are not copied again by one text's
   * flattening; a call costs ~1.2k instructions, ~50 a trace of 100. `bytes`: framed counting UTF-8 bytes. Without it every string was checked
   * plain (addToBatch: the timestamps by their reading, the µs texts are digits), so each
   * text is ASCII and framedCommands cannot refuse it: a part written cannot be taken back.
   */
  private frameBatch(enc: RespEncoder, member: string, maxFu: string, records: string, ids: string, keys: readonly Posting[], fresh: readonly Posting[], span: string, trim: string, bytes: boolean): void {
    const ttl = this.ttlSeconds > 0 ? String(this.ttlSeconds) : '';
    const expiry = ttl === '' ? '' : EX + frame(ttl, false);
    const setArgc = ttl === '' ? 3 : 5;
    // Every ZADD's score and member, framed once.
    const scored = frame(maxFu, false) + frame(member, false);
    written(enc.framedCommands(cmd(setArgc, SET) + frame(BLOB + member, false) + head(bytes ? Buffer.byteLength(records) : records.length), 0, !bytes));
    written(enc.framedCommands(records, 0, !bytes));
    written(enc.framedCommands(CRLF + expiry + cmd(setArgc, SET) + frame(IDS + member, false) + head(bytes ? Buffer.byteLength(ids) : ids.length), 1, !bytes));
    written(enc.framedCommands(ids, 0, !bytes));
    // The rest as pieces joined once (an array of its own: the records' keeps its length).
    const out = this.kept.tail;
    let k = 0;
    out[k++] = CRLF + expiry + ZADD4 + frame(BATCHES, false) + scored;
    for (let i = 0; i < keys.length; i++) {
      const p = keys[i];
      out[k++] = bytes ? ZADD4 + frame(p.key, true) : p.zadd;
      out[k++] = scored;
    }
    let commands = 2 + keys.length;
    if (fresh.length > 0) {
      out[k++] = cmd(2 + fresh.length, SADD) + frame(POSTING_KEYS, false);
      for (let i = 0; i < fresh.length; i++) out[k++] = bytes ? frame(fresh[i].key, true) : fresh[i].framed;
      commands++;
    }
    if (span !== '') {
      out[k++] = cmd(5, ZADD) + frame(META, false) + frame('GT', false) + frame(span, false) + frame(SPAN, false);
      commands++;
    }
    out.length = k;
    written(enc.framedCommands(out.join(''), commands, !bytes));
    for (let i = 0; i < k; i++) out[i] = '';
    if (trim !== '') written(enc.framedCommands(trimCall(trim), 1, !bytes, TRIM, 0));
  }

  /** Trimming alone, due now (a batch's trim lost to NOSCRIPT inside a transaction). */
  encodeTrim(enc: RespEncoder): void {
    if (this.ttlSeconds <= 0) return;
    const now = Date.now();
    this.lastTrim = now;
    this.known.clear();
    enc.framedCommands(trimCall(String((now - this.ttlSeconds * 1000) * 1000)), 1, true, TRIM, 0);
  }

  /**
   * Marks traces whose lines came in more than one batch (`split`), each scored by its
   * start (µs text, ./split-mark.ts), the least kept (LT).
   */
  encodeSplit(enc: RespEncoder, ids: readonly string[], scores: readonly string[]): void {
    if (ids.length === 0) return;
    let text = cmd(3 + 2 * ids.length, ZADD) + frame(SPLIT, false) + LT;
    let bytes = false;
    for (const id of ids) if (!PLAIN.test(id)) bytes = true;
    for (let i = 0; i < ids.length; i++) text += frame(scores[i], false) + frame(ids[i], bytes);
    enc.framedCommands(text, 1, !bytes);
  }
}

/** A framedCommands call's answer: false (a text checked plain was not ASCII) cannot happen, and is not written over. */
function written(ok: boolean): void {
  if (!ok) throw new Error('redis:// index: a text checked plain was not ASCII');
}

/** TRIM's call with its cutoff (µs). */
function trimCall(cutoff: string): string {
  return cmd(4, EVALSHA) + frame(TRIM.sha, false) + head(1) + '0' + CRLF + frame(cutoff, false);
}
