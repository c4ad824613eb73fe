/**
 * Loading the package, or its `register` entry, from CommonJS and ESM (each in its own
 * Node process, as an app would) registers the schemes with core's registry.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, cwd: __dirname });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}

const SCHEMES = ['amqp', 'file', 'memory', 'mysql', 'otlp', 'postgres', 'postgresql', 'redis'];

describe('registration', () => {
  it.each([
    ['require("@osprofiler/drivers")', ['-e', 'require("@osprofiler/drivers"); console.log(require("@osprofiler/core").driverSchemes().join())']],
    ['require("@osprofiler/drivers/register")', ['-e', 'require("@osprofiler/drivers/register"); console.log(require("@osprofiler/core").driverSchemes().join())']],
    ['import "@osprofiler/drivers/register"', ['--input-type=module', '-e', 'import "@osprofiler/drivers/register"; import { driverSchemes } from "@osprofiler/core"; console.log(driverSchemes().join())']],
    ['import { DRIVER_SCHEMES } from "@osprofiler/drivers"', ['--input-type=module', '-e', 'import { DRIVER_SCHEMES } from "@osprofiler/drivers"; import { driverSchemes } from "@osprofiler/core"; console.log(driverSchemes().join())']],
  ])('%s', (_label, args) => {
    expect(node(args).split(',')).toEqual(SCHEMES);
  });

  it('core alone knows only its own schemes; backend clients load only when used', () => {
    expect(node(['-e', 'console.log(require("@osprofiler/core").driverSchemes().join())'])).toBe('file,memory');
    const loaded = node(['-e', 'require("@osprofiler/drivers"); console.log(["ioredis","pg","mysql2","amqplib","@opentelemetry/otlp-transformer"].filter((m) => Object.keys(require.cache).some((k) => k.includes("/node_modules/" + m + "/"))).join() || "none")']);
    expect(loaded).toBe('none');
  });
});
