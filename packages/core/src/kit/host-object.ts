/**
 * Reading the host framework's request and response objects after the framework has made
 * them its own. Express 5 moves every request's `req` and `res` onto its prototypes
 * (`Object.setPrototypeOf`) and then adds properties, so each request's objects get hidden
 * classes never seen before (11 new maps a request in plain Express, callgrind). A named
 * load of ours on them then misses V8's megamorphic stub cache every time and goes to the
 * runtime (`LoadIC_Miss`: 1.4k–3.7k instructions a load on traced /hello, `res.statusCode`,
 * `res.writableFinished`, `req.baseUrl`). A keyed load at a site that has seen many names
 * takes V8's generic path instead (`KeyedLoadIC_Megamorphic`: the property looked up in the
 * builtin, no runtime call, ~160 instructions).
 */
export function hostProperty(o: object, name: string): unknown {
  return (o as Record<string, unknown>)[name];
}

// Several names at once, so the site is megamorphic before any request (keyed feedback
// that saw one name would first specialise on it).
for (const name of ['statusCode', 'finished', 'outputSize', 'socket', 'baseUrl', 'writableLength', 'headers', 'url', 'method']) {
  for (let i = 0; i < 10; i++) hostProperty({ [name]: i }, name);
}

/**
 * Node's `res.writableFinished` (OutgoingMessage's getter: ended, nothing left in its own
 * buffer or its socket's), read through `hostProperty`: the getter's own named loads on a
 * fresh hidden class cost a runtime lookup each (~3.7k instructions the getter, traced
 * /hello). A test holds it to the getter's answer for finished and aborted responses.
 */
export function responseFinished(res: object): boolean {
  if (hostProperty(res, 'finished') !== true || hostProperty(res, 'outputSize') !== 0) return false;
  const socket = hostProperty(res, 'socket') as { writableLength?: unknown } | null | undefined;
  return !socket || socket.writableLength === 0;
}
