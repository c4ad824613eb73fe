/**
 * `osprofiler trace show --html`: one self-contained file holding the trace page, its
 * script and style inline and the report as JSON data. Trace data is untrusted: it goes
 * into a `<script type="application/json">` with `<`, `>`, `&` and U+2028/2029 escaped, so
 * `</script>` or `<!--` inside the data cannot end the element or start a comment; the
 * page then reads it with JSON.parse and builds every node with DOM APIs (textContent).
 */
import { appFile } from './assets';

/** JSON safe inside an HTML script element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Our own bundle inline: its text never holds `</script` except inside strings, which we break up. */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function renderHtmlReport(report: unknown, options: { title?: string } = {}): string {
  const js = appFile('assets/app.js').toString('utf8');
  const css = appFile('assets/app.css').toString('utf8');
  const title = (options.title ?? 'OSProfiler trace').replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Offline: nothing may be fetched; only the inline script and style run.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:">`,
    `<title>${title}</title>`,
    `<style>${css.replace(/<\/(style)/gi, '<\\/$1')}</style>`,
    '</head><body>',
    '<div id="app"></div>',
    `<script type="application/json" id="osp-report">${scriptSafeJson(report)}</script>`,
    `<script type="module">${inlineScript(js)}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
