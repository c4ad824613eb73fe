/**
 * The rules file (JSON), applied to every point before it is written:
 *
 *   {
 *     "redact": { "keys": ["password", "^x-auth-"], "replacement": "***" },
 *     "drop":   { "kinds": ["db"] },
 *     "rename": { "service": { "old": "new" }, "project": { "old": "new" } },
 *     "keep":   { "errors": true, "slowerThanMs": 500, "waitMs": 5000, "maxPoints": 200000 }
 *   }
 *
 * `redact.keys` are case-insensitive regular expressions matched against info keys at any
 * depth; a matching key keeps its name and gets the replacement. A point's kind is its
 * name without `-start` / `-stop`. `keep` is the whole-trace rule (keep.ts).
 */
import { readFileSync } from 'node:fs';
import { CollectorError } from './errors';

export interface Rules {
  redact?: { keys: string[]; replacement?: string };
  drop?: { kinds: string[] };
  rename?: { service?: Record<string, string>; project?: Record<string, string> };
  keep?: KeepRules;
}

export interface KeepRules {
  /** Keep traces holding a point with an error. */
  errors?: boolean;
  /** Keep traces whose points span at least this long. */
  slowerThanMs?: number;
  /** Decide this long after a trace's last point arrived. */
  waitMs?: number;
  /** Points held at most; beyond it the oldest traces are decided early. */
  maxPoints?: number;
}

export interface CompiledRules {
  readonly changesPoints: boolean;
  readonly keep: Required<KeepRules> | undefined;
  /** Applies redact/drop/rename to a parsed notification; false when it is dropped; true when kept (maybe changed). */
  apply(n: Record<string, unknown>): 'drop' | 'changed' | 'same';
}

function fail(msg: string): never {
  throw new CollectorError('OSP_COLLECTOR_RULES', `rules: ${msg}`);
}

function stringMap(v: unknown, where: string): Map<string, string> {
  const out = new Map<string, string>();
  if (v === undefined) return out;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${where} must be an object of "old": "new" names`);
  for (const [k, x] of Object.entries(v as object)) {
    if (typeof x !== 'string') fail(`${where}.${k} must be a string`);
    out.set(k, x);
  }
  return out;
}

export function loadRules(source: string | Rules | undefined): CompiledRules {
  let r: Rules = {};
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      fail(`cannot read ${source} (--rules): ${(err as Error).message}`);
    }
    try {
      r = JSON.parse(text) as Rules;
    } catch (err) {
      fail(`${source} is not JSON: ${(err as Error).message}`);
    }
  } else if (source !== undefined) r = source;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) fail('expected a JSON object with redact / drop / rename / keep');
  for (const k of Object.keys(r)) if (!['redact', 'drop', 'rename', 'keep'].includes(k)) fail(`unknown key "${k}" (known: redact, drop, rename, keep)`);

  const patterns: RegExp[] = [];
  if (r.redact !== undefined) {
    if (!Array.isArray(r.redact.keys) || !r.redact.keys.every((k) => typeof k === 'string')) fail('redact.keys must be an array of regular expressions (strings)');
    for (const k of r.redact.keys) {
      try {
        patterns.push(new RegExp(k, 'i'));
      } catch (err) {
        fail(`redact.keys "${k}": ${(err as Error).message}`);
      }
    }
  }
  const replacement = r.redact?.replacement ?? '***';
  if (r.drop !== undefined && (!Array.isArray(r.drop.kinds) || !r.drop.kinds.every((k) => typeof k === 'string'))) fail('drop.kinds must be an array of point kinds (strings)');
  const dropKinds = new Set(r.drop?.kinds ?? []);
  const services = stringMap(r.rename?.service, 'rename.service');
  const projects = stringMap(r.rename?.project, 'rename.project');
  let keep: Required<KeepRules> | undefined;
  if (r.keep !== undefined) {
    const k = r.keep;
    const num = (v: unknown, name: string, d: number): number => {
      if (v === undefined) return d;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`keep.${name} must be a non-negative number`);
      return v;
    };
    keep = {
      errors: k.errors === true,
      slowerThanMs: num(k.slowerThanMs, 'slowerThanMs', Number.POSITIVE_INFINITY),
      waitMs: num(k.waitMs, 'waitMs', 5_000),
      maxPoints: num(k.maxPoints, 'maxPoints', 200_000),
    };
    if (!keep.errors && keep.slowerThanMs === Number.POSITIVE_INFINITY) fail('keep needs "errors": true and/or "slowerThanMs"');
  }

  const redactIn = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    let changed = false;
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (patterns.some((p) => p.test(key))) {
        if (o[key] !== replacement) {
          o[key] = replacement;
          changed = true;
        }
      } else if (redactIn(o[key])) changed = true;
    }
    return changed;
  };

  return {
    changesPoints: patterns.length > 0 || dropKinds.size > 0 || services.size > 0 || projects.size > 0,
    keep,
    apply(n) {
      const name = typeof n.name === 'string' ? n.name : '';
      const kind = name.replace(/-(start|stop)$/, '');
      if (dropKinds.has(kind)) return 'drop';
      let changed = patterns.length > 0 && redactIn(n.info);
      if (typeof n.service === 'string' && services.has(n.service)) {
        n.service = services.get(n.service);
        changed = true;
      }
      if (typeof n.project === 'string' && projects.has(n.project)) {
        n.project = projects.get(n.project);
        changed = true;
      }
      return changed ? 'changed' : 'same';
    },
  };
}
