/**
 * Automatic mode: turns on every adapter that is installed, when OSPROFILER_ENABLED is
 * true. A new adapter adds itself to ADAPTERS (and as an optional peer in package.json).
 */
import { resolveConfig } from '@osprofiler/core';
import { warnAboutConfig, warnOnce } from '@osprofiler/core/instrument';
import { registerExpress } from '@osprofiler/express';

export interface AutoStatus {
  /** OSPROFILER_ENABLED (and the rest of OSPROFILER_*) read as valid and true. */
  enabled: boolean;
  /** Adapters that registered their hooks. */
  adapters: string[];
  /** Why automatic mode is off or an adapter was skipped (bad config, adapter missing). */
  notes: string[];
}

const status: AutoStatus = { enabled: false, adapters: [], notes: [] };
let done = false;

function isMissing(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(name);
}

/** Loads an adapter's `register` entry: optional, loaded only in automatic mode. */
function loadRegister(name: string): () => boolean {
  return () => {
    // A plain require: the adapter is an optional peer of this package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(`@osprofiler/${name}/register`);
    return true;
  };
}

/**
 * Each adapter's own register step; returns false when it chose not to register. Every
 * entry but express is an optional peer: a missing one is skipped with a note.
 */
const ADAPTERS: ReadonlyArray<{ name: string; register: () => boolean }> = [
  { name: 'express', register: () => registerExpress() },
  { name: 'fastify', register: loadRegister('fastify') },
  // Nest first: it owns the wsgi point of its apps; the platform's adapter stands aside.
  { name: 'nestjs', register: loadRegister('nestjs') },
  { name: 'knex', register: loadRegister('knex') },
  { name: 'typeorm', register: loadRegister('typeorm') },
  // After knex and typeorm: a query they send through pg stays one `db` point (theirs).
  { name: 'pg', register: loadRegister('pg') },
  // Outgoing http/https/fetch propagation.
  { name: 'node', register: loadRegister('node') },
];

/**
 * Registers every available adapter once per process. Never throws: a bad OSPROFILER_*
 * value or a failing adapter is reported as a process warning and left out.
 */
export function registerAll(env: NodeJS.ProcessEnv = process.env): AutoStatus {
  if (done) return status;
  done = true;
  try {
    const config = resolveConfig({}, env);
    status.enabled = config.enabled;
    // Keys without OSPROFILER_ENABLED, or enabled without keys or sampling: said once.
    warnAboutConfig(config);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    status.notes.push(msg);
    warn(`automatic mode is off: ${msg}`);
    return status;
  }
  if (!status.enabled) {
    status.notes.push('OSPROFILER_ENABLED is not true');
    return status;
  }
  for (const a of ADAPTERS) {
    try {
      if (a.register()) status.adapters.push(a.name);
      else status.notes.push(`${a.name}: not registered`);
    } catch (err) {
      if (isMissing(err, `@osprofiler/${a.name}`)) status.notes.push(`${a.name}: @osprofiler/${a.name} is not installed`);
      else {
        const msg = err instanceof Error ? err.message : String(err);
        status.notes.push(`${a.name}: ${msg}`);
        warn(`adapter ${a.name} failed to register: ${msg}`);
      }
    }
  }
  return status;
}

/** What automatic mode did in this process. */
export function autoStatus(): Readonly<AutoStatus> {
  return status;
}

/** Once per process (a traced worker runs automatic mode again with the same settings). */
function warn(msg: string): void {
  warnOnce(`auto:${msg}`, msg, 'OSPROFILER_AUTO');
}
