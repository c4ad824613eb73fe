/**
 * A report (Python's `trace show --json` shape, ours or Python's) as the page uses it:
 * points in start order with depth, self time, the critical path, stats and clock notes;
 * and two traces aligned by their tree of point names.
 */
export interface ReportNodeJson {
  info: Record<string, unknown> & { name?: string; started?: number; finished?: number; service?: string | null; project?: string | null; host?: string; exception?: string };
  trace_id?: string;
  parent_id?: string;
  children?: ReportNodeJson[];
}

export interface ReportJson {
  info: { name?: string; started?: number; finished?: number | null; last_trace_started?: number | null };
  children: ReportNodeJson[];
  stats?: Record<string, { count: number; duration: number }>;
}

export type Info = Record<string, unknown>;

export interface Point {
  index: number;
  id: string;
  parentId: string;
  name: string;
  service: string | null;
  project: string | null;
  host: string;
  start: number;
  end: number;
  dur: number;
  self: number;
  depth: number;
  parent: Point | null;
  children: Point[];
  critical: boolean;
  /** `info.etype` of the stop (Python's `exception`), or null. */
  error: string | null;
  startInfo: Info;
  stopInfo: Info;
  /** Started before its parent or ended after it: the hosts' clocks differ. */
  skewed: boolean;
}

export interface Trace {
  points: Point[];
  roots: Point[];
  total: number;
  stats: { byName: StatRow[]; byService: StatRow[] };
  skewed: Point[];
  hosts: string[];
}

export interface StatRow {
  key: string;
  count: number;
  total: number;
  self: number;
}

function isObj(v: unknown): v is Info {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function payloadInfo(info: Info, suffix: '-start' | '-stop'): Info {
  for (const k of Object.keys(info)) {
    if (k.startsWith('meta.raw_payload.') && k.endsWith(suffix)) {
      const ev = info[k];
      if (isObj(ev) && isObj(ev.info)) return ev.info;
    }
  }
  return {};
}

/** Checks the shape enough to render; throws with a message saying what is wrong. */
export function checkReport(v: unknown): ReportJson {
  if (!isObj(v) || !Array.isArray(v.children) || !isObj(v.info)) throw new Error('not an OSProfiler report: expected {"info": …, "children": […]}');
  return v as unknown as ReportJson;
}

export function buildTrace(report: ReportJson): Trace {
  const points: Point[] = [];
  const walk = (n: ReportNodeJson, parent: Point | null, depth: number): Point => {
    const info = isObj(n.info) ? n.info : {};
    const start = typeof info.started === 'number' ? info.started : 0;
    const end = typeof info.finished === 'number' ? info.finished : start;
    const exc = typeof info.exception === 'string' && info.exception !== 'None' ? info.exception : null;
    const p: Point = {
      index: points.length,
      id: String(n.trace_id ?? ''),
      parentId: String(n.parent_id ?? ''),
      name: String(info.name ?? ''),
      service: typeof info.service === 'string' ? info.service : null,
      project: typeof info.project === 'string' ? info.project : null,
      host: typeof info.host === 'string' ? info.host : '',
      start,
      end,
      dur: Math.max(0, end - start),
      self: 0,
      depth,
      parent,
      children: [],
      critical: false,
      error: exc,
      startInfo: payloadInfo(info, '-start'),
      stopInfo: payloadInfo(info, '-stop'),
      skewed: parent !== null && (start < parent.start || end > parent.end),
    };
    points.push(p);
    for (const c of Array.isArray(n.children) ? n.children : []) p.children.push(walk(c, p, depth + 1));
    return p;
  };
  const roots = report.children.map((c) => walk(c, null, 0));
  const total = typeof report.info.finished === 'number' ? report.info.finished : Math.max(0, ...points.map((p) => p.end));
  for (const p of points) p.self = selfTime(p);
  markCritical(roots, total);
  return { points, roots, total, stats: stats(points), skewed: points.filter((p) => p.skewed), hosts: [...new Set(points.map((p) => p.host).filter((h) => h !== ''))] };
}

/** Duration minus the union of the children's intervals (clipped to the point), so parallel children count once. */
export function selfTime(p: Point): number {
  const iv = p.children.map((c) => [Math.max(c.start, p.start), Math.min(c.end, p.end)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let curA = -Infinity;
  let curB = -Infinity;
  for (const [a, b] of iv) {
    if (a > curB) {
      if (curB > curA) covered += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  if (curB > curA) covered += curB - curA;
  return Math.max(0, p.dur - covered);
}

/**
 * The chain that decides when the root ends: from the end, the child that ended last
 * before it; then, from that child's start, the sibling that ended last before that; and
 * so on, each chosen child walked the same way. Each step picks, among the unused
 * children started by `t`, the greatest min(end, t), the first in order on a tie.
 *
 * O(n log n): a max tree over the children's ends (in list order) answers each step with
 * one descent (the leftmost end ≥ min(max, t)); children started after `t` leave it for
 * good since `t` only decreases. The plain scan was O(n²) per parent: 10,000 sequential
 * children under one root took seconds.
 */
export function markCritical(roots: Point[], total: number): void {
  const walk = (children: Point[], until: number): void => {
    const n = children.length;
    if (n === 0) return;
    let size = 1;
    while (size < n) size *= 2;
    const tree = new Float64Array(2 * size).fill(-Infinity);
    for (let i = 0; i < n; i++) tree[size + i] = children[i].end;
    for (let i = size - 1; i >= 1; i--) tree[i] = Math.max(tree[2 * i], tree[2 * i + 1]);
    const remove = (i: number): void => {
      let k = size + i;
      tree[k] = -Infinity;
      for (k >>= 1; k >= 1; k >>= 1) tree[k] = Math.max(tree[2 * k], tree[2 * k + 1]);
    };
    // Latest start first: they leave the tree as `t` falls below their start.
    const byStart = children.map((_, i) => i).sort((a, b) => children[b].start - children[a].start);
    let next = 0;
    let t = until;
    for (;;) {
      while (next < n && children[byStart[next]].start > t) remove(byStart[next++]);
      const max = tree[1];
      if (max === -Infinity) return;
      const want = Math.min(max, t);
      let k = 1;
      while (k < size) k = tree[2 * k] >= want ? 2 * k : 2 * k + 1;
      const best = children[k - size];
      remove(k - size);
      best.critical = true;
      walk(best.children, Math.min(best.end, t));
      t = best.start;
    }
  };
  walk(roots, total);
}

function stats(points: Point[]): { byName: StatRow[]; byService: StatRow[] } {
  const group = (key: (p: Point) => string): StatRow[] => {
    const m = new Map<string, StatRow>();
    for (const p of points) {
      const k = key(p);
      let r = m.get(k);
      if (r === undefined) m.set(k, (r = { key: k, count: 0, total: 0, self: 0 }));
      r.count++;
      r.total += p.dur;
      r.self += p.self;
    }
    return [...m.values()].sort((a, b) => b.self - a.self);
  };
  return { byName: group((p) => p.name), byService: group((p) => p.service ?? '(none)') };
}

/** A one-line label: the request, SQL, command or function of the point. */
export function pointLabel(p: Point): string {
  const i = { ...p.startInfo, ...p.stopInfo };
  const req = isObj(p.startInfo.request) ? p.startInfo.request : undefined;
  const route = isObj(p.stopInfo.request) ? p.stopInfo.request.route : undefined;
  if (req !== undefined) {
    const where = typeof route === 'string' ? route : (req.path ?? req.url);
    if (where !== undefined) return `${typeof req.method === 'string' ? req.method + ' ' : ''}${String(where)}`;
  }
  const db = isObj(i.db) ? i.db : undefined;
  if (db !== undefined && typeof db.statement === 'string') return db.statement;
  const ex = isObj(i.exec) ? i.exec : undefined;
  if (ex !== undefined && typeof ex.command === 'string') return ex.command;
  const fn = isObj(i.function) ? i.function : undefined;
  if (fn !== undefined && typeof fn.name === 'string') return fn.name;
  return '';
}

/** `a.b.c = value` lines of an info object (what the store kept; nothing added). */
export function flatten(info: Info, prefix = '', out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(info)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (isObj(v)) flatten(v, key, out);
    else out.push([key, typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)]);
  }
  return out;
}

/** An `rpc` point's link: the `wsgi` point it started in another service (its child there). */
export function rpcTarget(p: Point): Point | undefined {
  if (p.name !== 'rpc' && !isObj(p.startInfo.request)) return undefined;
  return p.children.find((c) => c.name === 'wsgi' && c.service !== p.service);
}

export interface CompareRow {
  depth: number;
  name: string;
  a: Point | null;
  b: Point | null;
  status: 'same' | 'added' | 'missing';
}

/** Aligns two traces by their tree of names; siblings of one name pair up in start order. */
export function compareTraces(a: Trace, b: Trace): CompareRow[] {
  const rows: CompareRow[] = [];
  const align = (xs: Point[], ys: Point[], depth: number): void => {
    const names: string[] = [];
    const byName = (list: Point[]) => {
      const m = new Map<string, Point[]>();
      for (const p of [...list].sort((u, v) => u.start - v.start)) {
        if (!m.has(p.name)) {
          m.set(p.name, []);
          if (!names.includes(p.name)) names.push(p.name);
        }
        m.get(p.name)!.push(p);
      }
      return m;
    };
    const ma = byName(xs);
    const mb = byName(ys);
    for (const name of names) {
      const la = ma.get(name) ?? [];
      const lb = mb.get(name) ?? [];
      for (let i = 0; i < Math.max(la.length, lb.length); i++) {
        const pa = la[i] ?? null;
        const pb = lb[i] ?? null;
        rows.push({ depth, name, a: pa, b: pb, status: pa === null ? 'added' : pb === null ? 'missing' : 'same' });
        align(pa?.children ?? [], pb?.children ?? [], depth + 1);
      }
    }
  };
  align(a.roots, b.roots, 0);
  return rows;
}
