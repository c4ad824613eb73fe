/**
 * TCP has no message headers: the signed trace info travels in the packet, as an
 * `osprofiler: {info, hmac}` field next to `pattern`, `data` and `id`.
 *
 * Client: `new ProfilerTcpSerializer()` as the client's `serializer`. It runs when the
 * message is written, inside the `rpc` point the wrapped `send`/`emit` opened, and adds the
 * field only then. Server: `new ProfilerTcpDeserializer()` as the server's `deserializer`.
 * It removes the field (the handler sees the packet it would see untraced) and, when the
 * info verifies, puts the trace into the async context of the message being handled (Nest
 * gives a deserializer no other way to reach the handler); a packet without valid info
 * clears it, so nothing carries over from an earlier message on the same socket.
 */
import { clean, extract, getConfig, init, traceHeaders } from '@osprofiler/core';
import { optionalRequire } from '@osprofiler/core/instrument';
import { contained } from './contained';

export const TCP_FIELD = 'osprofiler';

interface Serializer {
  serialize(value: any, options?: Record<string, any>): any;
}
interface Deserializer {
  deserialize(value: any, options?: Record<string, any>): any;
}

export class ProfilerTcpSerializer implements Serializer {
  constructor(private readonly inner?: Serializer) {}

  serialize(packet: any, options?: Record<string, any>): any {
    const out = this.inner !== undefined ? this.inner.serialize(packet, options) : packet;
    try {
      const h = traceHeaders();
      if (h !== undefined && out !== null && typeof out === 'object' && 'pattern' in out && !('err' in out) && !('response' in out)) {
        return { ...out, [TCP_FIELD]: { info: h['X-Trace-Info'], hmac: h['X-Trace-HMAC'] } };
      }
    } catch (err) {
      contained('tcp.serialize', err);
    }
    return out;
  }
}

/** Nest's own default for servers (maps packets from non-Nest senders), or none when absent. */
function nestDefaultDeserializer(): Deserializer | undefined {
  const m = optionalRequire<{ IncomingRequestDeserializer?: new () => Deserializer }>(
    require,
    '@nestjs/microservices/deserializers/incoming-request.deserializer',
    'nestjs',
  );
  return m?.IncomingRequestDeserializer !== undefined ? new m.IncomingRequestDeserializer() : undefined;
}

export class ProfilerTcpDeserializer implements Deserializer {
  private readonly inner: Deserializer | undefined;

  /** `inner` defaults to Nest's `IncomingRequestDeserializer`, the server's own default. */
  constructor(
    inner?: Deserializer,
    private readonly hmacKeys?: readonly string[],
  ) {
    this.inner = inner ?? nestDefaultDeserializer();
  }

  deserialize(value: any, options?: Record<string, any>): any {
    let packet = value;
    try {
      clean();
      const carried = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[TCP_FIELD] : undefined;
      if (carried !== undefined) {
        const { [TCP_FIELD]: _drop, ...rest } = value as Record<string, unknown>;
        packet = rest;
        const c = carried as { info?: unknown; hmac?: unknown } | null;
        const t = extract({ 'X-Trace-Info': c?.info, 'X-Trace-HMAC': c?.hmac }, this.hmacKeys ?? getConfig().hmacKeys);
        if (t !== undefined) init(t);
      }
    } catch (err) {
      contained('tcp.deserialize', err);
    }
    return this.inner !== undefined ? this.inner.deserialize(packet, options) : packet;
  }
}
