import { describe, expect, it } from 'vitest';
import { Store, FEED_LIMIT } from '../src/store.js';
import { conflictRows, edits, resolve } from '../src/conflict.js';

const feature = (id, version, props = {}) => ({
  type: 'Feature',
  id,
  geometry: { type: 'Point', coordinates: [4.35, 50.85] },
  properties: { version, title: `t${version}`, severity: 'minor', ...props },
});
const change = (seq, op, id, version, props) => ({
  seq, entity: 'incident', op, id, version, at: '2026-01-01T10:00:00+01:00', by: 'op', feature: feature(id, version, props),
});

describe('applying changes', () => {
  it('creates, updates and deletes objects and records each change once in the feed', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [] }, 10);
    expect(store.applyChange(change(11, 'created', 'a', 1))).toBe('applied');
    expect(store.applyChange(change(12, 'updated', 'a', 2, { severity: 'severe' }))).toBe('applied');
    expect(store.get('incident', 'a').properties.severity).toBe('severe');
    expect(store.feed.at(-1).changed).toContain('severity');
    expect(store.applyChange(change(13, 'deleted', 'a', 3))).toBe('applied');
    expect(store.get('incident', 'a')).toBeNull();
    expect(store.count('incident')).toBe(0);
    expect(store.seq).toBe(13);
    expect(store.feed.map((e) => e.seq)).toEqual([11, 12, 13]);
  });

  it('ignores a record seen twice (a replay overlapping what was received)', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [] }, 0);
    store.applyChange(change(1, 'created', 'a', 1));
    store.applyChange(change(2, 'updated', 'a', 2));
    expect(store.applyChange(change(2, 'updated', 'a', 2))).toBe('duplicate');
    expect(store.applyChange(change(1, 'created', 'a', 1))).toBe('duplicate');
    expect(store.get('incident', 'a').properties.version).toBe(2);
    expect(store.feed).toHaveLength(2);
  });

  it('never replaces an object with an older version', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [feature('a', 5)] }, 20);
    // A record read at a lower head than another list (min head is the resume point).
    expect(store.applyChange(change(21, 'updated', 'a', 4))).toBe('stale');
    expect(store.get('incident', 'a').properties.version).toBe(5);
    expect(store.applyChange(change(22, 'updated', 'a', 6))).toBe('applied');
    expect(store.get('incident', 'a').properties.version).toBe(6);
  });

  it('does not bring a deleted object back with a late update', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [feature('a', 1)] }, 1);
    store.applyChange(change(2, 'deleted', 'a', 3));
    store.applyFeature('incident', feature('a', 2));
    expect(store.get('incident', 'a')).toBeNull();
    expect(store.applyChange(change(3, 'removed', 'b', 1))).toBe('applied');
  });

  it("takes a write's answer ahead of its change record, without a second update", () => {
    const store = new Store();
    const events = [];
    store.subscribe((e) => events.push(e));
    store.loadSnapshot({ incident: [] }, 0);
    expect(store.applyFeature('incident', feature('a', 1))).toBe(true);
    expect(store.applyChange(change(1, 'created', 'a', 1))).toBe('stale');
    expect(events.filter((e) => e.type === 'change' && e.outcome === 'applied')).toHaveLength(1);
    expect(store.feed).toHaveLength(1);
  });

  it('keeps the feed bounded', () => {
    const store = new Store({ feedLimit: 5 });
    store.loadSnapshot({ incident: [] }, 0);
    for (let i = 1; i <= 12; i += 1) store.applyChange(change(i, 'created', `x${i}`, 1));
    expect(store.feed.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(FEED_LIMIT).toBeGreaterThanOrEqual(100);
  });
});

describe('resume', () => {
  it('resumes after the snapshot head, and a reset snapshot keeps newer objects', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [feature('a', 1), feature('b', 1)] }, 40);
    expect(store.seq).toBe(40);
    store.applyChange(change(41, 'updated', 'a', 2));
    store.applyChange(change(42, 'created', 'c', 1));
    expect(store.seq).toBe(42);
    // Reset: a new snapshot read at head 45 where b is gone and a moved on; a record that
    // arrived while it was read (c at v2, seq 46) must survive the reload.
    store.applyChange(change(46, 'updated', 'c', 2));
    store.loadSnapshot({ incident: [feature('a', 3), feature('c', 1)] }, 45);
    expect(store.get('incident', 'b')).toBeNull();
    expect(store.get('incident', 'a').properties.version).toBe(3);
    expect(store.get('incident', 'c').properties.version).toBe(2);
    expect(store.seq).toBe(45);
    // The stream resumes after 45: a replayed 46 is applied idempotently.
    expect(store.applyChange(change(46, 'updated', 'c', 2))).toBe('stale');
    expect(store.applyChange(change(47, 'updated', 'c', 3))).toBe('applied');
  });

  it('seeds the feed from the REST change list with what each update changed', () => {
    const store = new Store();
    store.loadSnapshot({ incident: [] }, 3);
    store.seedFeed([change(1, 'created', 'a', 1), change(2, 'updated', 'a', 2, { severity: 'extreme' }), change(3, 'created', 'b', 1)]);
    expect(store.feed.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.feed[1].changed).toEqual(expect.arrayContaining(['severity', 'title']));
    expect(store.recent((e) => e.id === 'a').map((e) => e.seq)).toEqual([2, 1]);
  });
});

describe('conflict', () => {
  const base = feature('a', 3, { status: 'reported', severity: 'moderate', place: 'Rue Haute' });
  const theirs = feature('a', 4, { status: 'confirmed', severity: 'moderate', place: 'Rue Haute 12', updated_by: 'coord' });

  it("lays out both sides' changes and marks the fields both changed differently", () => {
    const mine = edits(base, { status: 'reported', severity: 'severe', place: 'Rue Blaes' });
    expect(mine).toEqual({ severity: 'severe', place: 'Rue Blaes' });
    const rows = Object.fromEntries(conflictRows(base, mine, theirs).map((r) => [r.field, r]));
    expect(rows.severity).toMatchObject({ mine: 'severe', theirs: 'moderate', mineChanged: true, theirsChanged: false, clash: false });
    expect(rows.place).toMatchObject({ mine: 'Rue Blaes', theirs: 'Rue Haute 12', clash: true });
    expect(rows.status).toMatchObject({ mine: 'reported', theirs: 'confirmed', mineChanged: false, theirsChanged: true });
    expect(rows.version).toBeUndefined();
  });

  it('applies the chosen side on top of the current version, with its version as If-Match', () => {
    const mine = { severity: 'severe', place: 'Rue Blaes' };
    expect(resolve(mine, theirs)).toEqual({ ifMatch: 4, patch: { severity: 'severe', place: 'Rue Blaes' } });
    expect(resolve(mine, theirs, { place: 'theirs' })).toEqual({ ifMatch: 4, patch: { severity: 'severe' } });
    expect(resolve({ place: 'Rue Haute 12' }, theirs).patch).toEqual({});
  });
});
