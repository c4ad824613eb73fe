// `--check`: signed and unsigned requests sent concurrently (bounded counts), then the
// stored traces asserted — every service and kind under the right parent, Python's points
// in the tree, nothing stored for the unsigned requests. Prints one line per failure.
import { randomUUID } from 'node:crypto';
import { createDriver, signedPack } from '@osprofiler/core';
import '@osprofiler/drivers';

const SIGNED = Number(process.env.MULTI_SIGNED ?? 3);
const UNSIGNED = Number(process.env.MULTI_UNSIGNED ?? 3);

/** A report node reduced to what the assertions read. */
function slim(n) {
  return { name: n.info.name, service: n.info.service, children: n.children.map(slim) };
}

function dump(n, depth = 0, out = []) {
  for (const c of n.children) {
    out.push(`${'  '.repeat(depth)}${c.name} [${c.service}]`);
    dump(c, depth + 1, out);
  }
  return out;
}

/** The expected shape: [name, service, [children that must be there]]. */
const GATEWAY_WSGI = ['wsgi', 'gateway', [
  ['db', 'gateway', [['sql', 'gateway', []]]],
  ['exec', 'gateway', []],
  ['thread', 'gateway', [['worker', 'gateway', []]]],
  ['rpc', 'gateway', [
    ['wsgi', 'api', [
      ['rpc', 'api', [['rpc', 'worker', [['driver', 'worker', [['db', 'worker', [['sql', 'worker', []]]]]]]]]],
      ['rpc', 'api', [
        ['wsgi', 'quote', [
          ['quote_price', 'quote', []],
          ['quote_callback', 'quote', [['wsgi', 'gateway', []]]],
        ]],
      ]],
    ]],
  ]],
]];

/** Each expected child matched by a distinct actual child that has the whole expected subtree. */
function matches(node, [name, service, kids]) {
  if (node.name !== name || node.service !== service) return false;
  const used = new Set();
  return kids.every((want) => {
    const i = node.children.findIndex((c, j) => !used.has(j) && matches(c, want));
    if (i < 0) return false;
    used.add(i);
    return true;
  });
}

function complete(report) {
  const s = report.stats ?? {};
  return ['wsgi', 'rpc', 'db', 'sql', 'driver', 'exec', 'thread', 'worker', 'quote_price', 'quote_callback'].every((k) => (s[k]?.count ?? 0) > 0) && !JSON.stringify(report).includes('"finished":null');
}

/** Number of points (nodes) in a report tree. */
function count(n) {
  return n.children.reduce((a, c) => a + 1 + count(c), 0);
}

/** Sends the requests and asserts the store; returns the failures and the first signed trace (id, point count). */
export async function checkTraces({ gatewayUrl, backend, hmacKey }) {
  const failures = [];
  let first;
  const t0 = Date.now();
  const signed = Array.from({ length: SIGNED }, () => randomUUID());
  const requests = [
    ...signed.map((baseId, i) => {
      const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, hmacKey);
      return fetch(`${gatewayUrl}/order/${7 + i}`, { headers: { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } });
    }),
    ...Array.from({ length: UNSIGNED }, (_, i) => fetch(`${gatewayUrl}/order/${7 + (i % SIGNED)}`)),
    // A forged signature is served untraced too.
    fetch(`${gatewayUrl}/order/99`, { headers: { ...(({ info }) => ({ 'X-Trace-Info': info }))(signedPack({ base_id: randomUUID(), parent_id: randomUUID() }, 'not-the-key')), 'X-Trace-HMAC': '0'.repeat(40) } }),
  ];
  const responses = await Promise.all(requests);
  const bodies = await Promise.all(responses.map((r) => r.json()));
  responses.forEach((r, i) => {
    if (r.status !== 200) failures.push(`request ${i} answered ${r.status}: ${JSON.stringify(bodies[i])}`);
  });
  // A traced request answers exactly what an untraced one does for the same order (bar the worker's job counters).
  const strip = (b) => JSON.stringify({ ...b, api: { ...b.api, job: undefined } });
  for (let i = 0; i < Math.min(SIGNED, UNSIGNED); i++) {
    if (strip(bodies[i]) !== strip(bodies[SIGNED + i])) failures.push(`traced and untraced answers differ: ${strip(bodies[i])} vs ${strip(bodies[SIGNED + i])}`);
  }
  if (JSON.stringify(bodies[0].api?.python) !== JSON.stringify({ order: 7, price_cents: 100 * ((7 % 17) + 1), gateway: { gateway: 'ok' } })) failures.push(`python answer: ${JSON.stringify(bodies[0].api?.python)}`);
  console.log(`${requests.length} requests (${SIGNED} signed, ${UNSIGNED} unsigned, 1 forged) answered in ${Date.now() - t0} ms`);

  const driver = await createDriver(backend, {});
  try {
    // One deadline for all the traces: a trace that never completes fails the check within a minute.
    const end = Date.now() + 60_000;
    for (const baseId of signed) {
      let report;
      for (;;) {
        report = await driver.getReport(baseId);
        if (complete(report) || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const tree = slim(report);
      const roots = tree.children;
      if (roots.length !== 1 || !matches(roots[0], GATEWAY_WSGI)) failures.push(`trace ${baseId} has not the expected shape:\n${dump(tree).join('\n')}`);
      else if (baseId === signed[0]) console.log(`trace ${baseId}:\n${dump(tree).join('\n')}`);
      if (baseId === signed[0]) first = { baseId, points: count(tree) };
    }
    // Give late points (of anything unsigned that would wrongly be traced) time to arrive, then list the store.
    await new Promise((r) => setTimeout(r, 2000));
    const stored = (await driver.listTraces({ limit: 1000 })).map((t) => t.base_id).sort();
    if (JSON.stringify(stored) !== JSON.stringify([...signed].sort())) failures.push(`the store holds traces ${JSON.stringify(stored)}, want exactly the signed ${JSON.stringify(signed)}`);
  } finally {
    await driver.close();
  }
  if (failures.length === 0) console.log(`store: ${SIGNED} traces, every service and kind in place; unsigned and forged requests left nothing (${Date.now() - t0} ms)`);
  return { failures, first };
}
