/**
 * Node's own Buffer writers and reader (not in @types/node): no encoding argument
 * normalised per call. Against `write(s, at, enc)` / `toString(enc, a, b)`, a signed
 * header's four calls cost ~0.8k instructions less (./hmac.ts), and the redis:// driver's
 * encoder (drivers src/redis/resp.ts) writes each command's strings with them.
 */
export interface NodeBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
  latin1Write(s: string, offset: number): number;
  base64urlWrite(s: string, offset: number): number;
  latin1Slice(start: number, end: number): string;
}
