/**
 * A string in one piece. V8 keeps `a + b` of 13 characters or more as a rope (a
 * ConsString) and a rope stays one when it is reused: each line built from a cached rope
 * carries all of its pieces, and where the batch's lines are joined for the socket or the
 * file, every piece is a step of `String::WriteToFlat` and a `memcpy` of its own. Text
 * cached for many lines (line.ts: name heads, key texts, the line's tail) is made flat
 * once, here; JSON round-trips every string exactly (lone surrogates included).
 */
export function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
