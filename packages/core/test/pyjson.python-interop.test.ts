import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { pyDumps } from '../src/index';

const SAMPLES: unknown[] = [
  { a: 'é\u007f\u0001\n\t"\\\ud83d\ude00 \ud800x', b: [1, 2.5, null, true, false], c: {}, d: [] },
  { name: 'wsgi-start', info: { request: { path: '/v2/servers', query: 'limit=1&x=y' }, host: 'vm' }, project: null },
  [{ nested: [[], [{}], { deep: { deeper: 'ü' } }] }],
  'plain',
  -0.5,
];

function python(value: unknown, indent: boolean): string {
  const code = indent
    ? 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), indent=2, separators=(",", ": ")), end="")'
    : 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())), end="")';
  return execFileSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify(value) }).toString();
}

describe('pyDumps matches Python json.dumps byte for byte (real /usr/bin/python3)', () => {
  it.each(SAMPLES.map((s, i) => [i, s]))('sample %i, default separators and indent=2', (_i, sample) => {
    expect(pyDumps(sample)).toBe(python(sample, false));
    expect(pyDumps(sample, { indent: 2, separators: [',', ': '] })).toBe(python(sample, true));
  });
});
