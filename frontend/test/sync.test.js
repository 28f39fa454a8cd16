import { describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import { PictureSync } from '../src/sync.js';
import { FakeSocket, Timers } from './fakes.js';

function feature(id, version, title = id) {
  return { type: 'Feature', id, geometry: null, properties: { title, version } };
}

function change(seq, id, version, op = 'updated') {
  return { type: 'change', seq, entity: 'incident', op, id, version, at: '2026-12-07T10:00:00Z', by: 'op', feature: feature(id, version, `${id} v${version}`) };
}

// A REST client whose list answers wait until the test releases them.
class FakeApi {
  constructor() {
    this.token = 'tok';
    this.pending = [];
    this.lists = 0;
  }
  getAll(path) {
    this.lists += 1;
    return new Promise((resolve) => this.pending.push({ path, resolve }));
  }
  answer(features, head) {
    for (const p of this.pending.splice(0)) {
      if (p.path.startsWith('/api/picture?')) p.resolve({ head, collections: { incident: { path: 'incidents', count: features.length, tiled: false, features } } });
      else p.resolve({ features: [], head });
    }
  }
  get(path) {
    if (path.startsWith('/api/picture')) return this.getAll(path);
    return Promise.resolve({ changes: [] });
  }
  async refresh() {}
}

function setup() {
  FakeSocket.all = [];
  const api = new FakeApi();
  const store = new Store();
  const events = [];
  const sync = new PictureSync({
    api,
    store,
    readable: (entity) => entity === 'incident' || entity === 'changes',
    url: 'ws://test/ws',
    on: { reloading: () => events.push('reloading'), reloaded: () => events.push('reloaded'), welcome: (m, { again }) => events.push(again ? 'welcome-again' : 'welcome') },
    live: { WebSocketImpl: FakeSocket, timers: new Timers(), now: () => 0, jitter: () => 1 },
    now: () => 0,
    win: {},
  });
  return { api, store, sync, events };
}

describe('picture sync', () => {
  it('holds back changes that arrive while a snapshot is read, then applies the newer ones', async () => {
    const { api, store, sync } = setup();
    const loading = sync.loadSnapshot();
    sync.receive(change(11, 'a', 3));
    sync.receive(change(12, 'b', 1, 'created'));
    expect(store.get('incident', 'a')).toBeNull();
    api.answer([feature('a', 2)], 10);
    await loading;
    expect(store.get('incident', 'a').properties.version).toBe(3);
    expect(store.get('incident', 'b').properties.version).toBe(1);
    expect(store.seq).toBe(12);
    expect(sync.buffer).toEqual([]);
  });

  it('shows the real picture by default and the exercise picture on its own', async () => {
    const { api, store, sync, events } = setup();
    const drill = (seq, id) => {
      const c = change(seq, id, 1, 'created');
      c.feature.properties.exercise = true;
      return c;
    };
    const real = sync.loadSnapshot();
    // The map's collections (one request) and any other list, each read with the picture's filter.
    expect(api.pending.map((p) => p.path)).toContain('/api/picture?exercise=false');
    expect(api.pending.every((p) => /[?&]exercise=false$/.test(p.path))).toBe(true);
    api.answer([feature('a', 1)], 10);
    await real;
    sync.receive(drill(11, 'x'));
    sync.receive(change(12, 'b', 1, 'created'));
    expect(store.get('incident', 'x')).toBeNull();
    expect(store.get('incident', 'b')).not.toBeNull();

    const exercise = sync.setPicture('exercise');
    expect(api.pending.map((p) => p.path)).toContain('/api/picture?exercise=true');
    expect(api.pending.every((p) => /[?&]exercise=true$/.test(p.path))).toBe(true);
    const x = drill(11, 'x').feature;
    api.answer([x], 12);
    await exercise;
    expect(events.slice(-2)).toEqual(['reloading', 'reloaded']);
    expect(store.get('incident', 'a')).toBeNull();
    expect(store.get('incident', 'x')).not.toBeNull();
    sync.receive(change(13, 'c', 1, 'created'));
    sync.receive(drill(14, 'y'));
    expect(store.get('incident', 'c')).toBeNull();
    expect(store.get('incident', 'y')).not.toBeNull();
  });

  it('drops changes of entities the user may not read', () => {
    const { store, sync } = setup();
    sync.receive({ ...change(5, 'z', 1, 'created'), entity: 'logbook_entry' });
    expect(store.seq).toBe(0);
    expect(store.count('logbook_entry')).toBe(0);
  });

  it("resumes from the stream's position when a filter kept changes out", async () => {
    const { api, sync } = setup();
    const loading = sync.loadSnapshot();
    api.answer([], 10);
    await loading;
    sync.start();
    FakeSocket.all[0].open();
    expect(FakeSocket.all[0].sent[0].since).toBe(10);
    FakeSocket.all[0].receive({ type: 'welcome', head: 10 }, { type: 'live', seq: 10 });
    FakeSocket.all[0].receive({ type: 'ping', seq: 57 });
    FakeSocket.all[0].close(4009, 'no pong in time');
    sync.live.reconnectNow();
    FakeSocket.all.at(-1).open();
    expect(FakeSocket.all.at(-1).sent[0].since).toBe(57);
    expect(sync.position()).toBe(57);
  });

  it('starts the feed list at the oldest kept change when older ones were pruned', async () => {
    const { api, store, sync } = setup();
    const asked = [];
    api.get = async (path) => {
      asked.push(path);
      return path.includes('since=100') ? { reset: true, oldest: 150, changes: [] } : { changes: [change(150, 'a', 2), change(151, 'a', 3)] };
    };
    store.seq = 200;
    await sync.seedFeed();
    expect(asked).toEqual(['/api/changes?since=100&limit=100', '/api/changes?since=149&limit=100']);
    expect(store.feed.map((e) => e.seq)).toEqual([150, 151]);
  });

  it('reloads the snapshot on reset, once at a time, and resumes after its head', async () => {
    const { api, store, sync, events } = setup();
    const first = sync.loadSnapshot();
    api.answer([feature('a', 1)], 10);
    await first;
    sync.start();
    const ws = FakeSocket.all[0];
    ws.open();
    ws.receive({ type: 'welcome', head: 10 });
    ws.receive({ type: 'reset', head: 90 });
    ws.receive({ type: 'reset', head: 90 });
    expect(api.lists).toBe(2);
    expect(events).toEqual(['welcome', 'reloading']);
    ws.receive(change(91, 'a', 5));
    api.answer([feature('a', 4), feature('c', 1)], 90);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(events).toEqual(['welcome', 'reloading', 'reloaded']);
    expect(store.get('incident', 'a').properties.version).toBe(5);
    expect(store.get('incident', 'c')).not.toBeNull();
    expect(sync.position()).toBe(91);
    ws.close(1012);
    sync.live.reconnectNow();
    FakeSocket.all.at(-1).open();
    expect(FakeSocket.all.at(-1).sent[0].since).toBe(91);
    FakeSocket.all.at(-1).receive({ type: 'welcome', head: 91 });
    expect(events.at(-1)).toBe('welcome-again');
  });

  it('reads a kind the server does not serve yet as empty, without an error, and fails on any other error', async () => {
    const store = new Store();
    const asked = [];
    const answers = { tasks: 404, decisions: 404 };
    const api = {
      async get(path) {
        asked.push(path);
        return { head: 9, collections: { incident: { tiled: false, features: [] } } };
      },
      async getAll(path) {
        const name = path.slice('/api/'.length).split('?')[0];
        asked.push(name);
        if (answers[name]) throw Object.assign(new Error('no'), { status: answers[name] });
        return { features: name === 'positions' ? [feature('p1', 1)] : [], head: 7 };
      },
    };
    const readable = (e) => ['position', 'task', 'decision', 'incident'].includes(e);
    const sync = new PictureSync({ api, store, readable, win: {} });
    await sync.loadSnapshot();
    expect(asked.sort()).toEqual(['/api/picture?exercise=false', 'decisions', 'positions', 'tasks']);
    expect(store.count('position')).toBe(1);
    expect(store.count('task')).toBe(0);
    // The missing kinds do not hold the resume position back.
    expect(store.seq).toBe(7);
    answers.tasks = 500;
    await expect(sync.loadSnapshot()).rejects.toMatchObject({ status: 500 });
  });

  it("reads the map's collections in one answer, a big one as compact rows marked as such", async () => {
    const store = new Store();
    const api = {
      async get() {
        return {
          head: 12,
          collections: {
            incident: { tiled: true, count: 1, fields: ['id', 'ref', 'version', 'title', 'severity', 'geometry'], rows: [['i1', 'INC-1', 3, 'Feu', 'severe', { type: 'Point', coordinates: [4.35, 50.85] }]] },
            zone: { tiled: false, count: 1, features: [{ type: 'Feature', id: 'z1', geometry: null, properties: { version: 1, kind: 'hotspot' } }] },
          },
        };
      },
      async getAll() {
        return { features: [], head: 20 };
      },
    };
    const sync = new PictureSync({ api, store, readable: (e) => ['incident', 'zone', 'position'].includes(e), win: {} });
    await sync.loadSnapshot();
    const incident = store.get('incident', 'i1');
    expect(incident.properties).toEqual({ entity: 'incident', ref: 'INC-1', version: 3, title: 'Feu', severity: 'severe' });
    expect(incident.geometry.coordinates).toEqual([4.35, 50.85]);
    expect(incident._compact).toBe(true);
    expect(store.get('zone', 'z1')._compact).toBeUndefined();
    expect([...store.tiled]).toEqual(['incident']);
    expect(store.seq).toBe(12);
    // Opened, it is read whole: the same version replaces the compact state.
    expect(store.complete('incident', { type: 'Feature', id: 'i1', geometry: null, properties: { version: 3, title: 'Feu', description: 'long' } })).toBe(true);
    expect(store.get('incident', 'i1')._compact).toBeUndefined();
    expect(store.complete('incident', { type: 'Feature', id: 'i1', geometry: null, properties: { version: 2 } })).toBe(false);
  });
});
