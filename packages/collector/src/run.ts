/** Running the collector as a process (`osprofiler collector`, dist/daemon.js): start, log, drain on SIGTERM/SIGINT. */
import { redactConnectionString } from '@osprofiler/core/instrument';
import { startCollector, initCollector } from './collector';
import { CollectorError } from './errors';
import type { CollectorOptionsInput } from './options';

export interface RunLog {
  info(line: string): void;
  error(line: string): void;
}

const stderrLog: RunLog = {
  info: (l) => process.stderr.write(l + '\n'),
  error: (l) => process.stderr.write(l + '\n'),
};

/** Runs until SIGTERM/SIGINT (or, with `init`, creates the JetStream objects and returns); resolves with the exit code. */
export async function runCollectorProcess(options: CollectorOptionsInput & { init?: boolean }, log: RunLog = stderrLog): Promise<number> {
  const { init, ...o } = options;
  if (init === true) {
    try {
      await initCollector(o);
      log.info(`osprofiler collector: stream ${o.stream ?? 'OSPROFILER'}, its consumers and lease bucket are ready`);
      return 0;
    } catch (err) {
      log.error(`osprofiler collector --init: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  let c;
  try {
    c = await startCollector(o);
  } catch (err) {
    log.error(`osprofiler collector: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info(`osprofiler collector: ${sig}, draining`);
    void c.stop();
  };
  // Before the line that says it runs: whoever waits for that line may signal at once (as
  // the agent's run.ts).
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const health = c.healthAddress === undefined ? '' : `, metrics on http://${c.healthAddress}/metrics`;
  log.info(`osprofiler collector ${process.pid} (${c.id}): consuming ${c.options.stream} (${c.options.partitions} partitions) into ${redactConnectionString(c.options.backend)}${health}`);
  await c.stopped;
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  const m = c.metrics;
  log.info(`osprofiler collector: stopped (messages ${m.messages}, written ${m.written} points, duplicates ${m.duplicates}, dead letters ${Object.values(m.deadLetters).reduce((a, b) => a + b, 0)})`);
  return 0;
}

const FLAGS: Record<string, keyof CollectorOptionsInput | 'init'> = {
  '--nats': 'nats',
  '--backend': 'backend',
  '--stream': 'stream',
  '--subject-prefix': 'subjectPrefix',
  '--partitions': 'partitions',
  '--rules': 'rules',
  '--health': 'health',
  '--id': 'collectorId',
  '--lease-bucket': 'leaseBucket',
  '--nats-creds': 'natsCreds',
  '--nats-tls-ca': 'natsTlsCa',
  '--nats-tls-cert': 'natsTlsCert',
  '--nats-tls-key': 'natsTlsKey',
  '--amqp': 'amqp',
  '--amqp-exchange': 'amqpExchange',
  '--amqp-queue': 'amqpQueue',
  '--lease-ttl-ms': 'leaseTtlMs',
  '--lease-renew-ms': 'leaseRenewMs',
  '--ack-wait-ms': 'ackWaitMs',
  '--max-deliver': 'maxDeliver',
  '--stream-max-bytes': 'streamMaxBytes',
};
const NUMERIC = new Set(['partitions', 'leaseTtlMs', 'leaseRenewMs', 'ackWaitMs', 'maxDeliver', 'streamMaxBytes']);

export const USAGE =
  'usage: --nats nats://HOST:4222 --backend CS [--stream NAME] [--partitions 16] [--rules FILE] [--health HOST:PORT] [--subject-prefix P] [--id ID] [--amqp amqp://…] [--init]';

/** Flags → options (for dist/daemon.js and tests). */
export function parseCollectorArgs(argv: string[]): CollectorOptionsInput & { init?: boolean } {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (key === '--init') {
      out.init = true;
      continue;
    }
    const field = FLAGS[key];
    const value = argv[i + 1];
    if (field === undefined || value === undefined) throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', `unexpected argument "${key}" (${USAGE})`);
    i++;
    if (NUMERIC.has(field)) {
      if (!/^\d+$/.test(value)) throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', `${key} "${value}": expected a positive integer`);
      out[field] = Number(value);
    } else out[field] = value;
  }
  return out as unknown as CollectorOptionsInput & { init?: boolean };
}
