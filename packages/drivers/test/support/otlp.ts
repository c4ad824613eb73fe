/**
 * Two independent decoders of OTLP/HTTP protobuf bodies, both from the official
 * opentelemetry-proto definitions (the .proto files @opentelemetry/otlp-grpc-exporter-base
 * ships): protobufjs reflection, and Debian's `protoc --decode`.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import protobuf from 'protobufjs';

export const PROTO_ROOT = path.join(path.dirname(require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json')), 'build/protos');
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status: { code: number; message: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  resource: Record<string, unknown>;
}

function attrs(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    const one = (x: Record<string, unknown>): unknown => x.stringValue ?? (x.intValue !== undefined ? Number(x.intValue) : undefined) ?? x.doubleValue ?? x.boolValue;
    out[kv.key] = one(v) ?? (v.arrayValue as { values?: Record<string, unknown>[] } | undefined)?.values?.map(one);
  }
  return out;
}

let requestType: protobuf.Type | undefined;

/** protobufjs, loading the official .proto files. */
export function decodeWithProtobufjs(body: Buffer): DecodedSpan[] {
  if (requestType === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
    root.loadSync(SERVICE_PROTO, { keepCase: false });
    requestType = root.lookupType(REQUEST);
  }
  const obj = requestType.toObject(requestType.decode(body), { longs: String, bytes: String, defaults: true }) as {
    resourceSpans: { resource: { attributes: never }; scopeSpans: { spans: Record<string, never>[] }[] }[];
  };
  const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
  const out: DecodedSpan[] = [];
  for (const rs of obj.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans as Record<string, any>[]) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: attrs(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })),
          resource: attrs(rs.resource?.attributes),
        });
      }
    }
  }
  return out;
}

/** `protoc --decode=… trace_service.proto` text output. */
export function protocDecode(body: Buffer): string {
  const r = spawnSync('protoc', [`--decode=${REQUEST}`, `--proto_path=${PROTO_ROOT}`, SERVICE_PROTO], { input: body, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`protoc failed (${r.status}): ${r.stderr?.toString()}${r.error?.message ?? ''}`);
  return r.stdout.toString('utf8');
}

/** The bytes of a C-escaped protoc string literal (without its quotes). */
function unescapeC(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = s[++i];
    if (/[0-7]/.test(n)) {
      const oct = s.slice(i, i + 3).match(/^[0-7]{1,3}/)![0];
      bytes.push(parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n === 'x') {
      const h = s.slice(i + 1).match(/^[0-9a-fA-F]{1,2}/)![0];
      bytes.push(parseInt(h, 16));
      i += h.length;
    } else bytes.push(({ n: 10, r: 13, t: 9, '"': 34, "'": 39, '\\': 92 } as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes);
}

/** Spans as protoc printed them: ids (hex), name and kind, read from its text format. */
export function spansFromProtoc(text: string): { traceId: string; spanId: string; parentSpanId: string; name: string; kind: string }[] {
  const out: { traceId: string; spanId: string; parentSpanId: string; name: string; kind: string }[] = [];
  let cur: Record<string, string> | undefined;
  let depth = 0;
  let spanDepth = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.endsWith('{')) {
      depth++;
      if (line === 'spans {') {
        cur = {};
        spanDepth = depth;
      }
      continue;
    }
    if (line === '}') {
      if (depth === spanDepth && cur !== undefined) {
        out.push({ traceId: cur.trace_id ?? '', spanId: cur.span_id ?? '', parentSpanId: cur.parent_span_id ?? '', name: cur.name ?? '', kind: cur.kind ?? '' });
        cur = undefined;
        spanDepth = -1;
      }
      depth--;
      continue;
    }
    if (cur !== undefined && depth === spanDepth) {
      const m = /^(\w+): (?:"(.*)"|(\S+))$/.exec(line);
      if (m === null) continue;
      const [, key, str, bare] = m;
      cur[key] = str !== undefined ? (key.endsWith('_id') ? unescapeC(str).toString('hex') : unescapeC(str).toString('utf8')) : bare;
    }
  }
  return out;
}

/** An OTLP/HTTP receiver on loopback that keeps every request body. */
export async function startReceiver(status = 200): Promise<{ server: Server; port: number; bodies: Buffer[]; paths: string[]; types: string[] }> {
  const bodies: Buffer[] = [];
  const paths: string[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      paths.push(req.url ?? '');
      types.push(String(req.headers['content-type']));
      res.writeHead(status, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, bodies, paths, types };
}
