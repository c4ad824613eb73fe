/** Setup file of every package's tests (vitest.shared.mjs): removes the file's temp dirs (temp-dir.ts) after its own afterAll hooks. */
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dir';

// Registered before the test file's hooks, so it runs after them (vitest's after hooks run as a stack).
afterAll(removeTempDirs);
