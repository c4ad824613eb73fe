/** Compare two traces: aligned by their tree of point names, with added/missing points and time differences. */
import { clear, fmtMs, h } from './dom';
import { buildTrace, compareTraces, pointLabel, type ReportJson } from './model';

export function renderCompare(root: HTMLElement, a: { id: string; report: ReportJson }, b: { id: string; report: ReportJson }): void {
  const ta = buildTrace(a.report);
  const tb = buildTrace(b.report);
  const rows = compareTraces(ta, tb);
  clear(root);
  const diff = tb.total - ta.total;
  const body = h('tbody');
  for (const r of rows) {
    const da = r.a?.dur ?? null;
    const db = r.b?.dur ?? null;
    const d = da !== null && db !== null ? db - da : null;
    const name = h('td', { class: 'name' }, r.name, ' ', h('span', { class: 'what' }, pointLabel((r.a ?? r.b)!)));
    name.style.paddingLeft = `${r.depth * 14 + 4}px`;
    body.append(
      h(
        'tr',
        { class: `cmp ${r.status}`, data: { status: r.status, name: r.name } },
        name,
        h('td', null, (r.a ?? r.b)!.service ?? ''),
        h('td', { class: 'num' }, da === null ? '—' : fmtMs(da)),
        h('td', { class: 'num' }, db === null ? '—' : fmtMs(db)),
        h('td', { class: `num ${d === null ? '' : d > 0 ? 'slower' : d < 0 ? 'faster' : ''}` }, d === null ? (r.status === 'added' ? 'added' : 'missing') : `${d > 0 ? '+' : ''}${fmtMs(Math.abs(d)) === '' ? '0' : (d < 0 ? '-' : '') + fmtMs(Math.abs(d))}`),
      ),
    );
  }
  const added = rows.filter((r) => r.status === 'added').length;
  const missing = rows.filter((r) => r.status === 'missing').length;
  root.append(
    h('h1', null, 'Compare traces'),
    h(
      'div',
      { class: 'meta' },
      h('span', null, 'A: ', h('a', { href: `#/trace/${encodeURIComponent(a.id)}`, class: 'mono' }, a.id), ` (${fmtMs(ta.total)})`),
      h('span', null, 'B: ', h('a', { href: `#/trace/${encodeURIComponent(b.id)}`, class: 'mono' }, b.id), ` (${fmtMs(tb.total)})`),
      h('span', { id: 'compare-summary' }, `B − A: ${diff >= 0 ? '+' : '-'}${fmtMs(Math.abs(diff)) || '0 ms'}; ${added} added, ${missing} missing`),
      h('a', { class: 'button', href: '#/search' }, 'Search'),
    ),
    h('table', { class: 'compare', id: 'compare' }, h('thead', null, h('tr', null, h('th', null, 'point'), h('th', null, 'service'), h('th', null, 'A'), h('th', null, 'B'), h('th', null, 'B − A'))), body),
  );
}
