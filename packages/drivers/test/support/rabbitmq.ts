/**
 * The real RabbitMQ on 127.0.0.1:5672 (guest/guest). Each test file gets a virtual host of
 * its own (rabbitmqctl), so Python's destructive `profiler.info` reader and our queues
 * touch nothing else, and deletes exactly that vhost at the end.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function rabbitmqctl(args: string[]): void {
  const r = spawnSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.error?.message ?? ''}`);
}

export class RabbitVhost {
  readonly name = `osp-drivers-${randomBytes(4).toString('hex')}`;

  create(): this {
    rabbitmqctl(['add_vhost', this.name]);
    rabbitmqctl(['set_permissions', '-p', this.name, 'guest', '.*', '.*', '.*']);
    return this;
  }

  /** Closes every client connection to this vhost (as a broker restart would). */
  closeConnections(): void {
    rabbitmqctl(['close_all_connections', '--vhost', this.name, 'test closes connections']);
  }

  delete(): void {
    rabbitmqctl(['delete_vhost', this.name]);
  }

  /** Our connection string. */
  amqpUrl(query = ''): string {
    return `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(this.name)}${query}`;
  }

  /** oslo.messaging's transport URL, for Python. */
  get transportUrl(): string {
    return `rabbit://guest:guest@127.0.0.1:5672/${this.name}`;
  }
}
