/**
 * Graphviz DOT output, the same text as Python OSProfiler's `trace show --dot`
 * (`_create_dot_graph` in osprofiler/cmd/commands.py, built with python-graphviz 0.20):
 * nodes numbered depth-first from 0 (the "total" root), each edge written after the
 * child's whole subtree, labels quoted the way graphviz's `quote()` does.
 */
import type { Report } from '@osprofiler/core';

type Info = Record<string, unknown>;
interface DotNode {
  info: Info;
  children?: unknown;
}

// graphviz.quoting: HTML_STRING, ID (Python's `$` also matches before one final '\n'), KEYWORDS.
const HTML_STRING = /^<[\s\S]*>\n?$/;
const ID = /^(?:[a-zA-Z_][a-zA-Z0-9_]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))\n?$/;
const KEYWORDS = new Set(['node', 'edge', 'graph', 'digraph', 'subgraph', 'strict']);

/** graphviz `quote()`: leave valid IDs and <html> strings as they are, else quote and escape `"`. */
export function dotQuote(identifier: string): string {
  if (HTML_STRING.test(identifier)) return identifier;
  if (!ID.test(identifier) || KEYWORDS.has(identifier.toLowerCase())) {
    return '"' + identifier.replace(/((?:\\\\)*)\\?"/g, '$1\\"') + '"';
  }
  return identifier;
}

/** Python `'%s' % value` for the JSON values a report can hold. */
function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return String(value);
}

/** Python `'%d' % number` (truncates toward zero). */
function pyInt(value: unknown): string {
  const n = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : NaN;
  return Number.isFinite(n) ? String(Math.trunc(n)) : '0';
}

function startPayloadInfo(info: Info, name: string): Info | undefined {
  const raw = info[`meta.raw_payload.${name}-start`];
  if (raw === null || typeof raw !== 'object') return undefined;
  const inner = (raw as Info).info;
  return inner !== null && typeof inner === 'object' ? (inner as Info) : undefined;
}

function label(info: Info): string {
  const started = typeof info.started === 'number' ? info.started : NaN;
  const finished = typeof info.finished === 'number' ? info.finished : NaN;
  // Python crashes on a null service ("None" + ":"); we leave the prefix out instead.
  const service = 'service' in info && info.service !== null && info.service !== undefined ? `${pyStr(info.service)}:` : '';
  const name = pyStr(info.name);
  let text = `${service}${name} - ${pyInt(finished - started)} ms`;
  if (name === 'wsgi') {
    const req = startPayloadInfo(info, name)?.request as Info | undefined;
    if (req && typeof req === 'object') {
      const path = Array.from(pyStr(req.path)).slice(0, 30).join('');
      text = `${text}\\n${pyStr(req.method)} ${path}..`;
    }
  } else if (name === 'rpc' || name === 'driver') {
    const fn = startPayloadInfo(info, name)?.function as Info | undefined;
    if (fn && typeof fn === 'object' && fn.name !== undefined) {
      const parts = pyStr(fn.name).split('.');
      text = `${text}\\n${parts[parts.length - 1]}`;
    }
  }
  return text;
}

/** The DOT source of a report, ending with "}\n" (graphviz's `Digraph.source`). */
export function renderDot(report: Report): string {
  const body: string[] = [];
  let nextId = 0;
  const createNode = (info: Info): string => {
    const id = String(nextId++);
    body.push(`\t${dotQuote(id)} [label=${dotQuote(label(info))}]\n`);
    return id;
  };
  const subGraph = (root: DotNode): string => {
    const rid = createNode(root.info ?? {});
    const children = Array.isArray(root.children) ? (root.children as DotNode[]) : [];
    for (const child of children) {
      const cid = subGraph(child);
      body.push(`\t${dotQuote(rid)} -> ${dotQuote(cid)}\n`);
    }
    return rid;
  };
  subGraph(report as unknown as DotNode);
  return `digraph {\n${body.join('')}}\n`;
}
