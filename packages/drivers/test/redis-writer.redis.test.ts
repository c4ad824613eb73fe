/**
 * redis://'s write connection (src/redis/resp.ts, writer.ts) against real redis-servers of
 * this file's own: the encoder's bytes as a server parses them, the reply parser on real
 * replies split at every byte, NOSCRIPT recovery, a server down / restarted / stopped
 * (SIGSTOP: command_timeout), AUTH (user and password) and SELECT.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { createDriver, failureCounts } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import type { LineBatch } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import type { RedisDriver } from '../src/index';
import { RedisReplyError, RespEncoder, RespParser, Script, type Reply } from '../src/redis/resp';
import { TRIM } from '../src/redis/index-write';
import { RedisServer } from '../../../tools/testing/redis-server';

const server = new RedisServer();
let admin: Redis;

beforeAll(async () => {
  await server.start();
  admin = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
});

afterAll(async () => {
  await admin.quit();
  await server.close();
});

/** Sends `bytes` on a fresh socket and returns what the server answered, once `replies` replies are in. */
async function roundTrip(port: number, bytes: Buffer, replies: number): Promise<{ raw: Buffer; parsed: Reply[] }> {
  const s = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  const parsed: Reply[] = [];
  const parser = new RespParser((r) => parsed.push(r));
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      parser.feed(c);
      if (parsed.length === replies) resolve();
    });
    s.write(bytes);
  });
  s.destroy();
  return { raw: Buffer.concat(chunks), parsed };
}

let seq = 0;
function note(baseId: string, name: string, info: Record<string, unknown> = {}): Notification {
  seq++;
  return {
    name,
    base_id: baseId,
    trace_id: `t-${baseId}`, // one point per trace: its start and stop
    parent_id: baseId,
    timestamp: `2026-12-04T10:00:00.${String(100000 + seq).padStart(6, '0')}`,
    info: { ...info, host: 'h' },
    project: 'p',
    service: 's',
  };
}

/** A 1-point trace's two lines, as the agent hands them over (bytes, no index). */
function agentBatch(baseIds: string[]): LineBatch {
  const { index: _index, ...lines } = linesOfNotifications(baseIds.flatMap((b) => [note(b, 'wsgi-start'), note(b, 'wsgi-stop')]));
  return { ...lines, buffers: lines.lines.map((l) => Buffer.from(l, 'latin1')) };
}

async function driverOn(url: string, opts: { filterErrorTrace?: boolean } = {}): Promise<RedisDriver> {
  return (await createDriver(url, opts)) as RedisDriver;
}

/** Once the server answers again: a write goes through (retried for up to 8 s) and its trace is stored. */
async function writesAgain(driver: RedisDriver, port: number): Promise<void> {
  const id = randomUUID();
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      await driver.notifyLines(agentBatch([id]));
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const check = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await check.connect();
  expect(await check.llen(`osprofiler_opt:${id}`)).toBe(2);
  await check.quit();
}

describe('RESP encoder', () => {
  it('a batch of ASCII, non-ASCII, empty, raw-byte and huge values is stored byte for byte', async () => {
    const key = `enc:${randomUUID()}`;
    const huge = 'x'.repeat(3 << 20) + 'é';
    const values: (string | Buffer)[] = [
      'plain ascii',
      'é ü — 漢字 😀', // UTF-8 as ioredis sends strings: 2-, 3- and 4-byte sequences
      '',
      Buffer.from([0x7b, 0xe9, 0x00, 0xff, 0x0d, 0x0a, 0x7d]), // bytes as they came, CRLF inside
      huge,
      '\u0000\r\n$5\r\n',
    ];
    const enc = new RespEncoder(64); // grows while encoding
    enc.command(2 + values.length).str('RPUSH').str(key);
    for (const v of values) enc.arg(v);
    enc.call('LLEN', key);
    const batch = enc.take();
    expect(batch.commands).toBe(2);
    const { parsed } = await roundTrip(server.port, batch.bytes, 2);
    expect(parsed).toEqual([values.length, values.length]);
    const stored = await admin.lrangeBuffer(key, 0, -1);
    expect(stored).toHaveLength(values.length);
    // Buffer.equals: a deep equality of 3 MB takes seconds.
    values.forEach((v, i) => expect(stored[i].equals(typeof v === 'string' ? Buffer.from(v, 'utf8') : v), `value ${i}`).toBe(true));
    await admin.del(key);
  });

  it('framedCommands(): commands framed by the caller, written as one text; refused (nothing written) when said ASCII and not; the same bytes as str() one by one, stored as sent', async () => {
    const frame = (v: string, bytes: boolean): string => `$${bytes ? Buffer.byteLength(v) : v.length}\r\n${v}\r\n`;
    const ascii = ['x'.repeat(70_000), 'plain', '', '$5\r\n*1'];
    const mixed = [...ascii, 'é ü 漢字 😀', 'lone \ud800 surrogate', 'ascii after'];
    for (const values of [ascii, mixed]) {
      const key = `framed:${randomUUID()}`;
      const one = new RespEncoder(64).call('PING');
      one.command(2 + values.length).str('RPUSH').str(key);
      for (const v of values) one.str(v);
      const text = (bytes: boolean): string => `*${2 + values.length}\r\n${frame('RPUSH', bytes)}${frame(key, bytes)}${values.map((v) => frame(v, bytes)).join('')}`;
      const framed = new RespEncoder(64).call('PING');
      const isAscii = values === ascii;
      expect(framed.framedCommands(text(false), 1, true)).toBe(isAscii);
      if (!isAscii) {
        expect(framed.count).toBe(1);
        expect(framed.framedCommands(text(true), 1, false)).toBe(true);
      }
      const batch = framed.take();
      expect(batch.commands).toBe(2);
      expect(batch.bytes.equals(one.take().bytes)).toBe(true);
      const { parsed } = await roundTrip(server.port, batch.bytes, 2);
      expect(parsed).toEqual(['PONG', values.length]);
      const stored = await admin.lrangeBuffer(key, 0, -1);
      values.forEach((v, i) => expect(stored[i].equals(Buffer.from(v, 'utf8')), `value ${i}`).toBe(true));
      await admin.del(key);
    }
  });

  it('framedCommands() remembers its script call where it starts, in bytes, for a NOSCRIPT resend', () => {
    const script = new Script('return 1');
    for (const [arg, ascii] of [['plain', true], ['é', false]] as const) {
      const enc = new RespEncoder(64).call('PING');
      const head = `*2\r\n$4\r\nECHO\r\n$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
      const call = `*3\r\n$7\r\nEVALSHA\r\n$40\r\n${script.sha}\r\n$1\r\n0\r\n`;
      expect(enc.framedCommands(head + call, 2, ascii, script, head.length)).toBe(true);
      const b = enc.take();
      expect(b.scripts).toHaveLength(1);
      const s = b.scripts![0];
      expect(s.index).toBe(2);
      expect(b.bytes.subarray(s.start, s.end).toString()).toBe(call);
      expect(s.end).toBe(b.bytes.length);
    }
  });

  it('reuses its memory only once a taken batch was released', () => {
    const enc = new RespEncoder(2048);
    enc.call('PING');
    const first = enc.take();
    const later = ['a', 'b', 'c'].map((x) => enc.call('ECHO', x).take());
    // Still on its way (the socket, a NOSCRIPT resend): nothing else is written there.
    expect(later.map((b) => b.bytes.buffer)).not.toContain(first.bytes.buffer);
    expect(first.bytes.toString()).toBe('*1\r\n$4\r\nPING\r\n');
    expect(later[2].bytes.toString()).toBe('*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n');
    enc.release(first.bytes);
    const next = ['d', 'e'].map((x) => enc.call('ECHO', x).take());
    expect(next.map((b) => b.bytes.buffer)).toContain(first.bytes.buffer);
  });

  it("two batches on the wire at once (a batch's lines, then its index) each keep their bytes; once both are released both memories are reused", () => {
    const enc = new RespEncoder(2048);
    const lines = enc.call('ECHO', 'lines').take();
    const index = enc.call('ECHO', 'index').take();
    expect(index.bytes.buffer).not.toBe(lines.bytes.buffer);
    expect(lines.bytes.toString()).toBe('*2\r\n$4\r\nECHO\r\n$5\r\nlines\r\n');
    enc.release(lines.bytes);
    enc.release(index.bytes);
    const taken = ['a', 'b', 'c'].map((x) => enc.call('ECHO', x).take());
    const reused = taken.map((b) => b.bytes.buffer);
    expect(reused).toContain(lines.bytes.buffer);
    expect(reused).toContain(index.bytes.buffer);
    expect(taken.map((b) => b.bytes.toString())).toEqual(['a', 'b', 'c'].map((x) => `*2\r\n$4\r\nECHO\r\n$1\r\n${x}\r\n`));
  });

  it('after a batch past the size it keeps, takes turns between two buffers of at most that size', () => {
    const enc = new RespEncoder(2048);
    enc.call('SET', 'k', 'x'.repeat(6 << 20)); // grows the buffer past 4 MB (KEEP_MAX)
    const big = enc.take();
    enc.release(big.bytes);
    const seen = new Set<ArrayBufferLike>();
    for (let i = 0; i < 8; i++) {
      const b = enc.call('PING').take();
      expect(b.bytes.toString()).toBe('*1\r\n$4\r\nPING\r\n');
      seen.add(b.bytes.buffer);
      enc.release(b.bytes);
    }
    // Not a fresh buffer as big as the burst's for every small batch (12.5 MB each in a warmed agent).
    expect(seen.size).toBe(2);
    for (const ab of seen) expect(ab.byteLength).toBeLessThanOrEqual(4 << 20);
  });
});

describe('RESP reply parser', () => {
  it('parses real replies of every type the same whole, split at any byte, and byte by byte', async () => {
    const key = `parse:${randomUUID()}`;
    const enc = new RespEncoder();
    enc.call('PING'); // +PONG
    enc.call('SET', key, 'v\r\né'); // +OK
    enc.call('GET', key); // bulk with CRLF and UTF-8 inside
    enc.call('GET', `${key}:none`); // $-1
    enc.call('INCRBY', `${key}:n`, '-42'); // :-42
    enc.call('LPUSH', key, 'x'); // -WRONGTYPE
    enc.call('NOSUCHCOMMAND'); // -ERR unknown command
    enc.call('EVAL', "return {1, {'a', {2, ''}}, {}, redis.status_reply('fine')}", '0'); // nested arrays
    enc.call('BLPOP', `${key}:empty`, '0.01'); // *-1 (null array) after the timeout
    enc.call('SET', `${key}:big`, 'b'.repeat(100_000));
    enc.call('GET', `${key}:big`); // a bulk longer than one socket chunk
    const { raw, parsed } = await roundTrip(server.port, enc.take().bytes, 11);
    await admin.del(key, `${key}:n`, `${key}:big`);
    expect(parsed.slice(0, 5)).toEqual(['PONG', 'OK', 'v\r\né', null, -42]);
    expect(parsed[5]).toBeInstanceOf(RedisReplyError);
    expect((parsed[5] as Error).message).toMatch(/^WRONGTYPE /);
    expect((parsed[6] as Error).message).toMatch(/^ERR unknown command/);
    expect(parsed[7]).toEqual([1, ['a', [2, '']], [], 'fine']);
    expect(parsed[8]).toBeNull();
    expect(parsed[10]).toBe('b'.repeat(100_000));

    const parse = (chunks: Buffer[]): Reply[] => {
      const out: Reply[] = [];
      const p = new RespParser((r) => out.push(r));
      for (const c of chunks) p.feed(c);
      return out;
    };
    // Split anywhere and byte by byte: the replies before the big one (~100 kB).
    const small = raw.subarray(0, raw.indexOf('+OK\r\n$100000'));
    const smallReplies = parse([small]);
    expect(smallReplies).toEqual(parsed.slice(0, 9));
    for (let i = 0; i <= small.length; i++) expect(parse([small.subarray(0, i), small.subarray(i)])).toEqual(smallReplies);
    for (let i = 0; i + 3 <= small.length; i += 3) expect(parse([small.subarray(0, i), small.subarray(i, i + 3), small.subarray(i + 3)])).toEqual(smallReplies);
    expect(parse(Array.from({ length: small.length }, (_, i) => small.subarray(i, i + 1)))).toEqual(smallReplies);
    // The whole answer in chunks of 997 bytes (the big reply across many; an incomplete reply is parsed again from its start).
    const chunks: Buffer[] = [];
    for (let i = 0; i < raw.length; i += 997) chunks.push(raw.subarray(i, i + 997));
    expect(parse(chunks)).toEqual(parsed);
  });
});

describe('redis:// write connection', () => {
  it('loads the index script at connect (SCRIPT LOAD), so no batch starts with a NOSCRIPT round trip; again on a reconnect', async () => {
    const own = await RedisServer.start();
    const probe = new Redis({ host: '127.0.0.1', port: own.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await probe.connect();
    const driver = await driverOn(own.url(0));
    try {
      const sha = TRIM.sha;
      expect(await probe.script('EXISTS', sha)).toEqual([1]);
      // Restarted (scripts gone): the write connection reconnects and loads it again, nothing written meanwhile.
      probe.disconnect();
      await own.stop();
      await own.start();
      const after = new Redis({ host: '127.0.0.1', port: own.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      await after.connect();
      try {
        const deadline = Date.now() + 8000;
        while (((await after.script('EXISTS', sha)) as number[])[0] !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(await after.script('EXISTS', sha)).toEqual([1]);
        expect(await after.dbsize()).toBe(0);
      } finally {
        after.disconnect();
      }
      await writesAgain(driver, own.port);
    } finally {
      probe.disconnect();
      await driver.close();
      await own.close();
    }
  }, 30_000);

  it('NOSCRIPT (SCRIPT FLUSH between two batches): the scripts are loaded again, nothing is written twice', async () => {
    const driver = await driverOn(server.url(0, '?ttl=3600'), { filterErrorTrace: true });
    // Every batch trims (the index's one script), so each meets the flushed script.
    (driver as unknown as { indexWriter: { trimEveryMs: number } }).indexWriter.trimEveryMs = 0;
    /** How many of the index's batches list each id. */
    const indexed = async (ids: string[]): Promise<number[]> => {
      const all = (await admin.mget(...(await admin.keys('osprofiler_idx:i:*')))).flatMap((v) => (v ?? '').split(' '));
      return ids.map((id) => all.filter((x) => x === id).length);
    };
    try {
      const a = [randomUUID(), randomUUID()];
      await driver.notifyLines(agentBatch(a));
      await admin.script('FLUSH');
      const b = [randomUUID(), randomUUID()];
      await driver.notifyLines(agentBatch(b));
      for (const id of [...a, ...b]) expect(await admin.llen(`osprofiler_opt:${id}`)).toBe(2);
      // One point (start + stop) per trace, each counted once.
      expect(await indexed([...a, ...b])).toEqual([1, 1, 1, 1]);

      await admin.script('FLUSH');
      const c = randomUUID();
      const key = `once-${randomUUID()}`;
      expect(await driver.notifyLinesOnce([{ key, batch: agentBatch([c]) }], 60)).toEqual([true]);
      await admin.script('FLUSH');
      expect(await driver.notifyLinesOnce([{ key, batch: agentBatch([c]) }], 60)).toEqual([false]);
      expect(await admin.llen(`osprofiler_opt:${c}`)).toBe(2);
      expect(await indexed([c])).toEqual([1]);
      expect(driver.counters.failed).toBe(0);
    } finally {
      await driver.close();
    }
  });

  it('an error reply fails the batch (counted); the next batch goes through', async () => {
    const driver = await driverOn(server.url(0));
    try {
      const bad = randomUUID();
      await admin.set(`osprofiler_opt:${bad}`, 'not a list');
      const before = driver.counters.failed;
      await expect(driver.notifyLines(agentBatch([bad]))).rejects.toThrow(/WRONGTYPE/);
      expect(driver.counters.failed).toBe(before + 2);
      const good = randomUUID();
      await driver.notifyLines(agentBatch([good]));
      expect(await admin.llen(`osprofiler_opt:${good}`)).toBe(2);
      await admin.del(`osprofiler_opt:${bad}`);
    } finally {
      await driver.close();
    }
  });

  it('SELECT: the db of the connection string is written, no other', async () => {
    const driver = await driverOn(server.url(3));
    const db3 = new Redis({ host: '127.0.0.1', port: server.port, db: 3, lazyConnect: true });
    await db3.connect();
    try {
      const id = randomUUID();
      await driver.notifyLines(agentBatch([id]));
      expect(await db3.llen(`osprofiler_opt:${id}`)).toBe(2);
      expect(await admin.exists(`osprofiler_opt:${id}`)).toBe(0);
      expect((await driver.getReport(id)).children).toHaveLength(1); // the reads' connection too
    } finally {
      await driver.close();
      await db3.quit();
    }
  });
});

describe('redis:// write connection: AUTH', () => {
  const secured = new RedisServer({ args: ['--requirepass', 'pw-default'] });
  beforeAll(async () => {
    await secured.start();
    const a = new Redis({ host: '127.0.0.1', port: secured.port, password: 'pw-default', lazyConnect: true });
    await a.connect();
    await a.call('ACL', 'SETUSER', 'writer', 'on', '>pw-writer', '~*', '+@all');
    await a.quit();
  });
  afterAll(() => secured.close());

  it.each([
    ['a password', (port: number) => `redis://:pw-default@127.0.0.1:${port}/2`],
    ['a user and password', (port: number) => `redis://writer:pw-writer@127.0.0.1:${port}/2`],
  ])('writes with %s (and its db)', async (_what, url) => {
    const driver = await driverOn(url(secured.port));
    try {
      const id = randomUUID();
      await driver.notifyLines(agentBatch([id]));
      const r = new Redis({ host: '127.0.0.1', port: secured.port, password: 'pw-default', db: 2, lazyConnect: true });
      await r.connect();
      expect(await r.llen(`osprofiler_opt:${id}`)).toBe(2);
      await r.quit();
    } finally {
      await driver.close();
    }
  });

  it('a wrong password fails at start-up, naming the host, never the password', async () => {
    const err = await createDriver(`redis://:wrong-pw@127.0.0.1:${secured.port}/0`).catch((e: Error) => e);
    expect((err as { code?: string }).code).toBe('OSP_DRIVER_CONNECT');
    expect((err as Error).message).toContain(`127.0.0.1:${secured.port}/0`);
    expect((err as Error).message).not.toContain('wrong-pw');
  });
});

describe('redis:// write connection: a server down, restarted, stopped', () => {
  it('down: a write fails at once (counted, rejected, not thrown); restarted on the same port: writes succeed again', async () => {
    const own = await RedisServer.start();
    const driver = await driverOn(own.url(0));
    try {
      await driver.notifyLines(agentBatch([randomUUID()]));
      await own.stop('SIGKILL');
      const failedBefore = driver.counters.failed;
      const indexFailures = failureCounts()['drivers.redis.index'] ?? 0;
      const t0 = Date.now();
      let p: Promise<void> | undefined;
      expect(() => (p = driver.notifyLines(agentBatch([randomUUID()])))).not.toThrow();
      await expect(p).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(driver.counters.failed).toBe(failedBefore + 2);
      // The batch's index failed with its lines: the lines' failure is the one counted.
      expect(failureCounts()['drivers.redis.index'] ?? 0).toBe(indexFailures);
      // While it is down: still failing at once, and reconnect attempts are counted.
      await new Promise((r) => setTimeout(r, 700));
      const t1 = Date.now();
      await expect(driver.notifyLines(agentBatch([randomUUID()]))).rejects.toThrow();
      expect(Date.now() - t1).toBeLessThan(1000);
      expect(driver.counters.connectionErrors).toBeGreaterThan(0);

      await own.start();
      await writesAgain(driver, own.port);
    } finally {
      await driver.close();
      await own.close();
    }
  }, 30_000);

  it('command_timeout: a server that stops answering (SIGSTOP) fails the batch in time; after SIGCONT writes succeed', async () => {
    const own = await RedisServer.start();
    const driver = await driverOn(own.url(0, '?command_timeout=500ms'));
    const pid = own.process!.pid!;
    try {
      await driver.notifyLines(agentBatch([randomUUID()]));
      process.kill(pid, 'SIGSTOP');
      const failedBefore = driver.counters.failed;
      const indexFailures = failureCounts()['drivers.redis.index'] ?? 0;
      const t0 = Date.now();
      await expect(driver.notifyLines(agentBatch([randomUUID(), randomUUID()]))).rejects.toThrow(/command_timeout/);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(2000);
      expect(driver.counters.failed).toBe(failedBefore + 4);
      expect(failureCounts()['drivers.redis.index'] ?? 0).toBe(indexFailures);
      process.kill(pid, 'SIGCONT');
      await writesAgain(driver, own.port);
    } finally {
      process.kill(pid, 'SIGCONT');
      await driver.close();
      await own.close();
    }
  }, 30_000);

  it('close() waits for the batches in flight, then ends the connection', async () => {
    const own = await RedisServer.start();
    const driver = await driverOn(own.url(0));
    try {
      const ids = Array.from({ length: 50 }, () => randomUUID());
      const writes = ids.map((id) => driver.notifyLines(agentBatch([id])));
      await driver.close();
      await Promise.all(writes);
      const check = new Redis({ host: '127.0.0.1', port: own.port, lazyConnect: true });
      await check.connect();
      for (const id of ids) expect(await check.llen(`osprofiler_opt:${id}`)).toBe(2);
      // Only the checking client is left connected.
      expect(String(await check.client('LIST')).trim().split('\n')).toHaveLength(1);
      await check.quit();
    } finally {
      await own.close();
    }
  });
});



