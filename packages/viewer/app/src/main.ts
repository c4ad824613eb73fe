/** Entry: the --html file renders its embedded report; `osprofiler ui` routes by the URL hash. */
import './style.css';
import { ApiError, report as fetchReport } from './api';
import { renderCompare } from './compare-page';
import { clear, h } from './dom';
import { checkReport } from './model';
import { renderSearch } from './search-page';
import { openReportInput, renderTrace } from './trace-page';

const app = document.getElementById('app')!;

function problem(kind: 'not-found' | 'error', title: string, text: string): void {
  clear(app);
  app.append(
    h(
      'div',
      { class: `problem ${kind}`, id: kind === 'not-found' ? 'not-found' : 'error-page' },
      h('h1', null, title),
      h('p', null, text),
      h('p', null, h('a', { class: 'button', href: '#/search' }, 'Back to search')),
    ),
  );
}

function failed(err: unknown, what: string): void {
  if (err instanceof ApiError && err.status === 404) problem('not-found', 'Trace not found', `${what}: ${err.message}. It may have expired, or was stored elsewhere.`);
  else problem('error', 'The store could not be read', `${what}: ${err instanceof Error ? err.message : String(err)}`);
}

async function route(): Promise<void> {
  const hash = location.hash.replace(/^#/, '');
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] === 'trace' && parts[1] !== undefined) {
    clear(app);
    app.append(h('div', { class: 'status' }, 'Loading trace…'));
    try {
      renderTrace(app, await fetchReport(parts[1]), { id: parts[1], mode: 'server' });
    } catch (err) {
      failed(err, `trace ${parts[1]}`);
    }
    return;
  }
  if (parts[0] === 'compare' && parts[1] !== undefined && parts[2] !== undefined) {
    try {
      const [a, b] = await Promise.all([fetchReport(parts[1]), fetchReport(parts[2])]);
      renderCompare(app, { id: parts[1], report: a }, { id: parts[2], report: b });
    } catch (err) {
      failed(err, 'compare');
    }
    return;
  }
  if (parts[0] === 'open') {
    clear(app);
    app.append(
      h('h1', null, 'Open a saved report'),
      h('p', null, 'A report JSON saved by `osprofiler trace show --json` (Node or Python) or by this page.'),
      openReportInput(
        (r) => renderTrace(app, r, { id: null, mode: 'file' }),
        (msg) => problem('error', 'Not a report', msg),
      ),
    );
    return;
  }
  renderSearch(app, new URLSearchParams(query));
}

const embedded = document.getElementById('osp-report');
if (embedded !== null) {
  // The --html file: the report is data in a JSON script element, parsed, never evaluated.
  try {
    renderTrace(app, checkReport(JSON.parse(embedded.textContent ?? '')), { id: null, mode: 'embedded' });
  } catch (err) {
    problem('error', 'This report cannot be shown', (err as Error).message);
  }
} else {
  window.addEventListener('hashchange', () => void route());
  void route();
}
