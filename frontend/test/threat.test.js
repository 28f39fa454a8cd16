// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import { setLanguage } from '../src/i18n.js';
import { ThreatBadge, describeStanding, threatAt } from '../src/threat.js';
import { Replay } from '../src/replay.js';
import { FakeApp, Timers } from './fakes.js';

const record = (fields) => ({
  id: fields.id || 'g1',
  ref: 'THR-2026-000001',
  key: 'general',
  level: 3,
  sector: null,
  target: null,
  reason: 'Menace possible et vraisemblable',
  source_reference: 'OCAM/2026/117',
  set_at: '2026-12-07T09:00:00+00:00',
  set_by: 'coord',
  ...fields,
});
const NOW = { at: null, head: 7, general: record({}), specific: [record({ id: 's1', key: 'sector:jewish_community', sector: 'jewish_community', level: 4 })] };
const PAST = { at: '2026-09-27T10:00:00+00:00', head: 7, general: record({ id: 'g0', level: 2 }), specific: [] };
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function badge() {
  const app = new FakeApp({ store: new Store() });
  app.api.reads['/api/threat-level'] = NOW;
  app.api.reads[`/api/threat-level?at=${encodeURIComponent(PAST.at)}`] = PAST;
  const el = document.createElement('span');
  const list = document.createElement('ul');
  app.root.append(el, list);
  return { app, el, list, view: new ThreatBadge(app, el, { details: list }) };
}

afterEach(() => setLanguage('fr'));

describe('the threat level on every screen', () => {
  it('names the general level first, then each sector, in OCAM/CUTA words of the language', () => {
    setLanguage('nl');
    const lines = describeStanding(NOW);
    expect(lines.map((l) => `${l.subject}: ${l.text}`)).toEqual(['algemeen: 3 — Ernstig', 'Joodse gemeenschap: 4 — Zeer ernstig']);
  });

  it('shows what stands, and reads it again when a threat_level change arrives', async () => {
    const { app, el, list } = badge();
    await flush();
    expect(el.dataset.level).toBe('3');
    expect(el.textContent).toContain('3 — Grave');
    expect(el.textContent).toContain('+1');
    expect(el.title).toContain('OCAM/2026/117');
    expect(list.textContent).toContain('Communauté juive');
    app.api.reads['/api/threat-level'] = { ...NOW, general: record({ id: 'g2', level: 4 }), specific: [] };
    const reads = app.api.requests.length;
    app.store.applyFeature('incident', { type: 'Feature', id: 'i1', properties: { version: 1 } });
    expect(app.api.requests.length).toBe(reads); // another kind's change reads nothing
    app.store.applyFeature('threat_level', { type: 'Feature', id: 'g2', properties: { version: 1, level: 4 } });
    await flush();
    expect(el.dataset.level).toBe('4');
    expect(list.children).toHaveLength(0);
  });

  it('shows the level of a past instant, marked as the past, until back to live', async () => {
    const { app, el, view } = badge();
    await flush();
    await view.show(PAST.at);
    expect(el.dataset.level).toBe('2');
    expect(el.dataset.past).toBe('true');
    app.store.applyFeature('threat_level', { type: 'Feature', id: 'g9', properties: { version: 1 } });
    await flush();
    expect(el.dataset.level).toBe('2'); // the past does not move with the live feed
    await view.live();
    expect(el.dataset.level).toBe('3');
    expect(el.dataset.past).toBe('false');
  });

  it('reads an instant through GET /api/threat-level?at=', async () => {
    const { app } = badge();
    expect(await threatAt(PAST.at, app.api)).toEqual(PAST);
    expect(app.api.requests.at(-1).path).toBe(`/api/threat-level?at=${encodeURIComponent(PAST.at)}`);
  });

  it('follows a replay: the level at its instant, read again when a replayed record changes it, and live again when it stops', async () => {
    const T = Date.parse('2026-09-27T10:00:00Z');
    const iso = (ms) => new Date(ms).toISOString();
    const store = new Store();
    const app = new FakeApp({ store });
    const timers = new Timers();
    let clock = 0;
    app.api.getAll = async () => ({ features: [], head: 7 });
    app.replay = new Replay({ api: app.api, store, readable: (e) => e === 'threat_level', timers, now: () => clock });
    const end = T + 60 * 60000;
    const raised = { seq: 8, entity: 'threat_level', op: 'created', id: 'g3', version: 1, at: iso(T + 30 * 60000), by: 'coord', feature: { type: 'Feature', id: 'g3', geometry: null, properties: { version: 1, level: 4, exercise: false } } };
    Object.assign(app.api.reads, {
      '/api/threat-level': NOW,
      [`/api/changes/position?at=${encodeURIComponent(iso(T))}`]: { seq: 7 },
      [`/api/changes?since=7&until=${encodeURIComponent(iso(end))}&limit=500`]: { changes: [raised], next_since: 8 },
      [`/api/changes?since=8&until=${encodeURIComponent(iso(end))}&limit=500`]: { changes: [], next_since: 8 },
      [`/api/threat-level?at=${encodeURIComponent(iso(T))}`]: { ...PAST, general: null },
      [`/api/threat-level?at=${encodeURIComponent(iso(T + 10 * 60000))}`]: { ...PAST, general: null },
      [`/api/threat-level?at=${encodeURIComponent(iso(T + 30 * 60000))}`]: { ...PAST, general: record({ id: 'g3', level: 4 }) },
    });
    const el = document.createElement('span');
    app.root.append(el);
    new ThreatBadge(app, el);
    await flush();
    expect(el.dataset.level).toBe('3');
    const threatReads = () => app.api.requests.filter((r) => r.path.startsWith('/api/threat-level')).length;

    await app.replay.seek(T, { end });
    await flush();
    expect(el.dataset.level).toBe('');
    expect(el.dataset.past).toBe('true');
    expect(el.textContent).toContain('non enregistré (27/09/26 12:00)');

    // Playing without a change of level reads nothing at each tick.
    app.replay.play(60);
    const before = threatReads();
    clock += 10000;
    await timers.queue.shift().fn();
    expect(app.replay.time).toBe(T + 10 * 60000);
    expect(threatReads()).toBe(before);
    app.replay.pause();
    await flush();
    expect(threatReads()).toBe(before + 1);

    // A replayed record raises the level: the badge shows the level that stood then.
    await app.replay.step();
    await flush();
    expect(app.replay.time).toBe(T + 30 * 60000);
    expect(el.dataset.level).toBe('4');
    expect(el.dataset.past).toBe('true');

    app.replay.stop();
    await flush();
    expect(el.dataset.level).toBe('3');
    expect(el.dataset.past).toBe('false');
  });
});
