/** The built page (dist/app, made by `vite build`): found next to this file once built. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// dist/index.js sits beside dist/app; run from source (tests), src/ is beside dist/.
export const APP_DIR = existsSync(join(__dirname, 'app', 'index.html')) ? join(__dirname, 'app') : join(__dirname, '..', 'dist', 'app');

export function appFile(rel: string): Buffer {
  return readFileSync(join(APP_DIR, rel));
}

export function appBuilt(): boolean {
  return existsSync(join(APP_DIR, 'index.html')) && existsSync(join(APP_DIR, 'assets', 'app.js'));
}
