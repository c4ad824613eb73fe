/**
 * What a finished OSProfiler point becomes as a span: name, kind and attributes following
 * OpenTelemetry's semantic conventions (http.*, url.*, db.*, process.*, code.*), the rest
 * of its info kept under `osprofiler.info.*`.
 */

/** OpenTelemetry API SpanKind values. */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue>;

type Info = Record<string, unknown>;

const obj = (v: unknown): Info | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Info) : undefined);

function put(attrs: Attributes, key: string, v: unknown): void {
  if (typeof v === 'string' || typeof v === 'boolean') attrs[key] = v;
  else if (typeof v === 'number' && Number.isFinite(v)) attrs[key] = v;
  else if (typeof v === 'bigint') attrs[key] = v.toString();
  else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) attrs[key] = v as string[];
  else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) attrs[key] = v as number[];
}

/** Leaves of `info` not already mapped, as `osprofiler.info.<path>` (non-primitive leaves as JSON). */
function rest(attrs: Attributes, info: Info, used: Set<string>, prefix = 'osprofiler.info'): void {
  for (const [k, v] of Object.entries(info)) {
    const path = `${prefix}.${k}`;
    if (used.has(path)) continue;
    const o = obj(v);
    if (o !== undefined) rest(attrs, o, used, path);
    else if (v !== null && v !== undefined) {
      const before = attrs[path];
      put(attrs, path, v);
      if (attrs[path] === before && typeof v === 'object') attrs[path] = JSON.stringify(v);
    }
  }
}

export interface SpanShape {
  name: string;
  kind: number;
  attributes: Attributes;
  /** `etype: message` when the point failed. */
  error?: { type: string; message: string };
}

/** `start`/`stop` info of one point (stop may be missing when only the start was seen). */
export function spanShape(point: string, start: Info, stop: Info): SpanShape {
  const a: Attributes = {};
  const used = new Set<string>(['osprofiler.info.host', 'osprofiler.info.etype', 'osprofiler.info.message']);
  const map = (key: string, section: string, field: string, info: Info): unknown => {
    const v = obj(info[section])?.[field];
    if (v !== undefined && v !== null) {
      put(a, key, v);
      used.add(`osprofiler.info.${section}.${field}`);
    }
    return v;
  };
  const both = (key: string, section: string, field: string): unknown => map(key, section, field, stop) ?? map(key, section, field, start);
  a['osprofiler.point'] = point;
  let name = point;
  let kind: number = SpanKind.INTERNAL;

  const fn = both('code.function.name', 'function', 'name');
  const method = both('http.request.method', 'request', 'method');
  const status = both('http.response.status_code', 'response', 'status_code');
  void status;

  if (point === 'wsgi') {
    kind = SpanKind.SERVER;
    const path = map('url.path', 'request', 'path', start);
    map('url.query', 'request', 'query', start);
    map('url.scheme', 'request', 'scheme', start);
    const route = map('http.route', 'request', 'route', stop);
    name = [method, route ?? path].filter((x) => typeof x === 'string' && x !== '').join(' ') || point;
  } else if (point === 'rpc' || point === 'http' || point === 'https') {
    kind = SpanKind.CLIENT;
    map('url.full', 'request', 'url', start);
    map('server.address', 'request', 'host', start);
    map('server.port', 'request', 'port', start);
    const transport = map('rpc.system', 'message', 'transport', start);
    map('rpc.method', 'message', 'pattern', start);
    // Python's requests hook (point names http/https)
    const rq = obj(start.requests);
    if (rq !== undefined) {
      put(a, 'http.request.method', rq.method);
      put(a, 'server.address', rq.hostname);
      put(a, 'server.port', rq.port);
      put(a, 'url.path', rq.path);
      put(a, 'url.scheme', rq.scheme);
      put(a, 'http.response.status_code', obj(stop.requests)?.status_code);
      used.add('osprofiler.info.requests');
    }
    name = typeof fn === 'string' ? fn : typeof method === 'string' ? method : typeof transport === 'string' ? `${transport}` : point;
  } else if (point === 'db' || point === 'sql' || obj(start.db)?.statement !== undefined) {
    kind = SpanKind.CLIENT;
    const system = map('db.system.name', 'db', 'system', start);
    const op = map('db.operation.name', 'db', 'operation', start);
    const table = map('db.collection.name', 'db', 'table', start) ?? map('db.collection.name', 'db', 'entity', start);
    map('db.namespace', 'db', 'database', start);
    const statement = map('db.query.text', 'db', 'statement', start);
    map('db.response.returned_rows', 'db', 'rows', stop);
    map('db.client.connection.pool_wait_ms', 'db', 'pool_wait_ms', start);
    const first = typeof statement === 'string' ? statement.trim().split(/\s+/)[0]?.toUpperCase() : undefined;
    name =
      typeof op === 'string' ? [op, table].filter((x) => typeof x === 'string').join(' ')
      : first !== undefined && first !== '' ? first
      : typeof fn === 'string' ? fn
      : typeof system === 'string' ? system
      : point;
  } else if (point === 'exec') {
    const cmd = map('process.executable.name', 'exec', 'command', start);
    map('process.command_args', 'exec', 'args', start);
    map('process.working_directory', 'exec', 'cwd', start);
    map('process.pid', 'exec', 'pid', start);
    map('process.exit.code', 'exec', 'exit_code', stop);
    map('process.exit.signal', 'exec', 'signal', stop);
    name = typeof cmd === 'string' ? cmd : typeof fn === 'string' ? fn : point;
  } else if (point === 'thread') {
    map('thread.id', 'thread', 'thread_id', start);
    map('code.file.path', 'thread', 'filename', start);
    map('process.exit.code', 'thread', 'exit_code', stop);
    name = typeof fn === 'string' ? fn : point;
  } else if (typeof fn === 'string') {
    name = fn;
  }
  rest(a, start, used);
  rest(a, stop, used);
  const etype = stop.etype;
  if (etype !== undefined && etype !== null) {
    a['error.type'] = String(etype);
    return { name, kind, attributes: a, error: { type: String(etype), message: String(stop.message ?? '') } };
  }
  return { name, kind, attributes: a };
}
