// `npm start`: starts everything on 127.0.0.1 — a collector (NATS JetStream → PostgreSQL,
// with its AMQP intake for Python), one agent per Node service (agent:// sockets, as if
// each service ran on its own node), the worker, the Python quote service, the api and
// the gateway — sends one signed request with `osprofiler profile`, prints the tree and
// the viewer's URL (`osprofiler ui`), and serves until Ctrl-C, which stops everything it
// started. `--check` (npm test) sends signed and unsigned requests concurrently instead
// and asserts the stored traces; it owns its stream, subjects, RabbitMQ vhost and tables,
// and removes them at the end.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, reachable, start, stopAll } from './procs.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
let CLI;
// The built packages this needs (npm run build): checked with the other prerequisites, loaded after.
const PACKAGES = ['@osprofiler/cli', '@osprofiler/core', '@osprofiler/drivers', '@osprofiler/agent', '@osprofiler/collector', '@osprofiler/viewer', '@osprofiler/express', '@osprofiler/knex', '@osprofiler/node', '@osprofiler/nestjs', '@osprofiler/typeorm'];
const check = process.argv.includes('--check');
const env = process.env;
const NATS_URL = env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RABBIT = { host: '127.0.0.1', port: 5672, user: 'guest', pass: 'guest' };
const HMAC_KEY = env.HMAC_KEY ?? 'SECRET_KEY';
// Debian's python3 (python3-osprofiler), not whatever python3 comes first on PATH.
const PYTHON = env.PYTHON ?? '/usr/bin/python3';
const store = env.MULTI_STORE === 'redis' ? 'redis' : 'postgresql';

function hostPort(url, defaultPort) {
  const u = new URL(url);
  return [u.hostname, Number(u.port || defaultPort)];
}

/** One clear line per missing prerequisite; empty when everything is there. */
async function prerequisites() {
  const missing = [];
  if (!(await reachable(...hostPort(NATS_URL, 4222)))) missing.push(`NATS is not reachable at ${NATS_URL}: start nats-server with JetStream (nats-server -js), or set NATS_URL.`);
  if (store === 'postgresql' && !(await reachable(...hostPort(PG_URL, 5432)))) missing.push(`PostgreSQL is not reachable at ${PG_URL}: start it, or set DATABASE_URL (or MULTI_STORE=redis).`);
  if (store === 'redis' && check && spawnSync('redis-server', ['--version']).status !== 0) missing.push('redis-server is not installed (the check on Redis starts one of its own): apt-get install redis-server.');
  if (store === 'redis' && !check && !(await reachable(...hostPort(REDIS_URL, 6379)))) missing.push(`Redis is not reachable at ${REDIS_URL}: start redis-server, or set REDIS_URL.`);
  if (!(await reachable(RABBIT.host, RABBIT.port))) missing.push(`RabbitMQ is not reachable at ${RABBIT.host}:${RABBIT.port} (Python's messaging driver needs it): start rabbitmq-server.`);
  const py = spawnSync(PYTHON, ['-c', 'import osprofiler.web, oslo_messaging'], { encoding: 'utf8' });
  if (py.error) missing.push(`${PYTHON} does not run: apt-get install python3 python3-osprofiler (or set PYTHON).`);
  else if (py.status !== 0) missing.push("Python's OSProfiler (with oslo.messaging) is not importable: apt-get install python3-osprofiler.");
  if (spawnSync('rabbitmqctl', ['version'], { encoding: 'utf8' }).status !== 0) missing.push('rabbitmqctl does not run here (the example makes a RabbitMQ vhost of its own): run as a user allowed to use rabbitmqctl.');
  const unbuilt = PACKAGES.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (unbuilt.length > 0) missing.push(`${unbuilt.join(', ')} not built: npm run build (from the repository root).`);
  else CLI = join(dirname(require.resolve('@osprofiler/cli')), '../bin/osprofiler.js');
  for (const f of ['dist/api.js', 'dist/worker.js']) if (!existsSync(join(here, f))) missing.push(`${f} is missing: build first (npm run build -w examples/multi-service; npm start does it).`);
  return missing;
}

function rabbitmqctl(args) {
  const r = spawnSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${r.stderr}`);
}

async function main() {
  const missing = await prerequisites();
  if (missing.length > 0) {
    for (const m of missing) console.error(`multi-service: ${m}`);
    return 1;
  }
  // Names of this run's own: JetStream stream and subjects, RabbitMQ vhost and queue, tables.
  const r = randomBytes(4).toString('hex');
  const names = {
    stream: `OSP_MULTI_${r}`,
    prefix: `ospmulti${r}`,
    vhost: `osp-multi-${r}`,
    queue: `osprofiler-collector-multi-${r}`,
    // npm start keeps its traces in tables that stay (the viewer shows earlier runs too); the check's are its own and dropped.
    tablePrefix: check ? `osp_multi_${r}_` : 'osp_multi_example_',
    jobsTable: check ? `multi_jobs_${r}` : 'multi_example_jobs',
    subject: `multi.jobs.${r}`,
  };
  const dir = mkdtempSync(join(tmpdir(), 'osp-multi-'));
  let backend = store === 'redis' ? REDIS_URL : `${PG_URL}?table_prefix=${names.tablePrefix}`;
  const common = { HMAC_KEY, NATS_URL, TRACE_DB: 'true', WORKER_SUBJECT: names.subject };
  let code = 1;
  let vhostMade = false;
  let finished;
  // Stops and removes everything this run started and made; once, whether it ends, fails or is interrupted.
  const finish = () =>
    (finished ??= (async () => {
      await stopAll();
      await cleanUp(names, { dropStore: check && store === 'postgresql' }).catch((err) => console.error(`multi-service: clean-up: ${err.message}`));
      if (vhostMade) {
        try {
          rabbitmqctl(['delete_vhost', names.vhost]);
        } catch (err) {
          console.error(`multi-service: ${err.message}`);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  if (check) {
    for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void finish().finally(() => process.exit(130)));
  }
  try {
    rabbitmqctl(['add_vhost', names.vhost]);
    vhostMade = true;
    rabbitmqctl(['set_permissions', '-p', names.vhost, RABBIT.user, '.*', '.*', '.*']);
    const amqpUrl = `amqp://${RABBIT.user}:${RABBIT.pass}@${RABBIT.host}:${RABBIT.port}/${encodeURIComponent(names.vhost)}`;
    const transportUrl = `rabbit://${RABBIT.user}:${RABBIT.pass}@${RABBIT.host}:${RABBIT.port}/${names.vhost}`;
    if (check && store === 'redis') {
      // The check on Redis: a redis-server of its own (free port, temp dir), so the store holds only this run's traces.
      const port = await freePort();
      await start('redis-server', 'redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], { ready: /Ready to accept connections/ });
      backend = `redis://127.0.0.1:${port}`;
    }
    const P = '2';
    const health = `127.0.0.1:${await freePort()}`;
    await start('collector', process.execPath, [CLI, 'collector', '--nats', NATS_URL, '--backend', backend, '--stream', names.stream, '--subject-prefix', names.prefix, '--partitions', P, '--health', health, '--amqp', amqpUrl, '--amqp-queue', names.queue], { ready: /consuming/ });
    const agents = {};
    for (const service of ['gateway', 'api', 'worker']) {
      const socket = join(dir, `${service}.sock`);
      await start(`agent(${service})`, process.execPath, [CLI, 'agent', '--listen', socket, '--upstream', NATS_URL, '--subject-prefix', names.prefix, '--partitions', P], { ready: /listening on/ });
      agents[service] = `agent://${socket}`;
    }
    await start('worker', process.execPath, [join(here, 'dist/worker.js')], { ready: /LISTENING/, env: { ...common, AGENT_URL: agents.worker, DATABASE_URL: PG_URL, JOBS_TABLE: names.jobsTable, DROP_JOBS_TABLE: check ? '1' : '0' } });
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const python = await start('quote (Python)', PYTHON, [join(here, 'quote_service.py'), HMAC_KEY, transportUrl, gatewayUrl], { ready: /LISTENING (\d+)/, keepStdin: true });
    const pythonUrl = `http://127.0.0.1:${python.match[1]}`;
    const api = await start('api', process.execPath, [join(here, 'dist/api.js')], { ready: /LISTENING (\d+)/, env: { ...common, AGENT_URL: agents.api, PYTHON_URL: pythonUrl } });
    const apiUrl = `http://127.0.0.1:${api.match[1]}`;
    await start('gateway', process.execPath, ['--import', '@osprofiler/node/register', join(here, 'gateway.mjs')], { cwd: here, ready: /LISTENING/, env: { ...common, AGENT_URL: agents.gateway, API_URL: apiUrl, PORT: String(gatewayPort) } });
    console.log(`gateway ${gatewayUrl} → api ${apiUrl} → worker (NATS ${names.subject}) → PostgreSQL; api → quote (Python) ${pythonUrl} → gateway`);
    console.log(`store: ${backend} (through collector, stream ${names.stream})`);

    if (check) {
      const { checkTraces } = await import('./check.mjs');
      const { SCREENSHOTS, checkViewer } = await import('./viewer-check.mjs');
      const { failures, first } = await checkTraces({ gatewayUrl, backend, hmacKey: HMAC_KEY });
      if (first !== undefined) {
        const viewer = await startViewer(backend);
        failures.push(...(await checkViewer(viewer, first.baseId, { services: ['gateway', 'api', 'worker', 'quote'], points: first.points, kinds: ['wsgi', 'rpc', 'db', 'sql', 'driver', 'exec', 'thread', 'worker', 'quote_price', 'quote_callback'], shot: `multi-service-trace-${store}.png` })));
        if (failures.length === 0) console.log(`viewer: ${viewer}#/trace/${first.baseId} shows the trace (screenshot in ${SCREENSHOTS})`);
      }
      for (const f of failures) console.log(`check: FAILED: ${f}`);
      if (failures.length === 0) console.log('check: ok');
      code = failures.length === 0 ? 0 : 1;
    } else {
      code = await serve({ gatewayUrl, backend });
    }
  } catch (err) {
    console.error(`multi-service: ${err instanceof Error ? err.message : String(err)}`);
    code = 1;
  } finally {
    await finish();
  }
  return code;
}

/** Removes the run's JetStream objects, and (the check) its tables. */
async function cleanUp(names, { dropStore }) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS_URL.replace(/^nats:\/\//, '') });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of [names.stream, `${names.stream}_DEADLETTER`, `KV_${names.stream}_LEASES`]) await jsm.streams.delete(s).catch(() => false);
  } finally {
    await nc.close();
  }
  if (dropStore) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      // Every table the store made under the run's prefix (points, errors, the search index), and the jobs table.
      const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)", [names.tablePrefix]);
      for (const t of [...rows.map((row) => row.tablename), names.jobsTable]) await client.query(`DROP TABLE IF EXISTS "${t}"`);
    } finally {
      await client.end();
    }
  }
}

/** `osprofiler ui` over the store, on a free loopback port; resolves to its URL. */
async function startViewer(backend) {
  const port = await freePort();
  const ui = await start('viewer', process.execPath, [CLI, 'ui', '--connection-string', backend, '--port', String(port), '--host', '127.0.0.1'], { ready: /OSProfiler viewer for .*: (http:\/\/\S+)/ });
  return ui.match[1].replace(/\/$/, '');
}

/** npm start: one request through `osprofiler profile --show`, then the viewer until Ctrl-C. */
async function serve({ gatewayUrl, backend }) {
  const { main: osprofiler } = require('@osprofiler/cli');
  const code = await osprofiler(['node', 'osprofiler', 'profile', `${gatewayUrl}/order/7`, '--hmac-key', HMAC_KEY, '--show', '--timeout-ms', '30000', '--connection-string', backend]);
  const viewer = await startViewer(backend);
  console.log(`\nviewer: ${viewer}\nserving; Ctrl-C stops everything this started.`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
