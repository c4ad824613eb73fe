/**
 * signedPack/signedUnpack against the REAL Python OSProfiler (Debian python3-osprofiler via
 * /usr/bin/python3, driven by tools/python/pyosprofiler_peer.py). Fails, never skips, when
 * Python OSProfiler is missing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { pyDumps } from '../src/pyjson';
import { signedPack, signedUnpack } from '../src/signing';
import { adversarialCases, loadFixtures, type AdversarialCase } from './signing-cases';
import { requirePythonOsprofiler, runPeerBatch } from './support/python-peer';

interface PyVerdict {
  accepted: boolean;
  result: Record<string, unknown> | null;
  result_json: string | null;
  reason: string | null;
  raised: string | null;
  middleware?: { traced: boolean; status: number | null; base_id?: unknown; parent_id?: unknown; raised?: string };
}

interface PyHeaders {
  'X-Trace-Info': string;
  'X-Trace-HMAC': string;
  decoded: string;
}

interface VerifyRequest {
  keys: string[];
  info: string | null;
  hmac: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Python's ids as our signedUnpack reports them (see signedUnpack's doc comment). */
function pyIdToOurs(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && '__repr__' in v) return undefined; // no JSON twin (NaN, inf)
  const falsy =
    v === null || v === false || v === 0 || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);
  return falsy ? '' : pyDumps(v);
}

/** The WsgiMiddleware verdict is comparable only when the key list survives its comma-joined string form. */
function middlewareComparable(keys: readonly string[]): boolean {
  return keys.length > 0 && keys.every((k) => k !== '' && !k.includes(',') && k.trim() === k);
}

// One verify-batch run for everything (a Python start costs ~0.1-0.2 s).
interface Job {
  label: string;
  req: VerifyRequest;
}
const jobs: Job[] = [];
const addJob = (label: string, req: VerifyRequest): number => jobs.push({ label, req }) - 1;

// 1. headers we sign
interface OurSigned {
  label: string;
  serverKeys: string[];
  key: string;
  base: string;
  parent: string;
  job: number;
}
const ours: OurSigned[] = [];
{
  const keySets: Array<[string, string[]]> = [
    ['SECRET_KEY', ['SECRET_KEY']],
    ['another-key-é', ['another-key-é']],
    ['☃ unicode key ☃', ['☃ unicode key ☃']],
    ['SECRET_KEY', ['old-key', 'SECRET_KEY', 'older-key']], // rotation: signed with the 2nd server key
    ['new', ['k1', 'new']],
  ];
  for (let i = 0; i < 4; i++) {
    const k = randomBytes(12).toString('base64url');
    keySets.push([k, ['SECRET_KEY', k]]);
  }
  const idPairs: Array<[string, string]> = [];
  for (let i = 0; i < 6; i++) idPairs.push([randomUUID(), randomUUID()]);
  idPairs.push(['not-a-uuid', 'x?y>z'], ['é☃😀', 'quote " backslash \\ newline \n'], ['same', 'same']);
  for (const [key, serverKeys] of keySets) {
    for (const [base, parent] of idPairs) {
      const { info, hmac } = signedPack({ base_id: base, parent_id: parent }, key);
      const label = `key ${JSON.stringify(key)} of ${JSON.stringify(serverKeys)}, ids ${JSON.stringify([base, parent])}`;
      ours.push({ label, serverKeys, key, base, parent, job: addJob(label, { keys: serverKeys, info, hmac }) });
    }
  }
}

// 2. every fixture case and every generated adversarial case
const fixtures = loadFixtures();
const verdictCases: Array<AdversarialCase & { job: number }> = [];
for (const c of fixtures.unpack_cases) {
  const a: AdversarialCase = {
    name: `fixture: ${c.case}`,
    info: c['X-Trace-Info'],
    hmac: c['X-Trace-HMAC'],
    keys: c.server_keys,
    accept: c.middleware_accepts,
  };
  verdictCases.push({ ...a, job: addJob(a.name, { keys: a.keys, info: a.info, hmac: a.hmac }) });
}
for (const a of adversarialCases()) {
  verdictCases.push({ ...a, job: addJob(a.name, { keys: a.keys, info: a.info, hmac: a.hmac }) });
}

// 3. headers Python signs
interface PyHeaderReq {
  key: string;
  base_id?: string;
  parent_id?: string;
  decoded: true;
}
const pyHeaderReqs: PyHeaderReq[] = [];
for (const key of ['SECRET_KEY', 'another-key-é', 'k', '☃', randomBytes(9).toString('hex')]) {
  pyHeaderReqs.push({ key, base_id: randomUUID(), parent_id: randomUUID(), decoded: true });
  pyHeaderReqs.push({ key, base_id: randomUUID(), decoded: true }); // parent defaults to base
  pyHeaderReqs.push({ key, decoded: true }); // Python generates the base_id
  pyHeaderReqs.push({ key, base_id: 'not-a-uuid', parent_id: 'x?y>z é', decoded: true });
}

let version = '';
let verdicts: PyVerdict[] = [];
let pyHeaders: PyHeaders[] = [];

beforeAll(() => {
  version = requirePythonOsprofiler();
  console.log(`Python OSProfiler ${version} (/usr/bin/python3, tools/python/pyosprofiler_peer.py); ${jobs.length} verify requests`);
  verdicts = runPeerBatch<PyVerdict>(
    'verify-batch',
    jobs.map((j) => j.req),
  );
  pyHeaders = runPeerBatch<PyHeaders>('headers-batch', pyHeaderReqs);
});

describe(`signing interop with the real Python OSProfiler`, () => {
  it('runs against a known Python OSProfiler', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has webob, so the real WsgiMiddleware verdict is checked too', () => {
    expect(verdicts.some((v) => v.middleware !== undefined)).toBe(true);
  });

  describe('headers we sign are accepted by Python with the same unpacked dict', () => {
    it.each(ours.map((o) => [o.label, o] as const))('%s', (_label, o) => {
      const py = verdicts[o.job];
      expect(py.reason).toBeNull();
      expect(py.accepted).toBe(true);
      expect(py.result).toEqual({ base_id: o.base, parent_id: o.parent, hmac_key: o.key });
      expect(signedUnpack(jobs[o.job].req.info, jobs[o.job].req.hmac, o.serverKeys)).toEqual(py.result);
      if (middlewareComparable(o.serverKeys)) {
        expect(py.middleware).toMatchObject({ traced: true, status: 200, base_id: o.base, parent_id: o.parent });
      }
    });
  });

  describe('headers Python signs are accepted by signedUnpack, and signedPack reproduces their bytes', () => {
    it.each(pyHeaderReqs.map((r, i) => [`${JSON.stringify(r.key)} base=${r.base_id ?? '(generated)'} parent=${r.parent_id ?? '(base)'}`, i] as const))(
      '%s',
      (_label, i) => {
        const req = pyHeaderReqs[i];
        const h = pyHeaders[i];
        const sent = JSON.parse(h.decoded) as { base_id: string; parent_id: string };
        if (req.base_id === undefined) expect(sent.base_id).toMatch(UUID_RE);
        else expect(sent.base_id).toBe(req.base_id);
        expect(sent.parent_id).toBe(req.parent_id ?? sent.base_id);
        expect(signedUnpack(h['X-Trace-Info'], h['X-Trace-HMAC'], ['unrelated', req.key])).toEqual({
          base_id: sent.base_id,
          parent_id: sent.parent_id,
          hmac_key: req.key,
        });
        expect(signedPack(sent, req.key)).toEqual({ info: h['X-Trace-Info'], hmac: h['X-Trace-HMAC'] });
      },
    );
  });

  describe('accept/reject verdict equals live Python (fixtures unpack_cases + generated cases)', () => {
    it(`covers every fixture case (${fixtures.unpack_cases.length}) and the generated ones`, () => {
      expect(verdictCases.filter((c) => c.name.startsWith('fixture: '))).toHaveLength(fixtures.unpack_cases.length);
      expect(verdictCases.length).toBeGreaterThan(fixtures.unpack_cases.length + 50);
    });

    it.each(verdictCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const py = verdicts[c.job];
      const got = signedUnpack(c.info, c.hmac, c.keys);
      const context = `python: ${JSON.stringify(py)}\nours: ${JSON.stringify(got)}`;
      // Python's signed_unpack + WsgiMiddleware._trace_is_valid, our verdict, and the expectation agree.
      expect(got !== null, context).toBe(py.accepted);
      expect(py.accepted, context).toBe(c.accept);
      if (py.middleware && middlewareComparable(c.keys)) {
        expect(py.middleware.traced, context).toBe(py.accepted);
      }
      if (got === null || py.result === null) return;
      expect(got.hmac_key).toBe(py.result.hmac_key);
      if (c.compareDict !== false) {
        const base = pyIdToOurs(py.result.base_id);
        expect(got.base_id, context).toBe(base);
        const parent = 'parent_id' in py.result ? pyIdToOurs(py.result.parent_id) || got.base_id : got.base_id;
        expect(got.parent_id, context).toBe(parent);
      }
      // What the real middleware initialised its profiler with.
      const mw = py.middleware;
      if (mw && mw.traced && middlewareComparable(c.keys)) {
        if (got.base_id === '') {
          expect(mw.base_id, context).toMatch(UUID_RE); // Python generated a fresh one
          if (got.parent_id === '') expect(mw.parent_id).toBe(mw.base_id);
          else expect(mw.parent_id).toBe(got.parent_id);
        } else if (c.compareDict !== false) {
          expect(pyIdToOurs(mw.base_id), context).toBe(got.base_id);
          expect(pyIdToOurs(mw.parent_id), context).toBe(got.parent_id);
        }
      }
    });
  });
});
