/**
 * Automatic mode: `node --require @osprofiler/knex/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every Knex module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import { onModuleLoad } from '@osprofiler/core';
import { instrumentKnexModule } from './hook';

function isKnexModule(e: unknown): boolean {
  return typeof e === 'function' && (e as { knex?: unknown }).knex === e && typeof (e as { Client?: unknown }).Client === 'function';
}

// Core's shared Module._load hook: ESM imports of CommonJS packages go through it too.
onModuleLoad('knex', isKnexModule, instrumentKnexModule);
