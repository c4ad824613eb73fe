// @osprofiler/auto: `node --require @osprofiler/auto app.js` (this file) or
// `node --import @osprofiler/auto app.mjs` (import-entry.mts). Loading it registers every
// installed adapter when OSPROFILER_ENABLED is true; nothing happens otherwise.
import { registerAll } from './register';

export { registerAll, autoStatus } from './register';
export type { AutoStatus } from './register';

registerAll();
