import { afterEach, describe, expect, it } from 'vitest';
import { describeChange, formatValue } from '../src/format.js';
import { setLanguage } from '../src/i18n.js';

afterEach(() => setLanguage('fr'));

describe('a property as the feed and the detail show it', () => {
  it("reads a kind's declared enums (a seat's presence and role) by their labels", () => {
    setLanguage('nl');
    const before = { properties: { presence: 'paged' } };
    const after = { properties: { presence: 'present' } };
    expect(describeChange('position', 'presence', before, after)).toBe('Aanwezigheid: Opgeroepen → Aanwezig in de zaal');
    expect(formatValue('position', 'role', 'd3')).toBe('Vertegenwoordiger D3');
  });

  it('shows any time field in Brussels time', () => {
    // 06:34 UTC is 07:34 in Brussels in December.
    expect(formatValue('position', 'acknowledged_at', '2026-12-07T06:34:42.114045+00:00')).toContain('07:34');
  });
});
