/**
 * One trace-point notification, exactly as Python OSProfiler stores it (wire spec §3):
 * keys in this order, `info.host` last inside info, `project`/`service` added at the end.
 */
export interface Notification {
  name: string;
  base_id: string;
  trace_id: string;
  parent_id: string;
  /** UTC, `%Y-%m-%dT%H:%M:%S.%f` with exactly 6 fractional digits, no zone suffix. */
  timestamp: string;
  info: NotificationInfo;
  project: string | null;
  service: string | null;
}

export interface NotificationInfo {
  host: string;
  [key: string]: unknown;
}
