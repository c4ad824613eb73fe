/**
 * Supported version ranges, in the subset of npm's range syntax adapters need:
 * comparator sets joined by `||`, each of space-separated `>=1.2.3`, `<6`, `^11`, `~4.17`,
 * `=4.0.0` or a bare version; `*` or '' matches anything. Prerelease tags are ignored.
 */
type Triple = [number, number, number];

function parse(v: string): { t: Triple; parts: number } | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:[-+].*)?$/.exec(v.trim());
  if (m === null) return undefined;
  const num = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? undefined : Number(s));
  const a = Number(m[1]);
  const b = num(m[2]);
  const c = num(m[3]);
  return { t: [a, b ?? 0, c ?? 0], parts: b === undefined ? 1 : c === undefined ? 2 : 3 };
}

function cmp(x: Triple, y: Triple): number {
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

function bump(t: Triple, at: number): Triple {
  return at === 0 ? [t[0] + 1, 0, 0] : at === 1 ? [t[0], t[1] + 1, 0] : [t[0], t[1], t[2] + 1];
}

function test(v: Triple, comparator: string): boolean {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(comparator);
  if (m === null) return false;
  const p = parse(m[2]);
  if (p === undefined) return false;
  const op = m[1] ?? '';
  switch (op) {
    case '>=': return cmp(v, p.t) >= 0;
    case '>': return cmp(v, p.t) > 0;
    case '<=': return cmp(v, p.t) <= 0;
    case '<': return cmp(v, p.t) < 0;
    case '^': {
      const at = p.t[0] !== 0 || p.parts === 1 ? 0 : p.t[1] !== 0 || p.parts === 2 ? 1 : 2;
      return cmp(v, p.t) >= 0 && cmp(v, bump(p.t, at)) < 0;
    }
    case '~': return cmp(v, p.t) >= 0 && cmp(v, bump(p.t, p.parts === 1 ? 0 : 1)) < 0;
    default: // '=' or bare: a partial version is a range (`4` = 4.x.x)
      return p.parts === 3 ? cmp(v, p.t) === 0 : cmp(v, p.t) >= 0 && cmp(v, bump(p.t, p.parts - 1)) < 0;
  }
}

/** True when `version` is inside `range`. An unparsable version is outside every range but `*`. */
export function satisfies(version: string, range: string): boolean {
  const r = range.trim();
  if (r === '' || r === '*') return true;
  const v = parse(version);
  if (v === undefined) return false;
  return r.split('||').some((set) => {
    const comparators = set.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter((c) => c !== '');
    return comparators.length > 0 && comparators.every((c) => test(v.t, c));
  });
}
