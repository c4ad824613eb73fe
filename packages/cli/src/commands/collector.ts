/**
 * `osprofiler collector --nats URL --backend CS [--stream NAME] [--partitions 16] [--rules FILE] …`:
 * runs the central collector (packages/collector) in the foreground until SIGTERM/SIGINT.
 * @osprofiler/collector is an optional peer, loaded only when this command runs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliIO } from '../io';

export interface CollectorCommandOptions {
  nats: string;
  backend?: string;
  stream?: string;
  subjectPrefix?: string;
  partitions?: number;
  rules?: string;
  health?: string;
  id?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  amqp?: string;
  amqpExchange?: string;
  amqpQueue?: string;
  init?: boolean;
}

type CollectorModule = typeof import('@osprofiler/collector');

function loadCollector(io: CliIO): CollectorModule | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@osprofiler/collector') as CollectorModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'MODULE_NOT_FOUND') throw err;
    io.stderr('error: `osprofiler collector` needs the @osprofiler/collector package: npm install @osprofiler/collector\n');
    return undefined;
  }
}

/** Resolves with the exit code: 0 after a clean drain (or --init done), 1 on a start-up error. */
export async function collectorCommand(opts: CollectorCommandOptions, io: CliIO): Promise<number> {
  const mod = loadCollector(io);
  if (mod === undefined) return 1;
  if (!opts.init && !opts.backend) {
    io.stderr('error: required option --backend <cs> not specified (only --init runs without a store)\n');
    return 2;
  }
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return mod.runCollectorProcess(
    {
      nats: opts.nats,
      backend: opts.backend ?? '',
      ...defined({
        stream: opts.stream,
        subjectPrefix: opts.subjectPrefix,
        partitions: opts.partitions,
        rules: opts.rules,
        health: opts.health,
        collectorId: opts.id,
        natsCreds: opts.natsCreds,
        natsTlsCa: opts.natsTlsCa,
        natsTlsCert: opts.natsTlsCert,
        natsTlsKey: opts.natsTlsKey,
        amqp: opts.amqp,
        amqpExchange: opts.amqpExchange,
        amqpQueue: opts.amqpQueue,
      }),
      init: opts.init === true,
    },
    { info: (l) => io.stderr(l + '\n'), error: (l) => io.stderr(`error: ${l}\n`) },
  );
}

function positiveInt(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('must be a positive integer.');
  return Number(value);
}

/** Adds `osprofiler collector` to the program. */
export function registerCollectorCommand(program: Command, io: CliIO, state: { exitCode: number }): void {
  program
    .command('collector')
    .description('Run the central collector: consume trace points from NATS JetStream (agents with --upstream) and write them to the store.')
    .requiredOption('--nats <url>', 'NATS server(s): nats://[user:pass@]host:4222[,…] (tls:// for TLS)')
    .option('--backend <cs>', "the store's connection string, e.g. redis://127.0.0.1:6379 or postgresql://…")
    .option('--stream <name>', 'JetStream stream (default: OSPROFILER)')
    .option('--subject-prefix <prefix>', 'subject prefix, as the agents use (default: osprofiler)')
    .addOption(new Option('--partitions <n>', 'partition count, as the agents use (default: 16)').argParser(positiveInt))
    .option('--rules <file>', 'rules JSON: redact info keys, drop kinds, rename service/project, whole-trace keep')
    .option('--health <host:port>', 'serve /metrics (Prometheus) and /healthz on this loopback address')
    .option('--id <id>', "this collector's id in the lease bucket (default: host-pid-random)")
    .option('--nats-creds <file>', 'NATS credentials (.creds) file')
    .option('--nats-tls-ca <file>', 'CA bundle (PEM) for TLS to NATS')
    .option('--nats-tls-cert <file>', 'client certificate (PEM) for TLS to NATS')
    .option('--nats-tls-key <file>', 'client key (PEM) for TLS to NATS')
    .option('--amqp <url>', "also take in Python's messaging-driver notifications: amqp://user:pass@host:5672/vhost")
    .option('--amqp-exchange <name>', 'exchange Python publishes to (default: openstack)')
    .option('--amqp-queue <name>', "the collector's own queue bound to it (default: osprofiler-collector)")
    .option('--init', 'create the stream, consumers and lease bucket, then exit')
    .action(async (opts: CollectorCommandOptions) => {
      state.exitCode = await collectorCommand(opts, io);
    });
}
