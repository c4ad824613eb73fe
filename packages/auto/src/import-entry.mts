// `node --import @osprofiler/auto app.js`: runs before the app's first import.
// Express and the other supported libraries are CommonJS; an ESM `import` of them goes
// through `Module._load`, where the adapters' hooks patch them before the ESM namespace
// is built, so no ESM loader hooks are needed for them (checked on Node 20 by
// the separate-process tests). The CommonJS entry does the work, so `--import` and
// `--require` share one registration.
import auto from './index.js';

export const registerAll = auto.registerAll;
export const autoStatus = auto.autoStatus;
export type { AutoStatus } from './index.js';
