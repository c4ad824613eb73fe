import type { Driver, DriverOptions } from '@osprofiler/core';

/** Where `main` writes and what it reads from its environment (injectable for tests). */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Terminal width: help text (capped at 100) and the tree's default width. */
  columns?: number;
  /** Opens a storage driver; defaults to @osprofiler/core's `createDriver`. */
  createDriver?: (connectionString: string, options?: Partial<DriverOptions>) => Promise<Driver>;
}

/** An error the CLI reports as `error: <message>` (or the bare message) with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Print the message as is, without the "error: " prefix (Python's own messages). */
    readonly bare = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_CONNECTION_STRING = 'file://';
export const CONNECTION_ENV = 'OSPROFILER_CONNECTION_STRING';
export const HMAC_KEYS_ENV = 'OSPROFILER_HMAC_KEYS';
export const DEFAULT_PROFILE_TIMEOUT_MS = 5000;
