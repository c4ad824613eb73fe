// Self instructions per function of a callgrind dump, JIT code named from V8's perf map
// (`node --perf-basic-prof` writes /tmp/perf-<pid>.map: `start size name` per code object).
// Callgrind names code it has no symbol for by address (`???:0x…`); each such address is
// looked up in the map's ranges. Interpreted functions run in V8's shared bytecode
// handlers, and builtins (property loads, string adds, …) keep their own names, so a JS
// function's self count is its compiled code alone. Code freed and replaced by other code
// at the same address is named by the map's last entry covering it.
'use strict';
const fs = require('node:fs');

/** Sorted ranges of a perf map: { starts, ends, names }. */
function readPerfMap(file) {
  const rows = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) rows.push([parseInt(m[1], 16), parseInt(m[2], 16), m[3]]);
  }
  // Later entries win where ranges overlap: stable sort by start keeps their order.
  rows.sort((a, b) => a[0] - b[0]);
  return { starts: rows.map((r) => r[0]), ends: rows.map((r) => r[0] + r[1]), names: rows.map((r) => r[2]) };
}

/** The map's name for `addr`, or undefined. */
function lookup(map, addr) {
  let lo = 0;
  let hi = map.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map.starts[mid] <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // The last range starting at or before addr that still covers it.
  for (let i = found; i >= 0 && i > found - 64; i--) if (addr < map.ends[i]) return map.names[i];
  return undefined;
}

/**
 * Callgrind dump `file`'s self instructions per function (`self`), every event of the dump per
 * function (`selfEvents`: name → array in the order of `events`, e.g. Ir … Bim under
 * `--cache-sim=yes --branch-sim=yes`) and the calls between functions (`calls`: caller →
 * callee → { count, inclusive instructions }). JS code is named `<name> <file>:<line>`
 * without V8's tier marker (~ ^ + *), so one function's tiers add up.
 */
function profileOf(file, map) {
  const names = new Map(); // compressed fn ids → names
  const self = new Map();
  const edges = new Map();
  let events = ['Ir'];
  let fn = '';
  let cfn = '';
  let calls = -1;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (calls >= 0) {
      // The inclusive cost line of a call: its position, then Ir first.
      const e = edges.get(fn) ?? edges.set(fn, new Map()).get(fn);
      const x = e.get(cfn) ?? e.set(cfn, { count: 0, inclusive: 0 }).get(cfn);
      x.count += calls;
      x.inclusive += Number(line.split(' ')[1] ?? 0);
      calls = -1;
      continue;
    }
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      // A position and its costs (events left out at the end count zero); a line with a
      // position only costs nothing.
      const parts = line.split(' ');
      if (parts.length > 1) {
        const v = self.get(fn) ?? self.set(fn, new Array(events.length).fill(0)).get(fn);
        for (let i = 1; i < parts.length; i++) v[i - 1] += Number(parts[i]);
      }
    } else if (line.startsWith('fn=')) {
      fn = resolve(names, line.slice(3));
    } else if (line.startsWith('cfn=')) {
      cfn = resolve(names, line.slice(4));
    } else if (line.startsWith('calls=')) {
      calls = Number(/^calls=(\d+)/.exec(line)[1]);
    } else if (line.startsWith('events:')) {
      events = line.slice(7).trim().split(' ');
    }
  }
  const selfEvents = new Map();
  for (const [raw, v] of self) {
    const name = named(raw, map);
    const w = selfEvents.get(name) ?? selfEvents.set(name, new Array(events.length).fill(0)).get(name);
    for (let i = 0; i < v.length; i++) w[i] += v[i];
  }
  const out = new Map([...selfEvents].map(([name, v]) => [name, v[0]]));
  const callsOut = new Map();
  for (const [from, e] of edges) {
    const f = named(from, map);
    const m = callsOut.get(f) ?? callsOut.set(f, new Map()).get(f);
    for (const [to, x] of e) {
      const t = named(to, map);
      const y = m.get(t) ?? m.set(t, { count: 0, inclusive: 0 }).get(t);
      y.count += x.count;
      y.inclusive += x.inclusive;
    }
  }
  return { self: out, events, selfEvents, calls: callsOut };
}

function resolve(names, text) {
  const m = /^\((\d+)\)(?: (.*))?$/.exec(text);
  if (!m) return text;
  if (m[2] !== undefined) names.set(m[1], m[2]);
  return names.get(m[1]) ?? text;
}

function named(raw, map) {
  const m = /^0x([0-9a-f]+)$/.exec(raw);
  if (!m) return raw;
  const n = map && lookup(map, parseInt(m[1], 16));
  if (n === undefined) return '(JIT code, unnamed)';
  // "JS:*name url:line:col" → "name url:line"; "Builtin:X", "BytecodeHandler:X" kept.
  const js = /^JS:[~^+*]?(.*?) (\S+?):(\d+):\d+$/.exec(n);
  return js ? `${js[1] || '(anonymous)'} ${js[2]}:${js[3]}` : n;
}

/** Callers of `callee` in a profileOf result: [caller, count, inclusive], most instructions first. */
function callersOf(calls, callee) {
  const rows = [];
  for (const [from, m] of calls) {
    const x = m.get(callee);
    if (x) rows.push([from, x.count, x.inclusive]);
  }
  return rows.sort((a, b) => b[2] - a[2]);
}

/**
 * The `n` keys whose values differ most between maps `a` and `b` (name → count; a key
 * missing from one counts 0): [key, a's, b's], each divided by `units`, largest difference first.
 */
function diffRows(a, b, n, units = 1) {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => [k, (a.get(k) ?? 0) / units, (b.get(k) ?? 0) / units]);
  rows.sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
  return rows.slice(0, n);
}

module.exports = { readPerfMap, profileOf, callersOf, diffRows };
