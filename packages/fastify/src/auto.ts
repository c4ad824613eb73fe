/**
 * Automatic mode: Fastify (4.10+, 5) publishes every new instance on the
 * `fastify.initialization` diagnostics channel, with its HTTP server already listening for
 * requests and no route added yet; the adapter instruments it there. Fastify's factory is
 * a function export the module hooks could not patch in place, and the channel sees every
 * copy of Fastify, ESM or CommonJS, wherever it is installed.
 */
import { subscribe } from 'node:diagnostics_channel';
import { debug, registerOnce } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { instrumentFastify, type FastifyLike } from './hook';

const REGISTERED = Symbol.for('osprofiler.fastify.registered');

function onInstance(message: unknown): void {
  try {
    const app = (message as { fastify?: FastifyLike } | null)?.fastify;
    if (app !== undefined) instrumentFastify(app);
  } catch (err) {
    contained('auto', err);
  }
}

/**
 * Subscribes (once per process) when OSPROFILER_ENABLED is true. Returns whether it is
 * subscribed. A bad OSPROFILER_* value is contained, never thrown into the app.
 */
export function registerFastify(env: NodeJS.ProcessEnv = process.env): boolean {
  return registerOnce(REGISTERED, env, contained, () => {
    subscribe('fastify.initialization', onInstance);
    debug('fastify: automatic mode: every Fastify instance (4.10+, 5.x) will trace requests');
  });
}
