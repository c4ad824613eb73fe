/** Options of the outgoing HTTP instrumentation (`instrumentHttpClient`). */
export interface HttpClientOptions {
  /**
   * Record an `rpc` point around each outgoing request made inside a trace (the request
   * then carries that point's headers). Off: the request carries the headers of the
   * current point and no point is recorded. Default: core's `traceRequests`
   * (`OSPROFILER_TRACE_REQUESTS`, default true), read per request.
   */
  traceRequests?: boolean;
  /** Wrap `http.request`/`http.get`/`https.request`/`https.get`. */
  http?: boolean;
  /** Follow global `fetch` (and npm `undici`) through undici's diagnostics channels. */
  fetch?: boolean;
}

export interface ResolvedHttpClientOptions {
  traceRequests: boolean | undefined;
  http: boolean;
  fetch: boolean;
}

export const DEFAULT_OPTIONS: Readonly<ResolvedHttpClientOptions> = Object.freeze({
  traceRequests: undefined,
  http: true,
  fetch: true,
});

export function resolveOptions(options: HttpClientOptions = {}): ResolvedHttpClientOptions {
  return {
    traceRequests: options.traceRequests ?? DEFAULT_OPTIONS.traceRequests,
    http: options.http ?? DEFAULT_OPTIONS.http,
    fetch: options.fetch ?? DEFAULT_OPTIONS.fetch,
  };
}
