/** What the commands say about the store they read, and the tree's width. */
import { existsSync } from 'node:fs';
import type { Driver } from '@osprofiler/core';
import { redact } from './connection';
import type { CliIO } from './io';

/** The directory of a `file://` store, when `driver` is one. */
export function fileStoreDir(driver: Driver): string | undefined {
  if (driver.scheme !== 'file') return undefined;
  const dir = (driver as { settings?: { dir?: unknown } }).settings?.dir;
  return typeof dir === 'string' ? dir : undefined;
}

/** `'file://' (directory /home/u/.local/state/osprofiler)`, or the redacted connection string. */
export function describeStore(cs: string, driver: Driver): string {
  const dir = fileStoreDir(driver);
  if (dir === undefined) return `'${redact(cs)}'`;
  return `'${redact(cs)}' (directory ${dir}${existsSync(dir) ? '' : ', which does not exist'})`;
}

/** True when the store cannot hold any trace: a `file://` directory that does not exist. */
export function missingStore(driver: Driver): boolean {
  const dir = fileStoreDir(driver);
  return dir !== undefined && !existsSync(dir);
}

/** `--width`, else the terminal's width when stdout is one, else 100. */
export function treeWidth(flag: number | undefined, io: CliIO): number {
  return flag ?? io.columns ?? 100;
}
