/**
 * Automatic mode: `node --require @osprofiler/typeorm/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every TypeORM module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import { onModuleLoad } from '@osprofiler/core';
import { instrumentTypeormModule } from './hook';

function isTypeORMModule(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const t = e as { DataSource?: unknown; SelectQueryBuilder?: unknown; Repository?: unknown };
  return typeof t.DataSource === 'function' && typeof t.SelectQueryBuilder === 'function' && typeof t.Repository === 'function';
}

// Core's shared Module._load hook: ESM imports of CommonJS packages go through it too.
onModuleLoad('typeorm', isTypeORMModule, instrumentTypeormModule);
