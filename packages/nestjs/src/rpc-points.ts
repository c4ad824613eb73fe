/**
 * What the microservice `rpc` points record (DESIGN.md: `rpc` = a Nest microservice message,
 * client and handler): start `function: {name: 'nest <transport> <pattern>'}` and
 * `message: {transport, pattern}`; the handler's point adds `nest: {controller, handler}`.
 */
import { contained } from './contained';

/** The transport a client or server context belongs to, from its class name (`ClientNats` → `nats`). */
const TRANSPORTS: Record<string, string> = {
  ClientNats: 'nats',
  ClientRMQ: 'rmq',
  ClientTCP: 'tcp',
  ClientRedis: 'redis',
  ClientMqtt: 'mqtt',
  ClientKafka: 'kafka',
  ClientGrpcProxy: 'grpc',
  NatsContext: 'nats',
  RmqContext: 'rmq',
  TcpContext: 'tcp',
  RedisContext: 'redis',
  MqttContext: 'mqtt',
  KafkaContext: 'kafka',
};

export function transportOf(obj: unknown): string {
  for (let p = obj === null || obj === undefined ? null : (Object.getPrototypeOf(obj) as object | null); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name !== undefined && TRANSPORTS[name] !== undefined) return TRANSPORTS[name];
  }
  return 'custom';
}

export function patternString(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  try {
    return JSON.stringify(pattern) ?? String(pattern);
  } catch (err) {
    contained('rpc.pattern', err); // circular or BigInt: recorded as String() gives it
    return String(pattern);
  }
}

export function rpcInfo(transport: string, pattern: string): { function: { name: string }; message: { transport: string; pattern: string } } {
  return { function: { name: `nest ${transport} ${pattern}` }, message: { transport, pattern } };
}
