import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENUMS, validate, windowOf, zoneKindsFor } from '../src/model.js';
import { CATALOGUES } from '../src/i18n.js';

// The UI's enum keys are the API's: read them from app/domain/enums.py.
function pythonEnums() {
  const source = readFileSync(new URL('../../app/domain/enums.py', import.meta.url), 'utf8');
  const out = {};
  let current = null;
  for (const line of source.split('\n')) {
    const cls = /^class (\w+)\(StrEnum\):/.exec(line);
    if (cls) {
      current = cls[1];
      out[current] = [];
      continue;
    }
    const member = /^ {4}\w+ = "([^"]+)"/.exec(line);
    if (current && member) out[current].push(member[1]);
    else if (/^\S/.test(line)) current = null;
  }
  return out;
}

const PYTHON_TO_UI = {
  Entity: 'entity', ChangeOp: 'op', IncidentCategory: 'category', Severity: 'severity',
  IncidentStatus: 'incident_status', Visibility: 'visibility', EventKind: 'event_kind', RiskLevel: 'risk_level',
  EventStatus: 'event_status', Authorisation: 'authorisation', ZoneKind: 'zone_kind', ZoneStatus: 'zone_status',
  ActivationLevel: 'activation_level', Coordinator: 'coordinator', ActivationStatus: 'activation_status',
  LogbookKind: 'logbook_kind', Role: 'role',
};

function keys(node, prefix = '') {
  return Object.entries(node).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('enums and labels', () => {
  it('are the API enums, value for value', () => {
    const python = pythonEnums();
    expect(Object.keys(python).sort()).toEqual(Object.keys(PYTHON_TO_UI).sort());
    for (const [cls, group] of Object.entries(PYTHON_TO_UI)) expect(ENUMS[group], cls).toEqual(python[cls]);
  });

  it('have a label in every language, and the catalogues have the same keys', () => {
    const reference = keys(CATALOGUES.fr).sort();
    for (const lang of ['nl', 'en']) expect(keys(CATALOGUES[lang]).sort()).toEqual(reference);
    for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
      for (const [group, values] of Object.entries(ENUMS)) {
        for (const value of values) expect(catalogue.enums[group]?.[value], `${lang} ${group}.${value}`).toBeTruthy();
      }
    }
  });
});

describe('form validation mirrors the API', () => {
  it('refuses a missing category, a wrong initial status and an over-long title', () => {
    const problems = validate('incident', { title: 'x'.repeat(201), severity: 'minor', status: 'closed' });
    expect(problems.map((p) => [p.field, p.key])).toEqual(
      expect.arrayContaining([['title', 'validation.too_long'], ['category', 'validation.required'], ['status', 'validation.initial']]),
    );
  });

  it('checks transitions against the current state and time order on the merged state', () => {
    const current = { properties: { status: 'closed', starts_at: '2026-05-01T10:00:00+02:00', ends_at: '2026-05-01T12:00:00+02:00' } };
    expect(validate('incident', { status: 'ongoing' }, { current }).map((p) => p.key)).toContain('validation.transition');
    const event = { properties: { status: 'planned', starts_at: '2026-05-01T10:00:00+02:00', ends_at: '2026-05-01T12:00:00+02:00' } };
    expect(validate('planned_event', { ends_at: '2026-05-01T09:00:00+02:00' }, { current: event }).map((p) => p.field)).toEqual(['ends_at']);
    expect(validate('planned_event', { status: 'ongoing' }, { current: event })).toEqual([]);
  });

  it('offers only the zone kinds a geometry can take', () => {
    expect(zoneKindsFor('LineString')).toEqual(['traffic_restriction', 'route']);
    expect(zoneKindsFor('Point')).toEqual(['assembly_point', 'staging_area', 'first_aid_post']);
    expect(validate('zone', { title: 'R', kind: 'route', _geometry_type: 'Polygon' }).map((p) => p.field)).toEqual(['kind']);
  });

  it('reads validity windows, open-ended when there is no end', () => {
    expect(windowOf('zone', { valid_from: '2026-01-01T00:00:00Z' })).toEqual([Date.parse('2026-01-01T00:00:00Z'), Infinity]);
    expect(windowOf('incident', { reported_at: '2026-01-01T00:00:00Z', closed_at: '2026-01-02T00:00:00Z' })[1]).toBe(Date.parse('2026-01-02T00:00:00Z'));
  });
});

describe('time window', () => {
  it('counts an incident reported just after the last "now" tick as current', async () => {
    const { timeWindow, isOutside } = await import('../src/mapdata.js');
    const now = Date.parse('2026-09-27T10:00:00+02:00');
    const win = timeWindow('now', {}, now);
    expect(isOutside('incident', { reported_at: '2026-09-27T10:00:20+02:00' }, win)).toBe(false);
    expect(isOutside('zone', { valid_from: '2026-09-27T12:00:00+02:00' }, win)).toBe(true);
    expect(isOutside('zone', { valid_from: '2026-09-27T12:00:00+02:00' }, timeWindow('next24', {}, now))).toBe(false);
    expect(isOutside('incident', { reported_at: '2024-01-01T00:00:00Z', closed_at: '2024-01-02T00:00:00Z' }, win)).toBe(true);
    expect(timeWindow('all')).toBeNull();
  });
});
