// The picture in the browser: every object by entity and id, the feed position (`seq`) it has
// reached, and a bounded list of recent changes. Pure state, no DOM: the panels and the map
// subscribe to it. Changes are idempotent: a record seen twice, or older than what is held
// (by its version), changes nothing, so a replay after a reconnect or a snapshot read at a
// later head can be applied without care for order.
import { Emitter } from './emitter.js';

export const FEED_LIMIT = 500;

const REMOVING = new Set(['deleted', 'removed']);

export function keyOf(entity, id) {
  return `${entity}:${id}`;
}

export function versionOf(feature) {
  return feature?.properties?.version ?? 0;
}

/** Names of the properties that differ between two states of an object (geometry included). */
export function changedFields(before, after) {
  if (!before || !after) return [];
  const a = before.properties || {};
  const b = after.properties || {};
  const skip = new Set(['version', 'updated_at', 'updated_by']);
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out = [];
  for (const name of names) {
    if (skip.has(name)) continue;
    if (JSON.stringify(a[name]) !== JSON.stringify(b[name])) out.push(name);
  }
  if (JSON.stringify(before.geometry) !== JSON.stringify(after.geometry)) out.push('geometry');
  return out;
}

export class Store extends Emitter {
  constructor({ feedLimit = FEED_LIMIT } = {}) {
    super();
    this.feedLimit = feedLimit;
    this.objects = new Map();
    this.byEntity = new Map();
    // Versions of deleted objects, so that a late update never brings one back.
    this.tombstones = new Map();
    this.seq = 0;
    this.feed = [];
    // Entities the map draws from vector tiles (their first load was compact rows).
    this.tiled = new Set();
  }

  get(entity, id) {
    return this.objects.get(keyOf(entity, id)) || null;
  }

  all(entity) {
    return this.byEntity.get(entity)?.values() || [].values();
  }

  count(entity) {
    return this.byEntity.get(entity)?.size || 0;
  }

  _put(entity, feature) {
    const key = keyOf(entity, feature.id);
    this.objects.set(key, feature);
    let bucket = this.byEntity.get(entity);
    if (!bucket) this.byEntity.set(entity, (bucket = new Map()));
    bucket.set(feature.id, feature);
  }

  _drop(entity, id) {
    this.objects.delete(keyOf(entity, id));
    this.byEntity.get(entity)?.delete(id);
  }

  /**
   * Replace the objects of the given entities with a snapshot read at feed position `head`.
   * An object held at a newer version than the snapshot's (a change that arrived while the
   * snapshot was read) is kept; an object missing from the snapshot is dropped unless a change
   * after `head` brought it.
   */
  loadSnapshot(snapshot, head) {
    for (const [entity, features] of Object.entries(snapshot)) {
      const fresh = new Map(features.map((f) => [f.id, f]));
      for (const [id, held] of this.byEntity.get(entity) || []) {
        if (!fresh.has(id) && !(held._seq > head)) this._drop(entity, id);
      }
      for (const feature of features) {
        const key = keyOf(entity, feature.id);
        const held = this.objects.get(key);
        if (held && versionOf(held) > versionOf(feature)) continue;
        const tomb = this.tombstones.get(key);
        if (tomb != null && tomb >= versionOf(feature)) continue;
        this._put(entity, feature);
      }
    }
    // Records up to `head` are in the snapshot; the stream resumes after it.
    this.seq = head;
    this.emit({ type: 'snapshot', entities: Object.keys(snapshot) });
  }

  /**
   * Replace the whole picture with a snapshot read at feed position `head`, keeping nothing held:
   * a replay's picture at a past instant, or the live picture read again after one. (Unlike
   * loadSnapshot, an object held at a newer version is dropped too: the past has older ones.)
   */
  reset(snapshot = {}, head = 0) {
    const entities = new Set([...this.byEntity.keys(), ...Object.keys(snapshot)]);
    this.objects.clear();
    this.byEntity.clear();
    this.tombstones.clear();
    this.feed = [];
    this.seq = 0;
    this.loadSnapshot(Object.fromEntries([...entities].map((e) => [e, snapshot[e] || []])), head);
    this.emit({ type: 'feed' });
  }

  /**
   * Take an object read whole (the detail panel opening one held compact): it replaces the
   * held state of the same or an older version, and is no change of the picture.
   */
  complete(entity, feature) {
    const held = this.get(entity, feature.id);
    if (!held || versionOf(held) > versionOf(feature)) return false;
    this._put(entity, feature);
    this.emit({ type: 'completed', entity, id: feature.id, feature });
    return true;
  }

  /** Start the feed list from records read by REST (GET /api/changes), oldest first. */
  seedFeed(changes) {
    const last = new Map();
    for (const change of changes) {
      if (this.feed.some((e) => e.seq === change.seq)) continue;
      const key = keyOf(change.entity, change.id);
      const entry = this._entry(change, last.get(key) || null);
      last.set(key, change.feature);
      this._push(entry);
    }
    this.feed.sort((a, b) => a.seq - b.seq);
    this.emit({ type: 'feed' });
  }

  _entry(change, previous) {
    return {
      seq: change.seq,
      entity: change.entity,
      op: change.op,
      id: change.id,
      version: change.version,
      at: change.at,
      by: change.by,
      feature: change.feature,
      arrivedAt: change.arrivedAt ?? null,
      changed: change.op === 'updated' ? changedFields(previous, change.feature) : [],
      previous: change.op === 'updated' ? previous : null,
    };
  }

  _push(entry) {
    this.feed.push(entry);
    if (this.feed.length > this.feedLimit) this.feed.splice(0, this.feed.length - this.feedLimit);
  }

  /**
   * Apply one change record ({seq, entity, op, id, version, at, by, feature}). Answers
   * 'applied', 'stale' (recorded in the feed but older than the object held) or 'duplicate'
   * (already seen: nothing happens).
   */
  applyChange(change) {
    if (change.seq != null && change.seq <= this.seq) return 'duplicate';
    if (change.seq != null) this.seq = change.seq;
    const { entity, id } = change;
    const key = keyOf(entity, id);
    const held = this.objects.get(key) || null;
    const version = change.version ?? versionOf(change.feature);
    const entry = this._entry(change, held);
    this._push(entry);

    let outcome = 'applied';
    if (REMOVING.has(change.op)) {
      if (held && versionOf(held) > version) outcome = 'stale';
      else {
        if (change.op === 'deleted') this.tombstones.set(key, version);
        if (held) this._drop(entity, id);
      }
    } else {
      const tomb = this.tombstones.get(key);
      if ((tomb != null && tomb >= version) || (held && versionOf(held) >= version)) outcome = 'stale';
      else {
        const feature = { ...change.feature, id };
        Object.defineProperty(feature, '_seq', { value: change.seq, enumerable: false });
        this._put(entity, feature);
      }
    }
    this.emit({
      type: 'change',
      outcome,
      entry,
      entity,
      id,
      op: change.op,
      feature: outcome === 'applied' && !REMOVING.has(change.op) ? this.objects.get(key) : null,
      previous: held,
    });
    return outcome;
  }

  /**
   * Take an object as a write answered it (201/200 of POST or PATCH), ahead of its change
   * record: the writer sees its own change at once. Older versions are ignored.
   */
  applyFeature(entity, feature) {
    const key = keyOf(entity, feature.id);
    const held = this.objects.get(key) || null;
    const tomb = this.tombstones.get(key);
    if ((held && versionOf(held) >= versionOf(feature)) || (tomb != null && tomb >= versionOf(feature))) return false;
    this._put(entity, feature);
    this.emit({ type: 'change', outcome: 'applied', entry: null, entity, id: feature.id, op: held ? 'updated' : 'created', feature, previous: held });
    return true;
  }

  /** The last `n` feed entries that pass `predicate`, newest first. */
  recent(predicate = () => true, n = this.feedLimit) {
    const out = [];
    for (let i = this.feed.length - 1; i >= 0 && out.length < n; i -= 1) {
      if (predicate(this.feed[i])) out.push(this.feed[i]);
    }
    return out;
  }
}
