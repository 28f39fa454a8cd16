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
    for (const p of this.pending.splice(0)) p.resolve({ features: p.path.startsWith('/api/incidents') ? features : [], head });
  }
  async get() {
    return { changes: [] };
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
});
