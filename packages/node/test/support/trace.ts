/** Runs `fn` in a fresh trace under one `outer` point; returns its ids with the result. */
import { randomUUID } from 'node:crypto';
import { get, run, traced } from '@osprofiler/core';

export const KEY = 'SECRET_KEY';

export interface InTrace<R> {
  baseId: string;
  outerId: string;
  result: R;
}

export async function inTrace<R>(fn: () => Promise<R> | R, hmacKey = KEY): Promise<InTrace<R>> {
  const baseId = randomUUID();
  let outerId = '';
  const result = await run({ hmacKey, baseId }, () =>
    traced('outer', async () => {
      outerId = get()!.currentId;
      return fn();
    }),
  );
  return { baseId, outerId, result };
}
