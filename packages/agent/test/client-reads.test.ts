// The agent:// client reading the agent's replies however the socket cuts them: whole ACK
// frames (handled in place), frames split across reads, a WELCOME cut at every byte.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LineBatch } from '@osprofiler/core/instrument';
import { AgentClientDriver, DEFAULT_CLIENT_OPTIONS } from '@osprofiler/agent';
import { FrameReader, FrameType, encodeAck, encodeFrame } from '../src/protocol';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake agent: WELCOME written in `welcomeCuts` pieces; the ACKs of each `batches` BATCH frames written as `ackCuts` pieces. */
function fakeAgent(socketPath: string, batches: number, welcomeCuts: number[], ackCuts: number[]): Promise<net.Server> {
  const writeCut = async (c: net.Socket, bytes: Buffer, cuts: number[]) => {
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      if (to > from) c.write(bytes.subarray(from, to));
      from = to;
      await sleep(5); // separate reads
    }
  };
  const server = net.createServer((c) => {
    const reader = new FrameReader(1 << 20);
    const seqs: number[] = [];
    c.on('data', (d) => {
      for (const f of reader.push(d)) {
        if (f.type === FrameType.HELLO) void writeCut(c, encodeFrame(FrameType.WELCOME, JSON.stringify({ v: 1, maxFrameBytes: 1 << 20, pid: 1 })), welcomeCuts);
        else if (f.type === FrameType.BATCH && seqs.push(f.payload.readUInt32BE(16)) === batches) void writeCut(c, Buffer.concat(seqs.map(encodeAck)), ackCuts);
      }
    });
    c.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

function batch(k: number): LineBatch {
  return { baseIds: [`b${k}`], lines: [`line ${k}`], errors: null, timestamps: ['2026-01-01T00:00:00.000000'] } as unknown as LineBatch;
}

let dir: string | undefined;
let server: net.Server | undefined;
let client: AgentClientDriver | undefined;
afterEach(async () => {
  await client?.close(100);
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = server = client = undefined;
});

describe('agent:// client reads', () => {
  const cases: [string, number[], number[]][] = [
    ['whole ACKs, two in a read', [], [18, 27, 45]],
    ['ACKs cut inside and across frames', [], [1, 9, 22, 40, 41, 53]],
    ['ACKs cut at every byte', [], Array.from({ length: 53 }, (_, i) => i + 1)],
    ['a WELCOME cut at every byte', Array.from({ length: 60 }, (_, i) => i + 1), [9, 13, 54]],
  ];
  for (const [name, welcomeCuts, ackCuts] of cases) {
    it(`acknowledges every batch: ${name}`, async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-agent-reads-'));
      const socketPath = path.join(dir, 'a.sock');
      server = await fakeAgent(socketPath, 6, welcomeCuts, ackCuts);
      client = new AgentClientDriver({ ...DEFAULT_CLIENT_OPTIONS, socketPath, exitHooks: false });
      for (let w = 0; w < 200 && !client.connected; w++) await sleep(10);
      expect(client.connected).toBe(true);
      for (let k = 0; k < 6; k++) client.notifyLines(batch(k));
      await client.flush(3000);
      expect(client.counters).toMatchObject({ received: 6, acknowledged: 6, dropped: 0, connects: 1 });
      expect(client.pending).toBe(0);
    });
  }
});
