import { describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import { Replay, TICK_MS } from '../src/replay.js';
import { PictureSync } from '../src/sync.js';
import { FakeSocket, Timers } from './fakes.js';

const T0 = Date.parse('2024-09-27T04:00:00Z');
const MIN = 60000;

function feature(id, version, props = {}) {
  return { type: 'Feature', id, geometry: null, properties: { title: `${id} v${version}`, version, ...props } };
}

// A feed as the server keeps it: records in seq order, their commit times rising with seq.
function feed() {
  const records = [];
  let seq = 0;
  const add = (minutes, entity, id, op, version, props = {}) => {
    seq += 1;
    records.push({ seq, entity, id, op, version, at: new Date(T0 + minutes * MIN).toISOString(), by: 'op', feature: op === 'removed' ? null : feature(id, version, props) });
  };
  add(-30, 'zone', 'perimeter', 'created', 1, { kind: 'security_perimeter' });
  add(-10, 'incident', 'a', 'created', 1);
  add(5, 'incident', 'a', 'updated', 2, { severity: 'severe' });
  add(5, 'incident', 'b', 'created', 1);
  add(20, 'zone', 'perimeter', 'updated', 2, { kind: 'security_perimeter', title: 'élargi' });
  add(45, 'incident', 'a', 'deleted', 2);
  add(46, 'logbook_entry', 'log', 'created', 1);
  add(90, 'incident', 'c', 'created', 1);
  add(91, 'incident', 'b', 'removed', 2); // unshared from this reader: gone, nothing of it
  add(120, 'incident', 'c', 'updated', 2);
  return records;
}

// The server's answers over that feed: ?at= lists (the last record of each object at or before
// the time, unless it removed it), the position at a time, and the feed read up to a time.
class FeedApi {
  constructor(records) {
    this.records = records;
    this.requests = [];
  }
  positionAt(t) {
    return Math.max(0, ...this.records.filter((r) => Date.parse(r.at) <= t).map((r) => r.seq));
  }
  // What the server's lists hold of a record's object under `?exercise=` (absent: both).
  static shown(record, exercise) {
    return exercise == null || Boolean(record.feature?.properties?.exercise) === (exercise === 'true');
  }
  // The objects of an entity as they stand after every record up to `t` (default: all).
  standing(entity, exercise, t = Infinity) {
    const last = new Map();
    for (const r of this.records) if (r.entity === entity && Date.parse(r.at) <= t) last.set(r.id, r);
    return [...last.values()].filter((r) => r.feature && r.op !== 'deleted' && r.op !== 'removed' && FeedApi.shown(r, exercise)).map((r) => r.feature);
  }
  async get(path) {
    this.requests.push(path);
    const url = new URL(path, 'http://x');
    if (url.pathname === '/api/changes/position') return { seq: this.positionAt(Date.parse(url.searchParams.get('at'))) };
    // The map's collections as they stand, with the picture's filter (GET /api/picture).
    if (url.pathname === '/api/picture') {
      const exercise = url.searchParams.get('exercise');
      const collections = {};
      for (const [entity, path] of [['incident', 'incidents'], ['zone', 'zones']]) {
        const features = this.standing(entity, exercise);
        collections[entity] = { path, count: features.length, tiled: false, features };
      }
      return { head: this.records.length, threshold: 5000, collections };
    }
    const since = Number(url.searchParams.get('since'));
    const until = Date.parse(url.searchParams.get('until'));
    const limit = Number(url.searchParams.get('limit'));
    const read = this.records.filter((r) => r.seq > since && Date.parse(r.at) <= until).slice(0, limit);
    const end = Math.max(since, this.positionAt(until));
    return { head: this.records.length, changes: read, next_since: read.length === limit ? read.at(-1).seq : end };
  }
  async getAll(path) {
    this.requests.push(path);
    const url = new URL(path, 'http://x');
    const entity = { incidents: 'incident', zones: 'zone', logbook: 'logbook_entry' }[url.pathname.split('/')[2]];
    const at = url.searchParams.get('at');
    return { features: this.standing(entity, url.searchParams.get('exercise'), at ? Date.parse(at) : Infinity), head: this.records.length };
  }
}

const READABLE = new Set(['incident', 'zone', 'logbook_entry']);

function replayer(records = feed(), options = {}) {
  const api = new FeedApi(records);
  const store = new Store();
  const timers = new Timers();
  let clock = 0;
  const replay = new Replay({ api, store, readable: (e) => READABLE.has(e), timers, now: () => clock, page: 2, ...options });
  return { api, store, replay, timers, tick: (ms) => { clock += ms; } };
}

function picture(store) {
  const out = {};
  for (const entity of READABLE) out[entity] = Object.fromEntries([...store.all(entity)].map((f) => [f.id, f.properties.version]));
  return out;
}

const END = T0 + 180 * MIN;

// Run the timer due next and wait for what it started (a tick reads the feed).
async function due(timers) {
  const next = timers.queue.shift();
  await next.fn();
}

describe('replay', () => {
  it('gives at each instant the picture time travel gives for it', async () => {
    const instants = [0, 5, 6, 20, 45, 46, 60, 90, 91, 120, 180].map((m) => T0 + m * MIN);
    const played = replayer();
    await played.replay.seek(T0, { end: END });
    for (const t of instants) {
      await played.replay.advanceTo(t);
      const fresh = replayer();
      await fresh.replay.seek(t, { end: END });
      expect(picture(played.store), new Date(t).toISOString()).toEqual(picture(fresh.store));
    }
    expect(picture(played.store).incident).toEqual({ c: 2 });
    expect(played.replay.applied).toBe(8);
  });

  it('shows the object a reader saw, and drops it when a record says it left its sight', async () => {
    const { replay, store } = replayer();
    await replay.seek(T0 + 60 * MIN, { end: END });
    expect(store.get('incident', 'b')).not.toBeNull();
    await replay.advanceTo(T0 + 91 * MIN);
    expect(store.get('incident', 'b')).toBeNull();
    expect(store.feed.at(-1)).toMatchObject({ op: 'removed', id: 'b' });
  });

  it('steps to the next change, taking every record of the same instant', async () => {
    const { replay, store } = replayer();
    await replay.seek(T0, { end: END });
    const next = await replay.step();
    expect(next.seq).toBe(3);
    expect(replay.time).toBe(T0 + 5 * MIN);
    expect(store.get('incident', 'a').properties.version).toBe(2);
    expect(store.get('incident', 'b')).not.toBeNull();
    await replay.step();
    expect(store.get('zone', 'perimeter').properties.version).toBe(2);
  });

  it('plays forwards at its speed and stops at the end of the window', async () => {
    const { replay, timers, tick, store } = replayer();
    await replay.seek(T0, { end: T0 + 60 * MIN });
    replay.play(600);
    // 100 ms at ×600 is one minute of the replay.
    tick(TICK_MS);
    await due(timers);
    expect(replay.time).toBe(T0 + MIN);
    tick(5 * 1000);
    await due(timers);
    expect(replay.time).toBe(T0 + 51 * MIN);
    expect(store.get('incident', 'a')).toBeNull();
    expect(store.get('logbook_entry', 'log')).not.toBeNull();
    tick(10 * 1000);
    await due(timers);
    expect(replay.time).toBe(T0 + 60 * MIN);
    expect(replay.playing).toBe(false);
    expect(timers.queue).toEqual([]);
  });

  it('replays the real picture without exercise objects, and the exercise picture alone', async () => {
    const records = feed();
    const drill = (minutes, id, op, version) => {
      const seq = records.length + 1;
      records.push({ seq, entity: 'incident', id, op, version, at: new Date(T0 + minutes * MIN).toISOString(), by: 'op', feature: feature(id, version, { exercise: true }) });
    };
    drill(-5, 'drill', 'created', 1);
    drill(30, 'drill', 'updated', 2);
    drill(60, 'drill-2', 'created', 1);
    records.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).forEach((r, i) => { r.seq = i + 1; });

    const real = replayer(records);
    await real.replay.seek(T0, { end: END });
    const realReads = real.api.requests.filter((p) => p.includes('&at='));
    expect(realReads).toHaveLength(READABLE.size);
    expect(realReads.every((p) => p.endsWith('&exercise=false'))).toBe(true);
    expect(real.store.get('incident', 'drill')).toBeNull();
    await real.replay.advanceTo(END);
    expect(picture(real.store).incident).toEqual({ c: 2 });
    expect(real.store.feed.some((e) => e.id.startsWith('drill'))).toBe(false);

    let shown = 'real';
    const exercise = replayer(records, { picture: () => shown });
    shown = 'exercise';
    await exercise.replay.seek(T0, { end: END });
    const drillReads = exercise.api.requests.filter((p) => p.includes('&at='));
    expect(drillReads).toHaveLength(READABLE.size);
    expect(drillReads.every((p) => p.endsWith('&exercise=true'))).toBe(true);
    expect(picture(exercise.store).incident).toEqual({ drill: 1 });
    await exercise.replay.advanceTo(END);
    expect(picture(exercise.store).incident).toEqual({ drill: 2, 'drill-2': 1 });
  });

  it('shows the later of two seeks when the earlier answers last', async () => {
    const { replay, store, api } = replayer();
    const slow = api.get.bind(api);
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    api.get = async (path) => {
      if (path.includes('position') && path.includes(encodeURIComponent(new Date(T0).toISOString()))) await gate;
      return slow(path);
    };
    const first = replay.seek(T0, { end: END });
    await replay.seek(T0 + 120 * MIN, { end: END });
    release();
    expect(await first).toBe(false);
    expect(picture(store).incident).toEqual({ c: 2 });
    expect(replay.time).toBe(T0 + 120 * MIN);
  });
});

describe('back to live after a replay', () => {
  it('misses and doubles nothing written during the replay', async () => {
    FakeSocket.all = [];
    const records = feed();
    const api = new FeedApi(records);
    const store = new Store();
    const readable = (e) => e === 'incident' || e === 'zone' || e === 'changes';
    const sync = new PictureSync({ api, store, readable, url: 'ws://t/ws', live: { WebSocketImpl: FakeSocket, timers: new Timers(), now: () => 0, jitter: () => 1 }, now: () => 0, win: {} });
    await sync.loadSnapshot();
    sync.start();
    FakeSocket.all[0].open();
    const replay = new Replay({ api, store, readable, timers: new Timers(), now: () => 0 });
    sync.pause();
    await replay.seek(T0, { end: END });

    // Written while the replay is shown: one before the live lists are read, one after.
    const write = (id) => {
      const seq = records.length + 1;
      records.push({ seq, entity: 'incident', id, op: 'created', version: 1, at: new Date(END + seq * MIN).toISOString(), by: 'op', feature: feature(id, 1) });
      return { type: 'change', ...records.at(-1) };
    };
    const during = write('during');
    replay.stop();
    await sync.resumeLive();
    const after = write('after');
    const socket = FakeSocket.all.at(-1);
    socket.open();
    expect(socket.sent[0]).toMatchObject({ type: 'hello', since: records.length - 1 });
    // The stream replays from the snapshot's head; a record also in the snapshot is dropped.
    socket.receive({ type: 'welcome', head: records.length }, during, after, after);
    expect(store.get('incident', 'during')).not.toBeNull();
    expect(store.get('incident', 'after')).not.toBeNull();
    expect(store.get('incident', 'a')).toBeNull();
    const seqs = store.feed.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.filter((s) => s === after.seq)).toHaveLength(1);
    expect(store.seq).toBe(after.seq);
    sync.stop();
  });
});
