/** The built page (dist/app, made by `vite build`): found next to this file once built. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const APP_DIR = join(__dirname, 'app');

export function appFile(rel: string): Buffer {
  return readFileSync(join(APP_DIR, rel));
}

export function appBuilt(): boolean {
  return existsSync(join(APP_DIR, 'index.html')) && existsSync(join(APP_DIR, 'assets', 'app.js'));
}
