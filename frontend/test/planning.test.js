// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOGUES, setLanguage } from '../src/i18n.js';
import { Planning, byMonth, intervalText, kindLabel, sizeText } from '../src/panels/planning.js';
import { Store } from '../src/store.js';
import { FakeApp } from './fakes.js';

const NOW = new Date('2026-09-20T08:00:00Z');
const CONFLICT = {
  type: 'Feature',
  id: 'a~b',
  geometry: { type: 'LineString', coordinates: [[4.35, 50.84], [4.36, 50.84]] },
  properties: {
    objects: [
      { entity: 'planned_event', id: 'a', title: 'Sommet européen', kind: 'summit' },
      { entity: 'demonstration', id: 'b', title: 'Marche pour le climat', kind: 'demonstration' },
    ],
    overlap_from: '2026-09-26T12:00:00Z',
    overlap_to: '2026-09-26T15:00:00Z',
    area_m2: 0,
    length_m: 812,
    status: 'open',
    acknowledgement: null,
  },
};

let app;
function panel(permissions = ['conflicts:read', 'conflicts:acknowledge']) {
  app = new FakeApp({ store: new Store(), permissions });
  app.root.insertAdjacentHTML('beforeend', '<button id="tab-planning"></button><section id="panel-planning"></section>');
  app.openDetail = () => {};
  return new Planning(app, { now: () => NOW });
}

beforeEach(() => setLanguage('en'));
afterEach(() => {
  app?.stop();
  setLanguage('fr');
});

describe('the planning desk', () => {
  it('has its words in French, Dutch and English', () => {
    const keys = Object.keys(CATALOGUES.en.planning);
    for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
      expect(Object.keys(catalogue.planning), lang).toEqual(keys);
      expect(catalogue.tabs.planning, lang).toBeTruthy();
    }
  });

  it('says an overlap as an area, a shared route or a spot, and an open end', () => {
    expect(sizeText({ area_m2: 2500, length_m: 0 }, 'en')).toBe('2,500 m²');
    expect(sizeText({ area_m2: 25000, length_m: 0 }, 'en')).toBe('2.5 ha');
    expect(sizeText({ area_m2: 0, length_m: 812 }, 'en')).toBe('812 m of shared route');
    expect(sizeText({ area_m2: 0, length_m: 0 }, 'en')).toBe('a shared spot');
    expect(intervalText(null, '2026-09-26T15:00:00Z', 'en-GB')).toMatch(/^open → .*17:00/);
    expect(kindLabel({ entity: 'zone', kind: 'traffic_restriction' })).toBe('Traffic restriction');
    expect(kindLabel({ entity: 'demonstration', kind: 'demonstration' })).toBe('Demonstration');
  });

  it('lists conflicts from now on and acknowledges one with its note', async () => {
    const planning = panel();
    const path = `/api/conflicts?start=${encodeURIComponent(NOW.toISOString())}&limit=200`;
    app.api.reads[path] = { type: 'FeatureCollection', features: [CONFLICT] };
    planning.shown();
    await planning.loadConflicts();
    const item = app.root.querySelector('[data-conflict="a~b"]');
    expect(item.textContent).toContain('Sommet européen');
    expect(item.textContent).toContain('Marche pour le climat');
    expect(item.textContent).toContain('812 m of shared route');
    item.querySelector('input').value = 'Route agreed with the police zone';
    app.api.answer({ ...CONFLICT, properties: { ...CONFLICT.properties, status: 'acknowledged' } });
    item.querySelector('form').dispatchEvent(new Event('submit', { cancelable: true }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const sent = app.api.requests.find((r) => r.method === 'POST');
    expect(sent).toMatchObject({ path: '/api/conflicts/acknowledge', body: { objects: ['a', 'b'], note: 'Route agreed with the police zone' } });
  });

  it('offers no acknowledgement to a reader who may not give one', async () => {
    const planning = panel(['conflicts:read']);
    app.api.reads[`/api/conflicts?start=${encodeURIComponent(NOW.toISOString())}&limit=200`] = { type: 'FeatureCollection', features: [CONFLICT] };
    await planning.loadConflicts();
    expect(app.root.querySelector('[data-conflict="a~b"] form')).toBeNull();
  });

  it('flags a conflict the feed opens, at once', () => {
    panel();
    app.store.applyChange({
      seq: 7,
      entity: 'conflict',
      op: 'created',
      id: 'c1',
      version: 1,
      feature: { type: 'Feature', id: 'c1', geometry: null, properties: { title: 'Sommet × Marche', status: 'open', version: 1 } },
    });
    expect(app.root.querySelector('#tab-planning').classList.contains('flagged')).toBe(true);
    expect(app.toasts.map((t) => t.text)).toEqual(['New conflict: Sommet × Marche']);
  });

  it('shows the exercises by month beside the planned events, clashes marked', async () => {
    const planning = panel();
    const calendar = {
      exercises: [
        { id: 'x', title: 'FTX gaz', kind: 'exercise', starts_at: '2026-03-10T08:00:00Z', ends_at: '2026-03-10T16:00:00Z', participants: ['pz-5339'], objectives: 'GCC', documents: 2, clashes: [{ id: 'm', title: 'Match' }] },
      ],
      events: [{ id: 'm', title: 'Match', kind: 'sports_match', starts_at: '2026-03-10T15:00:00Z', ends_at: '2026-03-10T20:00:00Z' }],
    };
    expect(byMonth(calendar, 'en').map((m) => m.id)).toEqual(['2026-03']);
    app.api.reads['/api/calendar?year=2026'] = calendar;
    planning.view = 'calendar';
    await planning.loadCalendar();
    const exercise = app.root.querySelector('[data-exercise="x"]');
    expect(exercise.classList.contains('clash')).toBe(true);
    expect(exercise.textContent).toContain('Clashes with: Match');
    expect(exercise.textContent).toContain('2 document(s)');
    expect(app.root.querySelector('[data-event="m"]')).not.toBeNull();
  });
});
