// Preload of the `plain-als` control variant (not in the default lists): plain Express after
// one AsyncLocalStorage.run(), which on Node 20 turns V8's promise hooks on for the whole
// process, as the first trace does. Against plain it isolates what a tracer's context
// propagation costs the host, apart from anything the tracer itself runs.
'use strict';
const { AsyncLocalStorage } = require('node:async_hooks');
const als = new AsyncLocalStorage();
globalThis.__benchAls = als;
als.run({}, () => {});
