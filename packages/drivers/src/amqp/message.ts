/**
 * One notification as oslo.messaging's notifier sends it with driver "messaging"
 * (message format v1.0: the bare dict, no `oslo.message` envelope), wire spec §6.
 * Key order and JSON formatting are Python's (kombu's json.dumps).
 */
import { randomUUID } from 'node:crypto';
import { pyDumps } from '@osprofiler/core';
import { formatTimestamp } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';

/** Python's `str(datetime.utcnow())`: a space separator, and no fraction when it is 0. */
export function pythonStrUtcNow(ms: number = Date.now()): string {
  const t = formatTimestamp(ms).replace('T', ' ');
  return t.endsWith('.000000') ? t.slice(0, -7) : t;
}

export interface MessageOptions {
  publisherId: string;
  /** Milliseconds since 1970 for the outer `timestamp`. */
  nowMs?: number;
}

/** The message dict (before JSON). */
export function notificationMessage(n: Notification, options: MessageOptions): Record<string, unknown> {
  return {
    message_id: randomUUID(),
    publisher_id: options.publisherId,
    // Python: "profiler.%s" % info["service"], so a null service gives "profiler.None".
    event_type: `profiler.${n.service === null || n.service === undefined ? 'None' : String(n.service)}`,
    priority: 'INFO',
    payload: n,
    timestamp: pythonStrUtcNow(options.nowMs),
    _unique_id: randomUUID().replace(/-/g, ''),
  };
}

/** The AMQP body: `json.dumps` of the message dict. */
export function notificationBody(n: Notification, options: MessageOptions): Buffer {
  return Buffer.from(pyDumps(notificationMessage(n, options)), 'utf8');
}

/** The properties kombu gives the message. */
export const MESSAGE_PROPERTIES = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  deliveryMode: 2,
  priority: 0,
  headers: {},
} as const;
