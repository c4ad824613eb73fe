// A small program traced by hand: a request that calls a service, which calls a
// repository twice in parallel and fails once. Points go to the embedded file:// backend
// (OSPROFILER_CONNECTION_STRING overrides it); then the stored trace is printed as a tree
// by the same code as `osprofiler trace show <base_id>`.
import { configure, flush, run, traced, traceClass, trace, getConfig } from '@osprofiler/core';
import { main as osprofiler } from '@osprofiler/cli';
import { setTimeout as sleep } from 'node:timers/promises';

configure({ enabled: true, project: 'demo', service: 'nested-calls', hmacKeys: ['SECRET_KEY'] });

class OrderRepository {
  async find(id) {
    await sleep(5 + id);
    return { id, total: id * 10 };
  }
}
traceClass('db')(OrderRepository);

class OrderService {
  constructor(repo) {
    this.repo = repo;
  }
  async summary(ids) {
    const orders = await Promise.all(ids.map((id) => this.repo.find(id)));
    return orders.reduce((s, o) => s + o.total, 0);
  }
  async audit() {
    await sleep(2);
    throw new Error('audit service unavailable');
  }
}
traceClass('driver')(OrderService);

const render = trace('render')(function render(total) {
  return `total=${total}`;
});

const service = new OrderService(new OrderRepository());
const baseId = await run({ hmacKey: 'SECRET_KEY' }, async () => {
  const { baseId } = (await import('@osprofiler/core')).get();
  await traced('wsgi', { request: { method: 'GET', path: '/orders/summary', query: 'ids=1,2', scheme: 'http' } }, async () => {
    const total = await service.summary([1, 2]);
    await service.audit().catch(() => undefined); // recorded as an error point, handled here
    return render(total);
  }, () => ({ response: { status_code: 200 } }));
  return baseId;
});
await flush();

console.log(`stored trace ${baseId} in ${getConfig().connectionString}\n`);
const args = ['node', 'osprofiler', 'trace', 'show', baseId, '--tree'];
const code = await osprofiler(args);
if (process.argv.includes('--check')) {
  // Used by `npm test`: the stored trace must read back with every point.
  const json = [];
  await osprofiler(['node', 'osprofiler', 'trace', 'show', baseId, '--json'], { stdout: (s) => json.push(s), stderr: (s) => process.stderr.write(s) });
  const report = JSON.parse(json.join(''));
  const stats = report.stats;
  const ok = stats.wsgi?.count === 1 && stats.driver?.count === 2 && stats.db?.count === 2 && stats.render?.count === 1;
  console.log(ok ? 'check: ok' : `check: FAILED ${JSON.stringify(stats)}`);
  process.exitCode = ok ? 0 : 1;
} else {
  process.exitCode = code;
}
