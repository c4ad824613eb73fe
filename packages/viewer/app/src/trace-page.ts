/** The trace page: waterfall, critical path, self time, stats, details, clock notes. */
import { reportPath } from './api';
import { clear, fmtMs, h, serviceColour } from './dom';
import { buildTrace, checkReport, flatten, pointLabel, rpcTarget, type Info, type Point, type ReportJson, type Trace } from './model';

export interface TraceSource {
  /** The trace's base id when known (from the URL or the data). */
  id: string | null;
  /** 'server': read through `osprofiler ui`; 'embedded': the --html file; 'file': a report opened from disk. */
  mode: 'server' | 'embedded' | 'file';
}

const BOLD = new Set(['total', 'wsgi', 'rpc']);

function baseIdOf(report: ReportJson): string | null {
  const first = report.children[0];
  if (first === undefined) return null;
  for (const [k, v] of Object.entries(first.info)) {
    if (k.startsWith('meta.raw_payload.') && v !== null && typeof v === 'object' && typeof (v as Info).base_id === 'string') return (v as Info).base_id as string;
  }
  return null;
}

export function openReportInput(onReport: (r: ReportJson, name: string) => void, onError: (msg: string) => void): HTMLLabelElement {
  const input = h('input', { type: 'file', id: 'open-file', attrs: { accept: '.json,application/json' } });
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f === undefined) return;
    f.text().then(
      (text) => {
        try {
          onReport(checkReport(JSON.parse(text)), f.name);
        } catch (err) {
          onError(`${f.name}: ${(err as Error).message}`);
        }
      },
      (err: unknown) => onError(String(err)),
    );
  });
  return h('label', { class: 'button' }, 'Open report JSON…', input);
}

export function renderTrace(root: HTMLElement, report: ReportJson, source: TraceSource): void {
  const trace = buildTrace(report);
  const id = source.id ?? baseIdOf(report);
  clear(root);
  const details = h('aside', { class: 'details', id: 'details' }, h('p', { class: 'hint' }, 'Click a point to see its details.'));
  const collapsed = new Set<Point>();
  let hideShorter = 0;
  let selected: HTMLElement | null = null;

  // Rows are made when first shown and only the ones in view are in the DOM (a long
  // trace has tens of thousands of points): the waterfall is a tall spacer with the
  // visible slice positioned on it.
  const ROW_H = 22;
  const rows: (HTMLElement | undefined)[] = new Array(trace.points.length);
  const toggles: (HTMLElement | undefined)[] = new Array(trace.points.length);
  let visible: Point[] = [];
  const position = new Int32Array(trace.points.length).fill(-1);
  const scale = (v: number) => (trace.total <= 0 ? 0 : (v / trace.total) * 100);
  const spacer = h('div', { class: 'spacer' });
  const waterfall = h('div', { class: 'waterfall', id: 'waterfall' }, spacer);
  const scrollTo = (p: Point) => {
    const i = position[p.index];
    if (i >= 0) waterfall.scrollTop = Math.max(0, i * ROW_H - (waterfall.clientHeight || 600) / 2);
    paint();
  };
  const select = (p: Point) => {
    selected?.classList.remove('selected');
    selected = rowFor(p);
    selected.classList.add('selected');
    showDetails(details, p, trace, (target) => {
      // Reveal the target (its ancestors may be collapsed) and select it.
      for (let a = target.parent; a !== null; a = a.parent) collapsed.delete(a);
      refresh();
      scrollTo(target);
      select(target);
    });
  };

  const rowFor = (p: Point): HTMLElement => {
    const made = rows[p.index];
    if (made !== undefined) return made;
    const toggle = p.children.length > 0 ? h('button', { class: 'toggle', title: 'collapse / expand', attrs: { 'aria-expanded': 'true' } }, '▾') : h('span', { class: 'toggle-space' });
    if (p.children.length > 0) {
      toggles[p.index] = toggle;
      toggle.addEventListener('click', (e) => {
        e.stopPropagation();
        if (collapsed.has(p)) collapsed.delete(p);
        else collapsed.add(p);
        refresh();
      });
    }
    const bar = h('div', { class: `bar${p.critical ? ' critical' : ''}${p.error !== null ? ' error' : ''}`, title: `${p.name} ${fmtMs(p.dur)} (self ${fmtMs(p.self)})` });
    bar.style.left = `${scale(p.start)}%`;
    bar.style.width = `${Math.max(scale(p.dur), 0.15)}%`;
    bar.style.backgroundColor = serviceColour(p.service);
    const label = h(
      'div',
      { class: 'label' },
      toggle,
      h('span', { class: BOLD.has(p.name) ? 'name bold' : 'name' }, p.name),
      h('span', { class: 'svc' }, p.service ?? ''),
      h('span', { class: 'what' }, pointLabel(p)),
      p.error !== null ? h('span', { class: 'badge-error' }, p.error) : null,
      p.skewed ? h('span', { class: 'tag', title: 'starts before or ends after its parent: the hosts\' clocks differ' }, 'clock') : null,
    );
    label.style.paddingLeft = `${p.depth * 14 + 4}px`;
    const row = h('div', { class: 'row', data: { index: String(p.index), name: p.name, id: p.id } }, label, h('div', { class: 'track' }, bar), h('div', { class: 'dur' }, fmtMs(p.dur)));
    row.addEventListener('click', () => select(p));
    rows[p.index] = row;
    return row;
  };

  // Only rows that enter or leave the window are touched: removing and re-adding all
  // ~100 painted rows on every scroll frame restyled them all (longest scroll task
  // 124 ms on a 10,000-point trace). One paint per frame, however many scroll events.
  let painted = new Set<HTMLElement>();
  let frame = 0;
  const paint = () => {
    frame = 0;
    const height = waterfall.clientHeight || 600;
    const first = Math.max(0, Math.floor(waterfall.scrollTop / ROW_H) - 30);
    const last = Math.min(visible.length, first + Math.ceil(height / ROW_H) + 60);
    const now = new Set<HTMLElement>();
    const added: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const p = visible[i];
      const r = rowFor(p);
      const top = `${i * ROW_H}px`;
      if (r.style.top !== top) r.style.top = top;
      const t = toggles[p.index];
      if (t !== undefined) {
        const mark = collapsed.has(p) ? '▸' : '▾';
        if (t.textContent !== mark) {
          t.textContent = mark;
          t.setAttribute('aria-expanded', collapsed.has(p) ? 'false' : 'true');
        }
      }
      now.add(r);
      if (!painted.has(r)) added.push(r);
    }
    for (const r of painted) if (!now.has(r)) r.remove();
    painted = now;
    if (added.length > 0) spacer.append(...added);
  };
  waterfall.addEventListener(
    'scroll',
    () => {
      if (frame === 0) frame = requestAnimationFrame(paint);
    },
    { passive: true },
  );

  const refresh = () => {
    // Points are in tree order: a point is hidden when its parent is hidden or collapsed.
    const hidden = new Uint8Array(trace.points.length);
    visible = [];
    position.fill(-1);
    for (const p of trace.points) {
      const par = p.parent;
      const h0 = par !== null && (hidden[par.index] === 1 || collapsed.has(par));
      hidden[p.index] = h0 || (hideShorter > 0 && p.dur < hideShorter) ? 1 : 0;
      if (hidden[p.index] === 0) {
        position[p.index] = visible.length;
        visible.push(p);
      }
    }
    spacer.style.height = `${visible.length * ROW_H}px`;
    counter.textContent = `${visible.length} of ${trace.points.length} points shown`;
    paint();
  };

  const counter = h('span', { class: 'counter', id: 'shown-count' });
  const shortInput = h('input', { type: 'number', id: 'hide-short', value: '', placeholder: '0', attrs: { min: '0', step: '1' } });
  shortInput.addEventListener('input', () => {
    hideShorter = Number(shortInput.value) || 0;
    refresh();
  });
  const expandAll = h('button', { id: 'expand-all' }, 'Expand all');
  expandAll.addEventListener('click', () => {
    collapsed.clear();
    refresh();
  });
  const collapseAll = h('button', { id: 'collapse-all' }, 'Collapse all');
  collapseAll.addEventListener('click', () => {
    for (const p of trace.points) if (p.children.length > 0) collapsed.add(p);
    refresh();
  });

  // Served: the page holds only the compact form, so the server sends the full report.
  const download = h('a', { class: 'button', id: 'download', href: source.mode === 'server' && id !== null ? `${reportPath(id)}?download=1` : '#' }, 'Download report JSON');
  if (source.mode === 'server' && id !== null) download.download = `trace-${id}.json`;
  else download.addEventListener('click', (e) => {
    e.preventDefault();
    const blob = new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob) });
    a.download = `trace-${id ?? 'report'}.json`;
    document.body.append(a);
    a.click();
    a.remove();
  });
  const header = h(
    'header',
    { class: 'trace-head' },
    h('h1', null, 'Trace ', h('span', { class: 'mono', id: 'trace-id' }, id ?? '(from file)')),
    h(
      'div',
      { class: 'meta' },
      h('span', null, `Duration ${fmtMs(trace.total)}`),
      h('span', null, `${trace.points.length} points`),
      h('span', null, `Services: ${trace.stats.byService.map((r) => r.key).join(', ')}`),
      h('span', null, `Hosts: ${trace.hosts.join(', ')}`),
    ),
    h(
      'div',
      { class: 'actions' },
      source.mode === 'server' ? h('a', { class: 'button', href: '#/search' }, 'Search') : null,
      source.mode === 'server' && id !== null ? h('a', { class: 'button', id: 'permalink', href: `#/trace/${encodeURIComponent(id)}` }, 'Permalink') : null,
      download,
      openReportInput(
        (r) => renderTrace(root, r, { id: null, mode: 'file' }),
        (msg) => {
          const box = h('div', { class: 'status error' }, msg);
          header.append(box);
        },
      ),
      source.mode === 'server' && id !== null ? compareForm(id) : null,
    ),
  );
  const notes = h('div', { class: 'notes' });
  if (trace.skewed.length > 0) {
    notes.append(
      h('div', { class: 'note clock', id: 'clock-note' }, `Clocks differ: ${trace.skewed.length} point${trace.skewed.length === 1 ? '' : 's'} start before or end after ${trace.skewed.length === 1 ? 'its' : 'their'} parent. Points from different hosts keep their own clocks (hosts: ${trace.hosts.join(', ')}).`),
    );
  }
  const controls = h(
    'div',
    { class: 'controls' },
    expandAll,
    collapseAll,
    h('label', null, 'Hide points shorter than ', shortInput, ' ms'),
    counter,
    h('span', { class: 'legend' }, h('span', { class: 'legend-critical' }, ''), ' critical path'),
  );
  const minimap = trace.points.length > 50 ? drawMinimap(trace, (i) => scrollTo(trace.points[i])) : null;
  root.append(header, notes, controls, ...(minimap === null ? [] : [minimap]), h('div', { class: 'main' }, waterfall, details), statsTables(trace));
  refresh();
}

function compareForm(id: string): HTMLFormElement {
  const other = h('input', { name: 'other', id: 'compare-with', placeholder: 'other trace id' });
  const form = h('form', { class: 'inline' }, other, h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (other.value.trim() !== '') location.hash = `#/compare/${encodeURIComponent(id)}/${encodeURIComponent(other.value.trim())}`;
  });
  return form;
}

function drawMinimap(trace: Trace, jump: (index: number) => void): HTMLElement {
  const canvas = h('canvas', { class: 'minimap', id: 'minimap', title: 'overview: click to jump' });
  canvas.width = 900;
  canvas.height = 60;
  const ctx = canvas.getContext('2d');
  if (ctx !== null && trace.total > 0) {
    // One path per colour, filled once: setting fillStyle per point made the canvas parse
    // a colour string 10,000 times on a long trace.
    const n = trace.points.length;
    const byColour = new Map<string, Point[]>();
    for (const p of trace.points) {
      const c = p.critical ? '#c0392b' : serviceColour(p.service);
      const list = byColour.get(c);
      if (list === undefined) byColour.set(c, [p]);
      else list.push(p);
    }
    const critical = byColour.get('#c0392b');
    if (critical !== undefined) {
      // Drawn last: the critical path stays on top.
      byColour.delete('#c0392b');
      byColour.set('#c0392b', critical);
    }
    for (const [colour, list] of byColour) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const p of list) ctx.rect((p.start / trace.total) * 900, (p.index / n) * 60, Math.max(1, (p.dur / trace.total) * 900), Math.max(1, 60 / n));
      ctx.fill();
    }
  }
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor(((e.clientY - r.top) / r.height) * trace.points.length);
    jump(Math.min(trace.points.length - 1, Math.max(0, i)));
  });
  return canvas;
}

function kv(rows: [string, string][]): HTMLTableElement {
  return h('table', { class: 'kv' }, ...rows.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v))));
}

function isObj(v: unknown): v is Info {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function showDetails(el: HTMLElement, p: Point, trace: Trace, goTo: (p: Point) => void): void {
  clear(el);
  const s = p.startInfo;
  const e = p.stopInfo;
  const parts: (HTMLElement | null)[] = [];
  parts.push(h('h2', null, p.name, ' ', h('span', { class: 'svc' }, p.service ?? '')));
  parts.push(
    kv([
      ['service', p.service ?? ''],
      ['project', p.project ?? ''],
      ['host', p.host],
      ['starts at', `+${fmtMs(p.start)}`],
      ['duration', fmtMs(p.dur)],
      ['self time', fmtMs(p.self)],
      ['critical path', p.critical ? 'yes' : 'no'],
    ]),
  );
  const req = isObj(s.request) ? s.request : null;
  if (req !== null) {
    const route = isObj(e.request) ? e.request.route : undefined;
    const resp = isObj(e.response) ? e.response : null;
    parts.push(h('h3', null, 'Request'));
    const rows: [string, string][] = [];
    for (const k of ['method', 'scheme', 'path', 'query', 'url', 'host', 'port']) if (req[k] !== undefined) rows.push([k, String(req[k])]);
    if (route !== undefined) rows.push(['route', String(route)]);
    if (resp !== null && resp.status_code !== undefined) rows.push(['status', String(resp.status_code)]);
    parts.push(kv(rows));
  }
  const db = isObj(s.db) ? s.db : null;
  if (db !== null) {
    parts.push(h('h3', null, 'Database'));
    if (typeof db.statement === 'string') parts.push(h('pre', { class: 'sql', id: 'sql-statement' }, db.statement));
    const rows: [string, string][] = [];
    for (const [k, v] of Object.entries(db)) if (k !== 'statement') rows.push([k === 'pool_wait_ms' ? 'pool wait (ms)' : k, typeof v === 'string' ? v : JSON.stringify(v)]);
    const dbStop = isObj(e.db) ? e.db : null;
    if (dbStop !== null) for (const [k, v] of Object.entries(dbStop)) rows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
    parts.push(kv(rows));
  }
  const ex = isObj(s.exec) ? s.exec : null;
  if (ex !== null) {
    const stop = isObj(e.exec) ? e.exec : {};
    parts.push(h('h3', null, 'Command'));
    parts.push(kv([...Object.entries(ex), ...Object.entries(stop)].map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
  }
  const th = isObj(s.thread) ? s.thread : null;
  if (th !== null) {
    const stop = isObj(e.thread) ? e.thread : {};
    parts.push(h('h3', null, 'Thread'));
    parts.push(kv([...Object.entries(th), ...Object.entries(stop)].map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
  }
  if (p.error !== null) {
    parts.push(h('h3', null, 'Error'));
    parts.push(h('div', { class: 'error-box', id: 'error-detail' }, `${p.error}: ${typeof e.message === 'string' ? e.message : ''}`));
  }
  const target = rpcTarget(p);
  if (target !== undefined) {
    const b = h('button', { class: 'link', id: 'rpc-link' }, `→ ${target.name} in ${target.service ?? '?'}: ${pointLabel(target)}`);
    b.addEventListener('click', () => goTo(target));
    parts.push(h('h3', null, 'Started in the other service'), b);
  }
  parts.push(h('h3', null, 'Start info'), kv(flatten(s)));
  if (Object.keys(e).length > 0) parts.push(h('h3', null, 'Stop info'), kv(flatten(e)));
  parts.push(h('h3', null, 'Ids'), kv([['trace_id', p.id], ['parent_id', p.parentId]]));
  void trace;
  for (const x of parts) if (x !== null) el.append(x);
}

function statsTables(trace: Trace): HTMLElement {
  const table = (title: string, rows: { key: string; count: number; total: number; self: number }[], id: string) =>
    h(
      'table',
      { class: 'stats', id },
      h('caption', null, title),
      h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'count'), h('th', null, 'total'), h('th', null, 'self'))),
      h('tbody', null, ...rows.map((r) => h('tr', null, h('td', null, r.key), h('td', { class: 'num' }, r.count), h('td', { class: 'num' }, fmtMs(r.total)), h('td', { class: 'num' }, fmtMs(r.self))))),
    );
  return h('section', { class: 'stats-wrap' }, table('By kind', trace.stats.byName, 'stats-kind'), table('By service', trace.stats.byService, 'stats-service'));
}
