// Frame parsing (split and joined chunks, large frames, bad lengths) and agent:// URLs.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { clientOptionsFromUrl, DEFAULT_CLIENT_OPTIONS } from '@osprofiler/agent';
import { FrameReader, allocBatchFrame, encodeAck, encodeBatch, encodeFrame } from '../src/protocol';

describe('FrameReader', () => {
  it('splits a stream cut at every byte boundary into the frames sent', () => {
    const frames = [encodeFrame(1, '{"v":1}'), encodeBatch(randomBytes(16), 7, 2, '[{},{}]'), encodeAck(7), encodeFrame(9, Buffer.alloc(0))];
    const stream = Buffer.concat(frames);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new FrameReader(1024);
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map((f) => f.type)).toEqual([1, 3, 4, 9]);
      expect(got[1].payload.readUInt32BE(16)).toBe(7);
      expect(got[1].payload.subarray(24).toString()).toBe('[{},{}]');
      expect(r.pendingBytes).toBe(0);
    }
  });

  it('writes a BATCH header as writeUInt32BE and copy would', () => {
    const id = randomBytes(16);
    for (const [seq, count, body] of [[1, 2, 3], [0xfffffffe, 0x80000005, 0], [0x01020304, 255, 70000]]) {
      const f = allocBatchFrame(id, seq, count, body);
      const want = Buffer.alloc(29);
      want.writeUInt32BE(25 + body, 0);
      want[4] = 3;
      id.copy(want, 5);
      want.writeUInt32BE(seq, 21);
      want.writeUInt32BE(count, 25);
      expect(f.length).toBe(29 + body);
      expect(f.subarray(0, 29).equals(want)).toBe(true);
    }
  });

  it('joins a large frame sent in many small chunks once it is complete', () => {
    const body = randomBytes(3 * 1024 * 1024);
    const stream = Buffer.concat([encodeFrame(3, body), encodeAck(1)]);
    const r = new FrameReader(8 * 1024 * 1024);
    const got = [];
    for (let off = 0; off < stream.length; off += 65536) got.push(...r.push(stream.subarray(off, off + 65536)));
    expect(got).toHaveLength(2);
    expect(Buffer.compare(got[0].payload, body)).toBe(0);
    expect(got[1].type).toBe(4);
  });

  it('fails for good on an oversized or empty length prefix', () => {
    const r = new FrameReader(100);
    const big = Buffer.alloc(5);
    big.writeUInt32BE(1000, 0);
    expect(r.push(Buffer.concat([encodeAck(1), big]))).toHaveLength(1);
    expect(r.failure).toMatch(/1000 bytes exceeds the maximum of 100/);
    expect(r.push(encodeAck(2))).toEqual([]);
    const e = new FrameReader(100);
    e.push(Buffer.alloc(4));
    expect(e.failure).toBe('empty frame');
  });
});

describe('agent:// URLs', () => {
  it('takes the socket path and options', () => {
    const o = clientOptionsFromUrl(new URL('agent:///run/x/agent.sock?max_points=5&exit_hooks=0'));
    expect(o).toEqual({ ...DEFAULT_CLIENT_OPTIONS, socketPath: '/run/x/agent.sock', maxPoints: 5, exitHooks: false });
    expect(clientOptionsFromUrl(new URL('agent://')).socketPath).toBe('/run/osprofiler/agent.sock');
  });

  it('refuses a host, unknown options and bad numbers, with a code', () => {
    expect(() => clientOptionsFromUrl(new URL('agent://run/agent.sock'))).toThrow(/three slashes/);
    expect(() => clientOptionsFromUrl(new URL('agent:///s?max_pointz=1'))).toThrow(/unknown option "max_pointz"/);
    expect(() => clientOptionsFromUrl(new URL('agent:///s?max_points=-1'))).toThrow(/must be a positive integer/);
    try {
      clientOptionsFromUrl(new URL('agent:///s?x=1'));
    } catch (err) {
      expect((err as { code: string }).code).toBe('OSP_AGENT_BAD_URL');
    }
  });
});
