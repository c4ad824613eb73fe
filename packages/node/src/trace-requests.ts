import { getConfig } from '@osprofiler/core';
import { contained } from './contained';
import { state } from './state';

/** The option if given, else core's `traceRequests` (read per traced request, so `configure()` later still counts). */
export function traceRequestsOn(): boolean {
  const o = state.options.traceRequests;
  if (o !== undefined) return o;
  try {
    return getConfig().traceRequests;
  } catch (err) {
    contained('config', err);
    return true;
  }
}
