/**
 * Automatic mode: `node --require @osprofiler/pg/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every pg module loaded after this (and any already loaded) is
 * traced; loading this twice changes nothing.
 */
import { hookModule } from '@osprofiler/core/instrument';
import { instrumentPg } from './hook';

function isPgModule(e: unknown): boolean {
  // Only Client and Pool are read: pg's `native` getter would load pg-native.
  const m = e as { Client?: unknown; Pool?: unknown } | null;
  const client = m?.Client as ((...a: unknown[]) => unknown) | undefined;
  return typeof client === 'function' && typeof (client.prototype as { query?: unknown } | undefined)?.query === 'function' && typeof m?.Pool === 'function';
}

// Core's shared Module._load hook: ESM imports of CommonJS packages go through it too.
hookModule({ name: 'pg', packageName: 'pg', versions: '>=8.0.0 <9', matches: isPgModule, instrument: (pg) => instrumentPg(pg) });
