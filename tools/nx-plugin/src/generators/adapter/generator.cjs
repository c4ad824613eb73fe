// `nx g @osprofiler/tools:adapter <name>`: packages/<name> with the files every adapter has,
// tools/bench/<name>.cjs, and <name> added to eslint.config.mjs's adapter lists (module
// boundaries, catch-contained). Plain CommonJS: Nx loads it without a TypeScript step.
'use strict';
const path = require('node:path');
const { generateFiles, names } = require('@nx/devkit');

const NAME = /^[a-z][a-z0-9-]*$/;
// The brace lists of adapter packages in eslint.config.mjs (they all hold express).
const ADAPTER_LIST = /packages\/\{([a-z0-9,-]*\bexpress\b[a-z0-9,-]*)\}/g;

function addToEslintLists(tree, name) {
  const file = 'eslint.config.mjs';
  if (!tree.exists(file)) return;
  const text = tree.read(file, 'utf8');
  const next = text.replace(ADAPTER_LIST, (all, list) => (list.split(',').includes(name) ? all : `packages/{${list},${name}}`));
  if (next !== text) tree.write(file, next);
}

module.exports = async function adapterGenerator(tree, schema) {
  const name = schema.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`adapter name ${JSON.stringify(name)}: use lower-case letters, digits and dashes, starting with a letter`);
  }
  const root = `packages/${name}`;
  if (tree.exists(root)) throw new Error(`${root} exists already`);
  const n = names(name);
  const subs = { tmpl: '', name, className: n.className, propertyName: n.propertyName, framework: schema.framework || name };
  generateFiles(tree, path.join(__dirname, 'files/package'), root, subs);
  generateFiles(tree, path.join(__dirname, 'files/bench'), 'tools/bench', subs);
  addToEslintLists(tree, name);
  return () => console.log(`packages/${name}: replace test/${name}.test.ts's stub framework with a real instance of ${subs.framework}, then \`npx nx run @osprofiler/${name}:test\``);
};
