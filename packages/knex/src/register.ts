/**
 * Automatic mode: `node --require @osprofiler/knex/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every Knex module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import { hookModule } from '@osprofiler/core/instrument';
import { instrumentKnexModule } from './hook';

function isKnexModule(e: unknown): boolean {
  return typeof e === 'function' && (e as { knex?: unknown }).knex === e && typeof (e as { Client?: unknown }).Client === 'function';
}

// Core's shared Module._load hook: ESM imports of CommonJS packages go through it too.
hookModule({ name: 'knex', packageName: 'knex', versions: '>=3.0.1 <4', matches: isKnexModule, instrument: (k) => instrumentKnexModule(k) });
