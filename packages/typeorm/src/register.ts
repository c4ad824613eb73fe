/**
 * Automatic mode: `node --require @osprofiler/typeorm/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every TypeORM module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import { hookModule } from '@osprofiler/core/instrument';
import { instrumentTypeormModule } from './hook';

function isTypeORMModule(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const t = e as { DataSource?: unknown; SelectQueryBuilder?: unknown; Repository?: unknown };
  return typeof t.DataSource === 'function' && typeof t.SelectQueryBuilder === 'function' && typeof t.Repository === 'function';
}

// Core's shared Module._load hook: ESM imports of CommonJS packages go through it too.
hookModule({ name: 'typeorm', packageName: 'typeorm', versions: '>=0.3.26 <2', matches: isTypeORMModule, instrument: (t) => instrumentTypeormModule(t) });
