/**
 * Parsing one stored notification (a Redis list element, a line of a trace file): the
 * text Python's json.dumps or pyDumps wrote, which may hold bare NaN / Infinity.
 *
 * A copy of core's internal drivers/stored-event.ts (core does not export it).
 */

/** The event object, or undefined when the text is not a JSON object. */
export function parseStoredEvent(text: string): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = parsePythonSpecials(text);
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

// Python's json.dumps (and pyDumps) write NaN, Infinity and -Infinity bare; JSON.parse
// refuses them. Swap them, outside string literals, for marker strings and revive them.
const SPECIALS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
// The marker is written into the JSON text escaped (`\u0000...`) and arrives decoded.
const MARK_JSON = '\\u0000osprofiler:';
const MARK = '\u0000osprofiler:';

function parsePythonSpecials(text: string): unknown {
  if (!/NaN|Infinity/.test(text) || text.includes(MARK_JSON) || text.includes(MARK)) return undefined;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const special = ['-Infinity', 'Infinity', 'NaN'].find((w) => text.startsWith(w, i));
    if (special !== undefined) {
      out += `"${MARK_JSON}${special}"`;
      i += special.length - 1;
    } else out += c;
  }
  try {
    return JSON.parse(out, (_k, v: unknown) =>
      typeof v === 'string' && v.startsWith(MARK) ? SPECIALS[v.slice(MARK.length)] : v,
    );
  } catch {
    return undefined;
  }
}
