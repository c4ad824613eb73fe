/**
 * What the `wsgi` point records (DESIGN.md "Info fields per kind"; wire spec §3) is the
 * kit's HTTP lifecycle: start `request: {path, query, method, scheme}` from the original
 * URL (before any router trimmed it), stop `response: {status_code}` and
 * `request: {route}`, plus `etype`/`message` when an error was forwarded.
 */
export { pythonPath, routeTemplate } from '@osprofiler/core/instrument';
export type { RequestStartInfo } from '@osprofiler/core/instrument';
