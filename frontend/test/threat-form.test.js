import { describe, expect, it } from 'vitest';
import { threatBody, THREAT_LIMITS } from '../src/panels/threat-form.js';

const filled = { level: '3', sector: '', target: '', reason: 'Assessment after the attack abroad', source_reference: 'OCAM/2026/1207' };

describe('the threat level form', () => {
  it('records the general level as a number, with its reference and reason', () => {
    expect(threatBody(filled)).toEqual({
      body: { level: 3, sector: null, target: null, reason: 'Assessment after the attack abroad', source_reference: 'OCAM/2026/1207' },
    });
  });

  it('lifts a sector’s own level with a null level', () => {
    expect(threatBody({ ...filled, level: 'lift', sector: 'police' }).body).toMatchObject({ level: null, sector: 'police' });
  });

  it('refuses to lift the general level, which can be changed but never lifted', () => {
    expect(threatBody({ ...filled, level: 'lift' }).problems).toEqual([{ field: 'level', key: 'threat.form.lift_general' }]);
  });

  it('names every missing or too long field', () => {
    const { problems } = threatBody({ level: '', sector: '', target: 'x'.repeat(THREAT_LIMITS.target + 1), reason: ' ', source_reference: '' });
    expect(problems.map((p) => p.field).sort()).toEqual(['level', 'reason', 'source_reference', 'target']);
  });
});
