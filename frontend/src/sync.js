// The browser's side of the change feed: the counterpart of the server's replay
// (docs/realtime.md §7). It owns the snapshot, the resume position, the changes held back while
// a snapshot is read, and the reload a `reset` asks for. The store holds the picture and drops
// what it has seen; LiveClient speaks the protocol; this decides what reaches the store, when.
import { LiveClient, streamUrl } from './live.js';
import { COLLECTIONS, MAP_ENTITIES } from './model.js';

// How many recent changes the feed list starts with.
export const FEED_SEED = 100;

/**
 * Features of a collection's compact rows (a big collection's first load: only what the map's
 * legend, the lists and the search read). They are marked `_compact`: the detail panel reads
 * an object whole when it opens it.
 */
export function compactFeatures(entity, fields, rows) {
  const at = Object.fromEntries(fields.map((name, i) => [name, i]));
  return rows.map((row) => {
    const properties = { entity };
    for (const name of fields) if (name !== 'id' && name !== 'geometry') properties[name] = row[at[name]];
    const feature = { type: 'Feature', id: row[at.id], geometry: row[at.geometry], properties };
    Object.defineProperty(feature, '_compact', { value: true, enumerable: false });
    return feature;
  });
}

export class PictureSync {
  /**
   * @param api        the REST client (getAll, get, token, refresh)
   * @param store      the picture (Store)
   * @param readable   entity → whether this user may read it
   * @param on         callbacks: status, alert, welcome (again: true after a reconnection),
   *                   reloading, reloaded, error, picture (the picture shown changed: what
   *                   else reads it, the map's tiles, reads again) (each optional)
   */
  constructor({ api, store, readable, on = {}, url = null, LiveClientImpl = LiveClient, live = {}, now = () => performance.now(), win = globalThis }) {
    this.api = api;
    this.store = store;
    this.readable = readable;
    this.on = on;
    this.url = url;
    this.LiveClientImpl = LiveClientImpl;
    this.liveOptions = live;
    this.now = now;
    this.win = win;
    this.live = null;
    // The highest seq the stream has vouched for without a change the store applied (`live`,
    // pings, `subscribed`, a reset's head): a filter may keep changes out, and resuming from
    // the store's seq alone would replay them again (docs/realtime.md §7).
    this.streamPosition = null;
    this.reloading = false;
    this.buffer = [];
    this.welcomed = false;
    // Which picture is shown (docs/replay-and-exercises.md "Exercises"): the real one, which
    // holds no exercise object, or the exercise picture, which holds only them.
    this.picture = 'real';
    this._online = () => this.live?.reconnectNow();
  }

  /** The lists' `exercise` filter of the picture shown: 'true' or 'false'. */
  get exercise() {
    return String(this.picture === 'exercise');
  }

  /**
   * Whether an object belongs to the picture shown: exercise objects to the exercise one only.
   * The national threat level stands over both: a real setting shows in the exercise picture too.
   */
  inPicture(feature, entity = null) {
    const exercise = Boolean(feature?.properties?.exercise);
    if (entity === 'threat_level' && !exercise) return true;
    return exercise === (this.picture === 'exercise');
  }

  /** Show the real picture ('real') or the exercise picture ('exercise'): read again, filtered. */
  async setPicture(picture) {
    if (picture === this.picture) return;
    this.picture = picture;
    this.on.picture?.(picture);
    this.on.reloading?.();
    await this.loadSnapshot();
    this.on.reloaded?.();
  }

  /** Where the stream resumes: the later of what the store holds and what the stream vouched for. */
  position() {
    const held = this.store.seq;
    return this.streamPosition == null ? held : Math.max(held, this.streamPosition);
  }

  _advance(seq) {
    if (typeof seq === 'number' && (this.streamPosition == null || seq > this.streamPosition)) this.streamPosition = seq;
  }

  /**
   * Read every readable collection (all pages) and replace the store's picture with it. Changes
   * arriving meanwhile are held back, then applied on top: the store keeps whichever version is
   * newer, so neither order loses one.
   */
  async loadSnapshot() {
    this.reloading = true;
    this.buffer = [];
    try {
      // The map's collections in one answer (GET /api/picture), the others list by list, all
      // at once.
      const entities = Object.keys(COLLECTIONS).filter((e) => this.readable(e) && !MAP_ENTITIES.includes(e));
      const [picture, ...results] = await Promise.all([
        this.api.get(`/api/picture?exercise=${this.exercise}`),
        ...entities.map((entity) => this._readCollection(entity)),
      ]);
      const snapshot = {};
      let head = picture.head;
      entities.forEach((entity, i) => {
        snapshot[entity] = results[i].features;
        head = Math.min(head, results[i].head);
      });
      for (const [entity, part] of Object.entries(picture.collections)) {
        snapshot[entity] = part.tiled ? compactFeatures(entity, part.fields, part.rows) : part.features;
        if (part.tiled) this.store.tiled.add(entity);
      }
      this.store.loadSnapshot(snapshot, head);
    } finally {
      this.reloading = false;
      const held = this.buffer;
      this.buffer = [];
      for (const change of held) this.store.applyChange(change);
    }
  }

  /**
   * One collection, every page. A 404 is a kind this server does not serve (yet): the
   * dashboard is built for the newest server and shows that kind as empty, without an error.
   */
  async _readCollection(entity) {
    try {
      return await this.api.getAll(`/api/${COLLECTIONS[entity]}?limit=1000&exercise=${this.exercise}`);
    } catch (error) {
      if (error?.status === 404) return { features: [], head: Infinity };
      throw error;
    }
  }

  /** The feed list's recent history (GET /api/changes), up to what the snapshot holds. */
  async seedFeed() {
    if (!this.readable('changes')) return;
    const since = Math.max(0, this.store.seq - FEED_SEED);
    let page = await this.api.get(`/api/changes?since=${since}&limit=${FEED_SEED}`);
    // Older changes were pruned (docs/realtime.md §7): the list starts at the oldest kept.
    if (page.reset && page.oldest != null) {
      page = await this.api.get(`/api/changes?since=${page.oldest - 1}&limit=${FEED_SEED}`);
    }
    const shown = (c) => !c.feature || this.inPicture(c.feature, c.entity);
    this.store.seedFeed(page.changes.filter((c) => c.seq <= this.store.seq && this.readable(c.entity) && shown(c)));
  }

  /** Follow /ws from the position held; changes go to the store, or wait for a snapshot being read. */
  start() {
    this.live = new this.LiveClientImpl({
      url: this.url || streamUrl(),
      getToken: () => this.api.token,
      getSince: () => this.position(),
      onPosition: (seq) => this._advance(seq),
      onChange: (message) => this.receive(message),
      onAlert: (message) => this.on.alert?.(message),
      onWelcome: (message) => {
        // Alert pushes are not replayed: after a reconnection their state is read again.
        this.on.welcome?.(message, { again: this.welcomed });
        this.welcomed = true;
      },
      onReset: () => this.reset(),
      onStatus: (status) => this.on.status?.(status),
      onAuthFailure: () => this.api.refresh(),
      ...this.liveOptions,
    });
    this.live.start();
    this.win.addEventListener?.('online', this._online);
  }

  /** One change from the stream. */
  receive(message) {
    if (!this.readable(message.entity)) return;
    // The other picture's changes are not this one's (the stream's pings keep the position).
    if (message.feature && !this.inPicture(message.feature, message.entity)) return;
    const change = { ...message, arrivedAt: this.now() };
    if (this.reloading) this.buffer.push(change);
    else this.store.applyChange(change);
  }

  /** The server no longer holds what we missed: read a snapshot again (once at a time). */
  async reset() {
    if (this.reloading) return;
    this.on.reloading?.();
    try {
      await this.loadSnapshot();
      this.on.reloaded?.();
    } catch (error) {
      this.on.error?.(error);
    }
  }

  /** Stop following the stream (a replay takes the store); resumeLive() comes back. */
  pause() {
    this.stop();
    this.live = null;
    this.buffer = [];
  }

  /**
   * Back to the live picture after a replay, exactly as the dashboard starts: the picture read
   * afresh at the feed's head, the feed list's recent history, then the stream from that head.
   * A change written meanwhile is in the snapshot or after its head; one in both is a
   * duplicate the store drops (by seq): none missed, none doubled.
   */
  async resumeLive() {
    this.store.reset({}, 0);
    this.streamPosition = null;
    await this.loadSnapshot();
    await this.seedFeed();
    this.start();
  }

  /** Send a client message (e.g. an `ack`); false when the socket is not open. */
  send(message) {
    return this.live ? this.live.send(message) : false;
  }

  stop() {
    this.win.removeEventListener?.('online', this._online);
    this.live?.stop();
  }
}
