/** How the client side attaches: explicit `instrumentHttpClient()` / `uninstrumentHttpClient()`. */
import { installFetch, uninstallFetch } from './fetch-hook';
import { installHttp, uninstallHttp } from './http-hook';
import { resolveOptions, type HttpClientOptions } from './options';
import { state } from './state';

/**
 * Makes outgoing `http`/`https` requests and `fetch` calls made inside a trace carry the
 * signed trace headers, each in an `rpc` point (unless `traceRequests` is off). Outside a
 * trace they are untouched. Idempotent: calling it again only replaces the options.
 */
export function instrumentHttpClient(options?: HttpClientOptions): void {
  const o = resolveOptions(options);
  state.options = o;
  if (o.http) installHttp();
  else uninstallHttp();
  if (o.fetch) installFetch();
  else uninstallFetch();
  state.active = true;
}

/** Removes the wrappers and channel subscribers (a wrapper that was wrapped again by someone else stays, inert). */
export function uninstrumentHttpClient(): void {
  state.active = false;
  uninstallHttp();
  uninstallFetch();
}

/** True while the client instrumentation is active. */
export function isHttpClientInstrumented(): boolean {
  return state.active;
}
