/**
 * A `wsgi` point's stop info (`{response: {status_code}, request: {route}}`) of a request
 * that finished (not aborted, no error, no adapter extras), shared and frozen for a status
 * and route template seen again, as start-infos.ts does for start infos: the line
 * formatter then makes its text once, by identity (line.ts, "frozen info"). Route
 * templates are few, so nearly every stop repeats one. The first time a fresh object, as
 * before; slots that collide keep getting fresh objects (nothing frozen per request).
 */
import { frozenInfo } from './frozen-info';
import { textSlot } from './start-infos';

const SLOTS = 64;
const statuses: number[] = new Array<number>(SLOTS).fill(-1);
// undefined: a request without a route (a 404, a handler the framework did not route).
const routes: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
// The frozen info once the slot's status and route came twice; a placeholder until then.
const NONE: object = Object.freeze({});
const infos: object[] = new Array<object>(SLOTS).fill(NONE);

function stopInfo(status: number, route: string | undefined): object {
  return route === undefined ? { response: { status_code: status } } : { response: { status_code: status }, request: { route } };
}

/** The stop info of a finished request answered `status` on `route`: the slot's frozen one when seen before. */
export function responseStopInfo(status: number, route: string | undefined): object {
  const slot = ((route === undefined ? 0 : textSlot(route)) + status) & (SLOTS - 1);
  if (statuses[slot] === status && routes[slot] === route) {
    const known = infos[slot];
    if (known !== NONE) return known;
    return (infos[slot] = frozenInfo(stopInfo(status, route)));
  }
  statuses[slot] = status;
  routes[slot] = route;
  infos[slot] = NONE;
  return stopInfo(status, route);
}
