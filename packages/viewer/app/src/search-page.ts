/** The search page: filters, a duration-over-time scatter plot and the results table. */
import { ApiError, search, startedMs, type Summary } from './api';
import { clear, fmtMs, h, s } from './dom';

const FIELDS: { key: string; label: string; placeholder: string }[] = [
  { key: 'service', label: 'Service', placeholder: 'api' },
  { key: 'project', label: 'Project', placeholder: '' },
  { key: 'root', label: 'Root point', placeholder: 'wsgi' },
  { key: 'host', label: 'Host', placeholder: '' },
  { key: 'since', label: 'Since', placeholder: '1h or 2026-01-31T12:00 (UTC)' },
  { key: 'until', label: 'Until', placeholder: '' },
  { key: 'min', label: 'Min duration (ms)', placeholder: '' },
  { key: 'max', label: 'Max duration (ms)', placeholder: '' },
  { key: 'text', label: 'Text (route, SQL, command, error)', placeholder: '/orders' },
];

const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` (that long ago) or an ISO time (UTC without a zone) → epoch ms. */
export function timeArg(v: string, now = Date.now()): number | undefined {
  const t = v.trim();
  if (t === '') return undefined;
  const rel = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(t);
  if (rel !== null) return now - Number(rel[1]) * UNIT[rel[2]];
  const iso = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?$/.test(t) ? t.replace(' ', 'T') + (t.length > 10 ? 'Z' : 'T00:00:00Z') : t;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`"${t}" is not a time: use an age like 15m, 2h, 7d or an ISO time`);
  return ms;
}

export function renderSearch(root: HTMLElement, params: URLSearchParams): void {
  const inputs = new Map<string, HTMLInputElement>();
  const errors = h('input', { type: 'checkbox', name: 'errors', checked: params.get('errors') === '1' });
  const form = h(
    'form',
    { class: 'filters', id: 'search-form' },
    ...FIELDS.map((f) => {
      const input = h('input', { name: f.key, value: params.get(f.key) ?? '', placeholder: f.placeholder });
      inputs.set(f.key, input);
      return h('label', null, h('span', null, f.label), input);
    }),
    h('label', { class: 'check' }, errors, h('span', null, 'Errors only')),
    h('button', { type: 'submit', id: 'search-button' }, 'Search'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, input] of inputs) if (input.value.trim() !== '') q.set(k, input.value.trim());
    if (errors.checked) q.set('errors', '1');
    location.hash = `#/search?${q.toString()}`;
  });
  const status = h('div', { class: 'status', id: 'search-status' });
  const plot = h('div', { class: 'plot', id: 'scatter' });
  const tbody = h('tbody');
  const compareBtn = h('button', { id: 'compare-button', disabled: true }, 'Compare selected');
  const more = h('button', { id: 'more-button', class: 'more' }, 'More');
  more.hidden = true;
  const table = h(
    'table',
    { class: 'results', id: 'results' },
    h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'Started (UTC)'), h('th', null, 'Root'), h('th', null, 'Services'), h('th', null, 'Duration'), h('th', null, 'Points'), h('th', null, 'Error'))),
    tbody,
  );
  clear(root);
  root.append(h('h1', null, 'Traces'), form, status, plot, h('div', { class: 'actions' }, compareBtn), table, more);

  const all: Summary[] = [];
  const chosen: string[] = [];
  compareBtn.addEventListener('click', () => {
    if (chosen.length === 2) location.hash = `#/compare/${encodeURIComponent(chosen[0])}/${encodeURIComponent(chosen[1])}`;
  });

  const q = new URLSearchParams();
  try {
    for (const [k, v] of params) {
      if (k === 'since' || k === 'until') {
        const ms = timeArg(v);
        if (ms !== undefined) q.set(k, String(ms));
      } else q.set(k, v);
    }
  } catch (err) {
    status.className = 'status error';
    status.textContent = (err as Error).message;
    return;
  }
  q.set('limit', '50');

  const load = async (cursor: string | null): Promise<void> => {
    status.className = 'status';
    status.textContent = 'Searching…';
    if (cursor !== null) q.set('cursor', cursor);
    try {
      const page = await search(q);
      all.push(...page.traces);
      for (const t of page.traces) tbody.append(row(t, chosen, compareBtn));
      drawPlot(plot, all);
      more.hidden = page.cursor === null;
      more.onclick = () => void load(page.cursor);
      status.textContent = all.length === 0 ? 'No trace matches.' : `${all.length} trace${all.length === 1 ? '' : 's'}${page.cursor === null ? '' : ' (more available)'}`;
      status.dataset.count = String(all.length);
    } catch (err) {
      status.className = 'status error';
      status.id = 'search-status';
      status.textContent = err instanceof ApiError ? `Search failed: ${err.message}` : String(err);
    }
  };
  void load(null);
}

function row(t: Summary, chosen: string[], compareBtn: HTMLButtonElement): HTMLTableRowElement {
  const pick = h('input', { type: 'checkbox', title: 'select for compare' });
  pick.addEventListener('change', () => {
    const i = chosen.indexOf(t.base_id);
    if (pick.checked && i < 0) chosen.push(t.base_id);
    if (!pick.checked && i >= 0) chosen.splice(i, 1);
    compareBtn.disabled = chosen.length !== 2;
  });
  const root = [t.root_name, t.root_detail].filter((v) => v !== null && v !== undefined && v !== '').join(' ');
  return h(
    'tr',
    { class: t.error === true ? 'err' : '', data: { id: t.base_id } },
    h('td', null, pick),
    h('td', null, h('a', { href: `#/trace/${encodeURIComponent(t.base_id)}`, class: 'trace-link' }, t.started ?? t.timestamp)),
    h('td', { class: 'root' }, root, t.indexed === false ? h('span', { class: 'tag', title: 'found by a scan: no index entry (e.g. stored by Python alone)' }, 'unindexed') : null),
    h('td', null, (t.services ?? []).join(', ')),
    h('td', { class: 'num' }, fmtMs(t.duration_ms)),
    h('td', { class: 'num' }, t.points ?? ''),
    h('td', null, t.error === true ? h('span', { class: 'badge-error' }, 'error') : ''),
  );
}

function drawPlot(el: HTMLElement, traces: Summary[]): void {
  clear(el);
  if (traces.length === 0) return;
  const W = 900;
  const H = 180;
  const P = 36;
  const xs = traces.map(startedMs);
  const ys = traces.map((t) => t.duration_ms ?? 0);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y1 = Math.max(1, ...ys);
  const sx = (v: number) => P + (x1 === x0 ? (W - 2 * P) / 2 : ((v - x0) / (x1 - x0)) * (W - 2 * P));
  const sy = (v: number) => H - P / 2 - (v / y1) * (H - P);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'scatter', role: 'img' });
  svg.append(
    s('line', { x1: P, y1: H - P / 2, x2: W - P / 2, y2: H - P / 2, class: 'axis' }),
    s('line', { x1: P, y1: P / 2, x2: P, y2: H - P / 2, class: 'axis' }),
    s('text', { x: 2, y: P / 2 + 4, class: 'axis-label' }, fmtMs(y1)),
    s('text', { x: 2, y: H - P / 2, class: 'axis-label' }, '0'),
  );
  traces.forEach((t, i) => {
    const dot = s('circle', { cx: sx(xs[i]).toFixed(1), cy: sy(ys[i]).toFixed(1), r: 5, class: t.error === true ? 'dot err' : 'dot', 'data-id': t.base_id });
    dot.append(s('title', {}, `${t.root_name ?? ''} ${t.root_detail ?? ''} — ${fmtMs(t.duration_ms)}${t.error === true ? ' (error)' : ''}`));
    dot.addEventListener('click', () => {
      location.hash = `#/trace/${encodeURIComponent(t.base_id)}`;
    });
    svg.append(dot);
  });
  el.append(svg);
}
