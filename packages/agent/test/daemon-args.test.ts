/** The detached daemon's arguments (ensureAgent starts it with them): values checked, unknown flags named. */
import { describe, expect, it } from 'vitest';
import { parseDaemonArgs } from '../src/run';

describe('parseDaemonArgs', () => {
  it('maps flags to options, with numbers and booleans typed', () => {
    expect(parseDaemonArgs(['--listen', '/tmp/a.sock', '--backend', 'redis://127.0.0.1:1', '--partitions', '8', '--client-index', 'true'])).toEqual({
      socketPath: '/tmp/a.sock',
      backend: 'redis://127.0.0.1:1',
      partitions: 8,
      clientIndex: true,
    });
    expect(parseDaemonArgs(['--listen', '/tmp/a.sock', '--client-index', 'false']).clientIndex).toBe(false);
    expect(parseDaemonArgs(['--listen', '/tmp/a.sock', '--nice', '19']).nice).toBe(19);
  });

  it('refuses a bad value or an unknown flag, naming it', () => {
    expect(() => parseDaemonArgs(['--listen', '/tmp/a.sock', '--client-index', 'yes'])).toThrow('--client-index "yes": expected true or false');
    expect(() => parseDaemonArgs(['--listen', '/tmp/a.sock', '--partitions', 'x'])).toThrow('--partitions "x": expected a positive integer');
    expect(() => parseDaemonArgs(['--listen', '/tmp/a.sock', '--nice', '20'])).toThrow('--nice "20": expected an integer from 0 to 19');
    expect(() => parseDaemonArgs(['--listen', '/tmp/a.sock', '--nope', '1'])).toThrow(/unexpected argument "--nope" \(usage: .*--client-index true\|false\] \[--nice 0-19\]/);
  });
});
