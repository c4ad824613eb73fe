/**
 * Coded errors of the storage drivers. Messages name the scheme and host and say how to
 * fix it; they never contain a password (core's createDriver also scrubs it).
 */

export type DriverErrorCode =
  /** The backend could not be reached, or refused us, when the driver started. */
  | 'OSP_DRIVER_CONNECT'
  /** The backend's client library (an optional peer dependency) is not installed. */
  | 'OSP_DRIVER_CLIENT_MISSING'
  /** The connection string has a bad or unknown option. */
  | 'OSP_DRIVER_OPTION';

export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/** `host:port` of a connection string, for messages (never its userinfo). */
export function endpointOf(url: URL, defaultPort: number): string {
  const host = url.hostname === '' ? 'localhost' : url.hostname;
  return `${host}:${url.port === '' ? defaultPort : url.port}`;
}

export function connectError(scheme: string, endpoint: string, cause: unknown): DriverError {
  const why = (cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '');
  return new DriverError(
    'OSP_DRIVER_CONNECT',
    `${scheme}:// storage at ${endpoint} is not usable: ${why}. ` +
      `Check that the server runs and that the connection string's host, port, user and password are right.`,
  );
}

export function optionError(scheme: string, message: string): DriverError {
  return new DriverError('OSP_DRIVER_OPTION', `${scheme}:// connection string: ${message}`);
}
