import type { Report, ReportNode } from '@osprofiler/core';

let counter = 0;

export interface NodeSpec {
  name: string;
  service?: string | null;
  started: number;
  finished: number;
  startInfo?: Record<string, unknown>;
  /** undefined: a stop without extra info; null: no stop event at all. */
  stopInfo?: Record<string, unknown> | null;
  etype?: string;
  children?: ReportNode[];
}

/** A report node shaped like Python's builder output (raw payloads included). */
export function node(spec: NodeSpec): ReportNode {
  counter++;
  const traceId = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  const parentId = 'bbbbbbbb-0000-4000-8000-000000000009';
  const service = spec.service === undefined ? 'svc' : spec.service;
  const base = { base_id: 'bbbbbbbb-0000-4000-8000-000000000009', trace_id: traceId, parent_id: parentId };
  const info: Record<string, unknown> = { name: spec.name, project: 'p', service, host: 'vm' };
  if (spec.stopInfo !== null) {
    const stop = { ...(spec.stopInfo ?? {}), ...(spec.etype ? { etype: spec.etype, message: 'boom' } : {}), host: 'vm' };
    info[`meta.raw_payload.${spec.name}-stop`] = { name: `${spec.name}-stop`, ...base, timestamp: 't', info: stop, project: 'p', service };
    info.finished = spec.finished;
    info.exception = spec.etype ?? 'None';
  } else {
    info.finished = spec.finished;
  }
  info[`meta.raw_payload.${spec.name}-start`] = {
    name: `${spec.name}-start`,
    ...base,
    timestamp: 't',
    info: { ...(spec.startInfo ?? {}), host: 'vm' },
    project: 'p',
    service,
  };
  info.started = spec.started;
  return { info: info as ReportNode['info'], trace_id: traceId, parent_id: parentId, children: spec.children ?? [] };
}

export function report(children: ReportNode[], extraRootInfo: Record<string, unknown> = {}): Report {
  const finished = Math.max(0, ...children.map((c) => c.info.finished));
  return {
    info: { name: 'total', started: 0, finished, last_trace_started: 0, ...extraRootInfo },
    children,
    stats: {},
  } as Report;
}

/** A report exercising every label rule of Python's --dot and the tree details. */
export function mixedReport(): Report {
  return report([
    node({
      name: 'wsgi',
      service: 'api',
      started: 0,
      finished: 120,
      startInfo: {
        request: { path: '/v2/servers/"quoted"/and/a/very/long/path/beyond/thirty/chars', query: 'limit=1', method: 'GET', scheme: 'http' },
      },
      stopInfo: { response: { status_code: 200 } },
      children: [
        node({
          name: 'rpc',
          service: 'api',
          started: 5,
          finished: 60,
          startInfo: { function: { name: 'GET orders:8080/orders/:id' }, request: { method: 'GET', url: 'http://orders:8080/orders/1' } },
          stopInfo: { response: { status_code: 404 } },
          children: [
            node({ name: 'wsgi', service: 'orders', started: 7, finished: 58, startInfo: { request: { path: '/orders/1', query: '', method: 'GET', scheme: 'http' } } }),
          ],
        }),
        node({ name: 'driver', service: 'api', started: 61, finished: 90, startInfo: { function: { name: 'app.services.UserService.find' } } }),
        node({ name: 'db', service: 'api', started: 91, finished: 95, startInfo: { function: { name: 'knex.select' }, db: { system: 'pg', operation: 'select', table: 'users' } }, stopInfo: { db: { rows: 3 } } }),
        node({ name: 'sql', service: 'api', started: 96, finished: 99, startInfo: { db: { statement: 'SELECT *\n  FROM users\n WHERE id = $1' } }, stopInfo: null }),
        node({ name: 'failing', service: 'back\\slash "svc"', started: 100, finished: 110, etype: 'RuntimeError' }),
        node({ name: 'exec', service: 'api', started: 111, finished: 119, startInfo: { function: { name: 'git' }, exec: { command: '/usr/bin/git' } }, stopInfo: { exec: { exit_code: 2, signal: null } } }),
      ],
    }),
  ]);
}
