/**
 * Traces written through core's public API, holding every Node point kind (DESIGN.md's
 * info shapes), so Python's `trace show --dot` finds what it reads on wsgi/rpc/driver.
 */
import { get, openPoint, run, traced } from '@osprofiler/core';

export const HMAC_KEY = 'SECRET_KEY';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function failingDriverCall(): Promise<void> {
  await traced('driver', { function: { name: 'payments.PaymentService.charge' } }, async () => {
    await sleep(1);
    throw new TypeError('card declined');
  });
}

/** The body of a trace: wsgi > rpc > driver > db > sql, plus exec, thread and a failing driver. */
export async function everyKind(): Promise<void> {
  await traced(
    'wsgi',
    { request: { method: 'GET', path: '/orders/42', query: 'full=1', scheme: 'http' } },
    async () => {
      await traced(
        'rpc',
        { function: { name: 'GET inventory:8080/items/:id' }, request: { method: 'GET', url: 'http://inventory:8080/items/7', host: 'inventory', port: 8080 } },
        async () => {
          await traced('driver', { function: { name: 'orders.OrderService.load' } }, async () => {
            await traced('db', { function: { name: 'knex.select' }, db: { system: 'postgresql', operation: 'select', table: 'orders', database: 'shop' } }, async () => {
              const sql = openPoint('sql', { db: { statement: 'select * from "orders" where "id" = ?' } });
              await sleep(1);
              sql?.stop();
            }, () => ({ db: { rows: 1 } }));
          });
        },
        () => ({ response: { status_code: 200 } }),
      );
      const exec = openPoint('exec', { function: { name: 'git' }, exec: { command: 'git', cwd: '/srv', pid: 4242 } });
      await sleep(1);
      exec?.stop({ exec: { exit_code: 0, signal: null } });
      const thread = openPoint('thread', { function: { name: 'resize.js' }, thread: { thread_id: 1, filename: '/srv/resize.js' } });
      await sleep(1);
      thread?.stop({ thread: { exit_code: 0 } });
      await failingDriverCall().catch(() => undefined);
    },
    () => ({ response: { status_code: 200 }, request: { route: '/orders/:id' } }),
  );
}

/** A 3-level trace: wsgi > driver > db. */
export async function threeLevels(): Promise<void> {
  await traced('wsgi', { request: { method: 'POST', path: '/a', query: '', scheme: 'http' } }, async () => {
    await traced('driver', { function: { name: 'svc.A.b' } }, async () => {
      await traced('db', { db: { statement: 'select 1' } }, () => sleep(1));
    });
  });
}

/** Runs `body` in a new (or continued) trace and returns its base_id. */
export async function inTrace(body: () => Promise<void>, ids: { baseId?: string; parentId?: string } = {}): Promise<string> {
  return run({ hmacKey: HMAC_KEY, ...ids }, async () => {
    const baseId = get()!.baseId;
    await body();
    return baseId;
  });
}
