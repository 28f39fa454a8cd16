import { afterEach, describe, expect, it } from 'vitest';
import { CATALOGUES, setLanguage } from '../src/i18n.js';
import { HEADLINE, SERIES, datasets, formatFigure, monthNames, municipalityName } from '../src/panels/stats.js';

afterEach(() => setLanguage('fr'));

describe("the year's figures", () => {
  it('names every figure and series in French, Dutch and English', () => {
    const keys = [...HEADLINE, ...Object.keys(SERIES), 'planned_events_by_kind', 'incidents_by_category', 'incidents_by_severity'];
    for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
      for (const key of keys) expect(catalogue.stats.figure[key], `${lang}: ${key}`).toBeTruthy();
      expect(catalogue.tabs.stats, lang).toBeTruthy();
    }
  });

  it('shows a count, a rate and a time to acknowledge in the reader\'s words', () => {
    setLanguage('fr');
    expect(formatFigure('activations', 1150, 'fr-BE')).toMatch(/^1\s?150$/);
    expect(formatFigure('alarm_test_answer_rate', 0.808, 'fr-BE')).toMatch(/^80,8\s?%$/);
    expect(formatFigure('alerts_median_seconds_to_ack', 272.5)).toBe('4 min 33 s');
    expect(formatFigure('alerts_median_seconds_to_ack', null)).toBe('—');
  });

  it('names the months and municipalities in the reader\'s language', () => {
    expect(monthNames(2024, 'nl-BE')[2]).toMatch(/^mrt/);
    expect(monthNames(2024, 'fr-BE')).toHaveLength(12);
    const m = { code: '21004', name_fr: 'Bruxelles', name_nl: 'Brussel' };
    expect(municipalityName(m, 'nl')).toBe('Brussel');
    expect(municipalityName(m, 'en')).toBe('Bruxelles');
  });

  it('draws only the series that have something this year', () => {
    setLanguage('en');
    const byMonth = { activations: [1, 0], incidents: [0, 0], summits: [0, 2] };
    const drawn = datasets((name) => byMonth[name] ?? [0, 0]);
    expect(drawn.map((d) => d.dataKey)).toEqual(['activations', 'summits']);
    expect(drawn[0]).toMatchObject({ label: 'GCC activations', data: [1, 0], backgroundColor: SERIES.activations });
  });
});
