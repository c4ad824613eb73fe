/**
 * Base ids known plain (nothing to escape in a line) before their trace's lines are made:
 * a canonical signed header's base id, which signing.ts's CANONICAL_INFO matched with
 * exactly the characters a line writes as they are. The line formatter (line.ts baseText)
 * then skips its escaping check, a RegExp over the id (~1k instructions a header-continued
 * trace; a fresh root's base skips it the same way, notifier.ts FRESH_ROOT). A direct-mapped
 * table of 256 slots chosen by the id's first two characters (a uuid's first byte), the
 * string itself compared: a slot another id took since is only a miss (the check runs).
 */
const SLOTS = 256;
const noted: string[] = Array.from({ length: SLOTS }, () => '');

function slot(s: string): number {
  if (s.length < 2) return 0;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(1);
  // '0'-'9' → 0-9, 'a'-'f' → 10-15 (c & 15, plus 9 past 0x3f), as line.ts idSlot.
  return (((a & 15) + 9 * (a >> 6)) * 16 + (b & 15) + 9 * (b >> 6)) & (SLOTS - 1);
}

/** `s` has no character a line escapes (the caller checked it). */
export function notePlainId(s: string): void {
  noted[slot(s)] = s;
}

/** Whether `s` was noted plain lately (false says nothing). */
export function isNotedPlain(s: string): boolean {
  return noted[slot(s)] === s;
}
