/**
 * RESP framing as text, for commands the redis:// driver frames itself and writes with one
 * RespEncoder.framedCommands call (the search index's: ./index-write.ts).
 */
export const CRLF = '\r\n';

/**
 * The usual lengths' headers, made up front: filled on demand, the array went sparse
 * (dictionary elements, each lookup hashed: 21.1k → 20.4k instructions a 1-point trace for
 * deltas and the index update, callgrind, 600 batches of 100 traces).
 */
const HEADS: string[] = Array.from({ length: 1024 }, (_, n) => '$' + n + CRLF);

/** A bulk string's header `$<n>\r\n`. */
export function head(n: number): string {
  return n < 1024 ? HEADS[n] : '$' + n + CRLF;
}

/** A bulk string framed; its length in characters, or with `bytes` in UTF-8 bytes. */
export function frame(s: string, bytes: boolean): string {
  return head(bytes ? Buffer.byteLength(s) : s.length) + s + CRLF;
}

/** A command name's part of its header (`\r\n$<n>\r\n<name>\r\n`), for cmd(). */
export function named(name: string): string {
  return [CRLF, head(name.length), name, CRLF].join('');
}

/** A command's header: `*<argc>` and its name's part (named(), made once). */
export function cmd(argc: number, name: string): string {
  return '*' + argc + name;
}
