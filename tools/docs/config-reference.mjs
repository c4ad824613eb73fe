// Generates docs/configuration.md from the typed configuration: each option's name, type,
// default and environment variable are read from the TypeScript sources (interfaces, their
// doc comments, the frozen DEFAULT_* objects and core's ENV_NAMES), never typed twice.
//
//   node tools/docs/config-reference.mjs           rewrite docs/configuration.md
//   node tools/docs/config-reference.mjs --check   exit 1 when the committed file differs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import ts from 'typescript';
import { EXTRA_VARIABLES, PYTHON_NAMES, WARNING_CODES } from './env-extra.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUT = join(ROOT, 'docs/configuration.md');

/** The option sets documented, in page order: where the interface and its defaults live. */
const SECTIONS = [
  {
    title: 'Core: `configure()` and `OSPROFILER_*`',
    file: 'packages/core/src/config.ts',
    iface: 'ProfilerConfig',
    defaults: 'DEFAULT_CONFIG',
    env: 'ENV_NAMES',
    python: PYTHON_NAMES,
    intro:
      'One typed object (`ProfilerConfig`), set by `configure({...})`, `ProfilerModule.forRoot({...})` or the environment. Explicit options win over the environment, which wins over the defaults; a bad value stops start-up with a `ConfigError` naming the field and its variable.',
  },
  {
    title: 'HTTP servers: Express `profiler()`, Fastify `fastifyProfiler`, `instrumentFastify`',
    file: 'packages/core/src/kit/http-options.ts',
    iface: 'HttpServerOptions',
    defaults: 'DEFAULT_HTTP_OPTIONS',
    intro: 'Unset fields come from the core configuration above.',
  },
  {
    title: 'NestJS: `ProfilerModule.forRoot()`',
    file: 'packages/nestjs/src/options.ts',
    iface: 'NestProfilerOptions',
    defaults: 'DEFAULT_OPTIONS',
    intro: 'Takes every core option above too (`enabled`, `hmacKeys`, `connectionString`, …), plus:',
  },
  {
    title: 'Databases: `instrumentKnex`, `instrumentTypeorm`, `instrumentPg`',
    file: 'packages/core/src/db/options.ts',
    iface: 'DbInstrumentationOptions',
    defaults: 'DEFAULT_DB_OPTIONS',
    intro: 'The same options for every database adapter (`KnexInstrumentationOptions`, `TypeormInstrumentationOptions`, `PgInstrumentationOptions`).',
  },
  {
    title: 'Node built-ins: `instrumentHttpClient`',
    file: 'packages/node/src/options.ts',
    iface: 'HttpClientOptions',
    defaults: 'DEFAULT_OPTIONS',
  },
  {
    title: 'Node built-ins: `instrumentChildProcess`',
    file: 'packages/node/src/options.ts',
    iface: 'ChildProcessOptions',
    defaults: 'DEFAULT_CHILD_PROCESS_OPTIONS',
  },
  {
    title: 'Node built-ins: `instrumentWorkerThreads`',
    file: 'packages/node/src/options.ts',
    iface: 'WorkerThreadsOptions',
    defaults: 'DEFAULT_WORKER_THREADS_OPTIONS',
  },
];

function source(file) {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function find(sf, pred) {
  let hit;
  const visit = (n) => {
    if (hit === undefined && pred(n)) hit = n;
    if (hit === undefined) ts.forEachChild(n, visit);
  };
  visit(sf);
  return hit;
}

/** The object literal a `const NAME = Object.freeze({...})` (or a plain literal) holds, by key. */
function objectLiteral(sf, name) {
  const decl = find(sf, (n) => ts.isVariableDeclaration(n) && n.name.getText(sf) === name);
  if (decl === undefined) throw new Error(`${sf.fileName}: no const ${name}`);
  let init = decl.initializer;
  while (init && (ts.isCallExpression(init) || ts.isAsExpression(init) || ts.isParenthesizedExpression(init))) {
    init = ts.isCallExpression(init) ? init.arguments[0] : init.expression;
  }
  const out = new Map();
  if (init && ts.isObjectLiteralExpression(init)) {
    for (const p of init.properties) {
      if (!ts.isPropertyAssignment(p)) continue;
      let v = p.initializer;
      while (ts.isAsExpression(v) || (ts.isCallExpression(v) && v.expression.getText(sf) === 'Object.freeze')) v = ts.isAsExpression(v) ? v.expression : v.arguments[0];
      out.set(p.name.getText(sf), ts.isNumericLiteral(v) ? v.getText(sf).replace(/_/g, '') : v.getText(sf));
    }
  }
  return out;
}

function docOf(node) {
  const text = (node.jsDoc ?? []).map((d) => (typeof d.comment === 'string' ? d.comment : (d.comment ?? []).map((c) => c.text).join(''))).join(' ');
  return text.replace(/\s+/g, ' ').trim();
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** One section's rows: [name, type, default, variable, description]. */
export function sectionRows(section) {
  const sf = source(section.file);
  const iface = find(sf, (n) => ts.isInterfaceDeclaration(n) && n.name.text === section.iface);
  if (iface === undefined) throw new Error(`${section.file}: no interface ${section.iface}`);
  const defaults = objectLiteral(sf, section.defaults);
  const env = section.env ? objectLiteral(sf, section.env) : new Map();
  return iface.members.filter(ts.isPropertySignature).map((m) => {
    const name = m.name.getText(sf);
    const doc = docOf(m);
    const variable = env.get(name)?.replace(/'/g, '') ?? doc.match(/Default[^.]*?(OSPROFILER_[A-Z0-9_]+)/)?.[1] ?? '';
    let dflt = defaults.get(name);
    if (dflt === 'undefined' && /Default/.test(doc)) dflt = 'see description';
    if (dflt === undefined) dflt = /Default:/.test(doc) ? 'see description' : name === 'host' ? 'the machine\'s hostname' : '—';
    return [name, m.type.getText(sf).replace(/\s+/g, ' '), dflt, variable, doc];
  });
}

/** Every `OSPROFILER_*` name the page documents (variables and codes). */
export function documentedNames() {
  const names = new Set();
  for (const s of SECTIONS) for (const r of sectionRows(s)) if (r[3]) names.add(r[3]);
  for (const v of EXTRA_VARIABLES) names.add(v.name);
  for (const c of WARNING_CODES) names.add(c.code);
  return names;
}

export function render() {
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated by tools/docs/config-reference.mjs from the typed configuration; do not edit by',
    '     hand: run `node tools/docs/config-reference.mjs` (a test fails when this file is stale). -->',
    '',
    'Every option, its default and its environment variable. Booleans in the environment take',
    '`true/false`, `1/0`, `yes/no`, `on/off`; lists are comma-separated.',
    '',
  ];
  for (const s of SECTIONS) {
    out.push(`## ${s.title}`, '', `Type \`${s.iface}\` (${s.file}).${s.intro ? ' ' + s.intro : ''}`, '');
    const py = s.python ? ' Python `[profiler]` |' : '';
    out.push(`| option | type | default | variable | what it does |${py}`, `|---|---|---|---|---|${s.python ? '---|' : ''}`);
    for (const [name, type, dflt, variable, doc] of sectionRows(s)) {
      const pyCell = s.python ? ` ${s.python[name] ?? '—'} |` : '';
      out.push(`| \`${name}\` | \`${cell(type)}\` | ${dflt === '—' || dflt.startsWith('see') || dflt.startsWith('the') ? dflt : '`' + cell(dflt) + '`'} | ${variable ? '`' + variable + '`' : '—'} | ${cell(doc)} |${pyCell}`);
    }
    out.push('');
  }
  out.push('## Other environment variables', '', '| variable | read by | what it does |', '|---|---|---|');
  for (const v of EXTRA_VARIABLES) out.push(`| \`${v.name}\` | ${v.readBy} | ${cell(v.what)} |`);
  out.push('', '## Warning codes', '', 'Printed once per cause with `process.emitWarning` (`node --no-warnings` hides them; `process.on(\'warning\')` sees the code).', '');
  out.push('| code | when |', '|---|---|');
  for (const c of WARNING_CODES) out.push(`| \`${c.code}\` | ${cell(c.when)} |`);
  out.push('');
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = render();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OUT, 'utf8');
    if (committed !== text) {
      console.error('docs/configuration.md is stale: run `node tools/docs/config-reference.mjs`');
      process.exit(1);
    }
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${OUT}`);
  }
}
