import { describe, expect, it } from 'vitest';
import { markdownFiles, readmeFiles, runSample, samplesOf } from './support/samples';

const samples = [...markdownFiles(), ...readmeFiles()].flatMap(samplesOf);

describe('docs code samples', () => {
  it('every fenced block in docs/ and the READMEs says whether it runs (a marker comment before it)', () => {
    expect(samples.length).toBeGreaterThan(10);
    const unmarked = samples.filter((s) => s.marker.kind === 'none').map((s) => s.where);
    expect(unmarked, 'add <!-- sample: run … --> or <!-- sample: skip reason --> before these').toEqual([]);
    const noReason = samples.filter((s) => s.marker.kind === 'skip' && s.marker.reason === '').map((s) => s.where);
    expect(noReason).toEqual([]);
  });

  for (const s of samples.filter((x) => x.marker.kind === 'run')) {
    it(`${s.where} runs and records its trace`, async () => {
      const r = await runSample(s);
      for (const name of (s.marker.options.expect ?? '').split(',').filter(Boolean)) expect(r.names).toContain(name);
      if (s.marker.options.get) expect(r.status).toBe(200);
    });
  }
});
