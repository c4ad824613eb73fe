/** postgresql:// COPY payloads: rows with the lines' bytes give exactly the bytes of the text path. */
import { describe, expect, it } from 'vitest';
import { copyBytes, copyText } from '../src/sql/copy';
import type { PointRow } from '../src/sql/rows';

const row = (event: string, more: Partial<PointRow> = {}): PointRow => ({
  baseId: 'b-1', traceId: 't-1', name: 'wsgi-start', ts: '1795842000000001', event, project: 'p', service: 's', ...more,
});

describe('copyBytes', () => {
  // Lines are ASCII by contract, but nothing checks each byte: whatever they hold must come out as the text path wrote it.
  const events = [
    '{"name": "wsgi-start", "info": {"db": {"statement": "select \\"x\\" from t"}}}',
    'plain',
    '',
    'tab\there, cr\rhere, lf\nhere, backslash\\\\ at the end\\',
    'latin1 bytes: \u00e9\u00ff\u0080 and \\u00e9',
    '\\',
  ];

  it('is byte-identical to Buffer.from(copyText(rows)) for lines as bytes (read as latin1) and as text', () => {
    const fields: Partial<PointRow>[] = [
      {},
      { project: null, service: null },
      { name: 'na"me\\-st\top', traceId: 't\u00e9\n', service: 'tab\tservice' },
      { project: 'caf\u00e9 \u2603 \ud83d\ude00 \ud800', service: '\\\u00e9\t' },
    ];
    const text = events.flatMap((e) => fields.map((f) => row(e, f)));
    const bytes = text.map((r) => ({ ...r, event: Buffer.from(r.event as string, 'latin1') }));
    const want = Buffer.from(copyText(text));
    expect(copyBytes(bytes).equals(want)).toBe(true);
    expect(copyBytes(text).equals(want)).toBe(true);
    // Views into one body (as the agent and the collector hand them) and a body larger than the first guess.
    const body = Buffer.from(events.join('\n').repeat(1), 'latin1');
    let pos = 0;
    const views = events.map((e) => row('', { event: body.subarray(pos, (pos += e.length + 1) - 1) }));
    expect(copyBytes(views).equals(Buffer.from(copyText(events.map((e) => row(e)))))).toBe(true);
    const big = row('\\'.repeat(5000) + '\u00e9'.repeat(5000));
    expect(copyBytes([{ ...big, event: Buffer.from(big.event as string, 'latin1') }]).equals(Buffer.from(copyText([big])))).toBe(true);
  });

  it('has no rows: an empty payload', () => {
    expect(copyBytes([]).length).toBe(0);
  });
});
