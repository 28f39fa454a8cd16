import { describe, expect, it } from 'vitest';
import { exportRequest } from '../src/exporting.js';

const NONE = { entity: '', severity: '', municipality: '', police_zone: '', text: '' };
const NOW = new Date('2026-12-07T14:00:00Z');

describe("the feed's view as an export", () => {
  it('names one collection: none without a type', () => {
    expect(exportRequest(NONE, 'csv', null, NOW)).toBeNull();
    expect(exportRequest({ ...NONE, entity: 'incident' }, 'xlsx', null, NOW)).toBeNull();
    const r = exportRequest({ ...NONE, entity: 'incident' }, 'kml', null, NOW);
    expect(r).toEqual({ path: '/api/exports/incidents?format=kml', filename: 'sitcen-incidents-20261207T140000Z.kml' });
  });

  it("carries the feed's filters: a minimum severity as the severities from it up", () => {
    const filters = { entity: 'incident', severity: 'severe', municipality: '21004', police_zone: '5339', text: ' Rue Haute ' };
    const { path } = exportRequest(filters, 'csv', null, NOW);
    const query = new URL(path, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toEqual({
      format: 'csv',
      severity: 'severe,extreme',
      municipality: '21004',
      police_zone: '5339',
      q: 'Rue Haute',
    });
  });

  it("adds the map's time window when it hides what falls outside it", () => {
    const win = { from: Date.parse('2026-12-07T00:00:00Z'), to: Infinity };
    const { path } = exportRequest({ ...NONE, entity: 'planned_event' }, 'geojson', win, NOW);
    const query = new URL(path, 'http://x').searchParams;
    expect(path.startsWith('/api/exports/events?')).toBe(true);
    expect(query.get('start')).toBe('2026-12-07T00:00:00.000Z');
    expect(query.has('end')).toBe(false);
  });
});
