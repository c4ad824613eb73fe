// The variables and codes outside the typed option objects (config-reference.mjs renders
// them; the docs test fails when source code reads an OSPROFILER_* name listed nowhere).
export const EXTRA_VARIABLES = [
  { name: 'OSPROFILER_STATE_DIR', readBy: 'core (`file://`), cli', what: 'Directory of the default `file://` store; else `$XDG_STATE_HOME/osprofiler`, else `~/.local/state/osprofiler`.' },
  { name: 'OSPROFILER_DEBUG', readBy: 'core', what: '`1` prints the profiler\'s debug log (the same as `NODE_DEBUG=osprofiler`).' },
  { name: 'OSPROFILER_TRACE_CONTEXT', readBy: '@osprofiler/node', what: 'Set by a traced parent for its child process: the signed trace context the child continues. Not for users to set.' },
];

export const WARNING_CODES = [
  { code: 'OSPROFILER_DISABLED', when: '`hmacKeys` are set, or an HTTP adapter is set up, while `enabled` is off: no incoming request is traced.' },
  { code: 'OSPROFILER_NO_KEYS', when: 'tracing is on with neither `hmacKeys` nor `sampling`: no incoming request can start a trace.' },
  { code: 'OSPROFILER_AUTO', when: 'a note from `@osprofiler/auto`: an adapter it could not set up or skipped (also listed by `autoStatus()`).' },
  { code: 'OSPROFILER_CONTAINED_FAILURE', when: 'a profiler failure was contained (the first of each place; later ones are only counted, see `failureCounts()`).' },
  { code: 'OSPROFILER_ERR_CONFIG', when: 'the `code` of `ConfigError`, thrown at start-up for a bad option.' },
];

/** Python OSProfiler's `[profiler]` option for each core field that has one (the core section's last column). */
export const PYTHON_NAMES = {
  enabled: '`enabled`',
  hmacKeys: '`hmac_keys`',
  connectionString: '`connection_string`',
  traceDb: '`trace_sqlalchemy`',
  traceRequests: '`trace_requests` (Python defaults to false)',
  filterErrorTrace: '`filter_error_trace`',
  project: '(driver argument)',
  service: '(driver argument)',
  host: '(driver argument)',
};
