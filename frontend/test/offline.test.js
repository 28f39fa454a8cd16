import { describe, expect, it } from 'vitest';
import { FEED_KEPT, LastPicture, SWEEP_MS, pictureRecord, restorePicture, staleSince } from '../src/offline.js';
import { clearScopedCaches, keptCache } from '../src/pwa.js';
import { Store } from '../src/store.js';

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

class MemoryRecords {
  constructor() {
    this.map = new Map();
  }
  async get(id) {
    return this.map.get(id);
  }
  async set(id, value) {
    this.map.set(id, value);
  }
  async del(id) {
    this.map.delete(id);
  }
  async clear() {
    this.map.clear();
  }
  async entries() {
    return [...this.map.entries()];
  }
}

const feature = (id, version, extra = {}) => ({ type: 'Feature', id, geometry: { type: 'Point', coordinates: [4.35, 50.85] }, properties: { title: `n${id}`, version, ...extra } });

function pictureOf() {
  const store = new Store();
  store.loadSnapshot({ incident: [feature(1, 1), feature(2, 3)], perimeter: [] }, 40);
  store.applyChange({ seq: 41, entity: 'incident', op: 'updated', id: 1, version: 2, at: '2026-12-07T20:00:00Z', by: 'op', feature: feature(1, 2, { title: 'moved' }) });
  return store;
}

describe('the kept picture', () => {
  it('restores the objects, the position and the feed list as they were', () => {
    const store = pictureOf();
    const sync = { position: () => 45 };
    const record = JSON.parse(JSON.stringify(pictureRecord({ store, sync, me: { role: 'op' }, currentAt: 1000 })));
    const again = new Store();
    const sync2 = { streamPosition: null };
    restorePicture(record, { store: again, sync: sync2 });
    expect(again.seq).toBe(41);
    expect(sync2.streamPosition).toBe(45);
    expect(again.get('incident', 1).properties.title).toBe('moved');
    expect(again.count('incident')).toBe(2);
    expect(again.feed.map((e) => e.seq)).toEqual([41]);
    // A change the stream replays after the restore is not applied twice.
    expect(again.applyChange({ seq: 41, entity: 'incident', op: 'updated', id: 1, version: 2, feature: feature(1, 2) })).toBe('duplicate');
    expect(again.applyChange({ seq: 46, entity: 'incident', op: 'deleted', id: 2, version: 4 })).toBe('applied');
  });

  it('keeps only the last feed entries', () => {
    const store = new Store();
    for (let seq = 1; seq <= FEED_KEPT + 20; seq += 1) store.applyChange({ seq, entity: 'incident', op: 'created', id: seq, version: 1, feature: feature(seq, 1) });
    const record = pictureRecord({ store, sync: { position: () => store.seq }, me: {}, currentAt: 0 });
    expect(record.feed).toHaveLength(FEED_KEPT);
    expect(record.feed.at(-1).seq).toBe(FEED_KEPT + 20);
  });

  it('marks a tiled collection compact again', () => {
    const store = new Store();
    store.tiled.add('incident');
    store.loadSnapshot({ incident: [feature(1, 1)] }, 3);
    const record = JSON.parse(JSON.stringify(pictureRecord({ store, sync: { position: () => 3 }, me: {}, currentAt: 0 })));
    const again = new Store();
    restorePicture(record, { store: again, sync: {} });
    expect(again.tiled.has('incident')).toBe(true);
    expect(again.get('incident', 1)._compact).toBe(true);
  });
});

describe('staleSince', () => {
  it('is null while live and in a replay', () => {
    expect(staleSince(500, { status: 'live', offlineSince: null })).toBeNull();
    expect(staleSince(500, { status: 'replay', offlineSince: null })).toBeNull();
  });
  it('starts when the stream is lost for good, or the network is gone', () => {
    expect(staleSince(null, { status: 'offline', offlineSince: 700 })).toBe(700);
    expect(staleSince(null, { status: 'reconnecting', offlineSince: 700 }, false)).toBe(700);
    // A short reconnection with the network up: the header says it, the picture is not stale.
    expect(staleSince(null, { status: 'reconnecting', offlineSince: 700 }, true)).toBeNull();
  });
  it('keeps the restored picture stale until the stream is live', () => {
    expect(staleSince(100, { status: 'connecting', offlineSince: null })).toBe(100);
    expect(staleSince(100, { status: 'catching_up', offlineSince: null })).toBe(100);
    expect(staleSince(100, { status: 'offline', offlineSince: 900 })).toBe(100);
  });
});

describe('LastPicture', () => {
  const make = (over = {}) => new LastPicture({ storage: new MemoryStorage(), records: new MemoryRecords(), crypto: globalThis.crypto, ...over });

  it('keeps a record only it can read back, encrypted', async () => {
    const keep = make();
    expect(keep.available).toBe(true);
    await keep.save({ me: { name: 'Partner SPOC' }, seq: 7 });
    expect(await keep.load()).toEqual({ me: { name: 'Partner SPOC' }, seq: 7 });
    const [[, held]] = await keep.records.entries();
    expect(new TextDecoder().decode(held.data)).not.toContain('Partner SPOC');
  });

  it('cannot read it once the session (its storage) is gone', async () => {
    const records = new MemoryRecords();
    await make({ records }).save({ seq: 1 });
    // Another tab, or this one after it closed: its own session storage, no key.
    expect(await make({ records }).load()).toBeNull();
  });

  it('forgets everything at logout and writes nothing for a save in flight', async () => {
    const storage = new MemoryStorage();
    const records = new MemoryRecords();
    const keep = make({ storage, records });
    await keep.save({ seq: 1 });
    const late = keep.save({ seq: 2 });
    await keep.clear();
    await late;
    expect(records.map.size).toBe(0);
    expect(storage.items.size).toBe(0);
    expect(await keep.load()).toBeNull();
  });

  it("sweeps other sessions' records once old, never its own", async () => {
    let now = 0;
    const records = new MemoryRecords();
    const other = make({ records, now: () => now });
    await other.save({ seq: 1 });
    const mine = make({ records, now: () => now });
    await mine.save({ seq: 2 });
    now = SWEEP_MS - 1;
    expect(await mine.sweep()).toBe(0);
    now = SWEEP_MS + 1;
    expect(await mine.sweep()).toBe(1);
    expect(await mine.load()).toEqual({ seq: 2 });
  });

  it('is not available without IndexedDB or WebCrypto', async () => {
    expect(make({ records: null }).available).toBe(false);
    expect(make({ crypto: {} }).available).toBe(false);
    expect(await make({ records: null }).save({})).toBe(false);
  });
});

describe('the caches a session end keeps', () => {
  it('keeps the shell and the public reference layers only', async () => {
    const names = ['workbox-precache-v2-http://127.0.0.1/', 'sitcen-reference-v1', 'sitcen-session', 'other'];
    expect(names.filter(keptCache)).toEqual(names.slice(0, 2));
    const deleted = [];
    const cacheStorage = { keys: async () => names, delete: async (n) => deleted.push(n) };
    expect(await clearScopedCaches(cacheStorage)).toEqual(['sitcen-session', 'other']);
    expect(deleted).toEqual(['sitcen-session', 'other']);
  });
});
