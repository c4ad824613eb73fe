/** Report JSON, the same shape Python OSProfiler's `trace show --json` prints (wire spec §5). */
export interface ReportNodeInfo {
  name: string;
  project: string | null;
  service: string | null;
  host: string;
  started: number;
  finished: number;
  /** Present once a stop event was seen: the stop's `info.etype`, or the string "None". */
  exception?: string;
  [metaKey: string]: unknown;
}

export interface ReportNode {
  info: ReportNodeInfo;
  trace_id: string;
  parent_id: string;
  children: ReportNode[];
}

export interface ReportStats {
  [pointName: string]: { count: number; duration: number };
}

export interface Report {
  info: {
    name: 'total';
    started: 0;
    finished: number | null;
    last_trace_started: number | null;
    [key: string]: unknown;
  };
  children: ReportNode[];
  stats: ReportStats;
}
