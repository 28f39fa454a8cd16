import { describe, expect, it } from 'vitest';
import { COLLECTIONS, ENTITIES, ENUMS, defaultsOf, validate, windowOf, zoneKindsFor } from '../src/model.js';
import { CATALOGUES, label, setLanguage } from '../src/i18n.js';
import { LABELS, RULES } from '../src/vocabulary.js';

function keys(node, prefix = '') {
  return Object.entries(node).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('enums and labels', () => {
  it('are the server’s: every value of every group named in every language', () => {
    for (const lang of ['fr', 'nl', 'en']) {
      for (const [group, values] of Object.entries(ENUMS)) {
        for (const value of values) expect(LABELS[lang][group]?.[value]?.trim(), `${lang} ${group}.${value}`).toBeTruthy();
      }
    }
  });

  it('are looked up in the vocabulary, so the watch reads the partners’ words', () => {
    setLanguage('nl');
    try {
      expect(label('category', 'utility_outage')).toBe(LABELS.nl.category.utility_outage);
      expect(label('zone_kind', 'first_aid_post')).toBe(LABELS.nl.zone_kind.first_aid_post);
      expect(label('category', 'not_a_value')).toBe('not a value');
    } finally {
      setLanguage('fr');
    }
  });

  it('are not restated in the catalogues, which have the same keys in every language', () => {
    const reference = keys(CATALOGUES.fr).sort();
    for (const lang of ['nl', 'en']) expect(keys(CATALOGUES[lang]).sort()).toEqual(reference);
    for (const catalogue of Object.values(CATALOGUES)) expect(catalogue.enums).toBeUndefined();
  });
});

describe('each kind’s rules are the server’s', () => {
  it('lifecycles, initial statuses and paths', () => {
    expect(ENTITIES.incident.transitions).toEqual(RULES.incident.transitions);
    expect(ENTITIES.incident.fields.find((f) => f.name === 'status').initial).toEqual(RULES.incident.initial.status);
    expect(Object.fromEntries(Object.entries(ENTITIES).map(([e, s]) => [e, s.path]))).toMatchObject({
      incident: 'incidents', planned_event: 'events', demonstration: 'demonstrations', zone: 'zones', activation: 'activations', logbook_entry: 'logbook',
      plan: 'plans',
    });
    for (const [entity, rules] of Object.entries(RULES)) expect(ENTITIES[entity].path).toBe(rules.path);
  });

  it('reads the crisis cell’s kinds whether or not this build declares them, by the declared path first', () => {
    expect(COLLECTIONS).toMatchObject({ position: 'positions', task: 'tasks', checklist: 'checklists', decision: 'decisions', document: 'documents', logbook_entry: 'logbook' });
  });

  it('field limits and defaults', () => {
    const title = ENTITIES.incident.fields.find((f) => f.name === 'title');
    expect([title.required, title.max]).toEqual([true, RULES.incident.fields.title.max_length]);
    const members = ENTITIES.activation.fields.find((f) => f.name === 'members');
    expect([members.max, members.maxItems]).toEqual([RULES.activation.fields.members.item_max_length, RULES.activation.fields.members.max_items]);
    expect(ENTITIES.zone.fields.find((f) => f.name === 'parent_id').entities).toEqual(['planned_event', 'demonstration']);
    expect(defaultsOf('activation')).toEqual({ visibility: 'internal', exercise: false, coordinator: 'sitcen', status: 'open' });
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

  it('refuses a geometry type the kind of object does not take', () => {
    const demo = { title: 'D', starts_at: '2026-05-01T10:00:00+02:00', ends_at: '2026-05-01T12:00:00+02:00' };
    expect(validate('demonstration', { ...demo, _geometry_type: 'LineString' })).toEqual([]);
    expect(validate('demonstration', { ...demo, _geometry_type: 'MultiPoint' })).toEqual([
      { field: 'geometry', key: 'validation.geometry_type', params: { geometry: 'MultiPoint' } },
    ]);
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
