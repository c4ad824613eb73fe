/**
 * The only way this page builds DOM: elements by name, text through text nodes. Trace data
 * is untrusted and never becomes markup (no innerHTML anywhere).
 */
type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  title?: string;
  href?: string;
  type?: string;
  value?: string;
  placeholder?: string;
  name?: string;
  checked?: boolean;
  disabled?: boolean;
  data?: Record<string, string>;
  attrs?: Record<string, string>;
  on?: Record<string, (e: Event) => void>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props !== null) apply(el, props);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function apply(el: HTMLElement, p: Props): void {
  if (p.class !== undefined) el.className = p.class;
  if (p.id !== undefined) el.id = p.id;
  if (p.title !== undefined) el.title = p.title;
  if (p.href !== undefined) (el as HTMLAnchorElement).href = p.href;
  if (p.type !== undefined) el.setAttribute('type', p.type);
  if (p.value !== undefined) (el as HTMLInputElement).value = p.value;
  if (p.placeholder !== undefined) (el as HTMLInputElement).placeholder = p.placeholder;
  if (p.name !== undefined) el.setAttribute('name', p.name);
  if (p.checked !== undefined) (el as HTMLInputElement).checked = p.checked;
  if (p.disabled !== undefined) (el as HTMLButtonElement).disabled = p.disabled;
  if (p.data !== undefined) for (const [k, v] of Object.entries(p.data)) el.dataset[k] = v;
  if (p.attrs !== undefined) for (const [k, v] of Object.entries(p.attrs)) el.setAttribute(k, v);
  if (p.on !== undefined) for (const [k, f] of Object.entries(p.on)) el.addEventListener(k, f);
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild !== null) el.removeChild(el.firstChild);
}

/** A stable colour per service name. */
export function serviceColour(service: string | null | undefined): string {
  const name = service ?? '';
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  return `hsl(${((hash % 360) + 360) % 360}, 55%, 55%)`;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(2).replace(/\.?0+$/, '') || '0' : Math.round(ms)} ms`;
}
