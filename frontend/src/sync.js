// The browser's side of the change feed: the counterpart of the server's replay
// (docs/realtime.md §7). It owns the snapshot, the resume position, the changes held back while
// a snapshot is read, and the reload a `reset` asks for. The store holds the picture and drops
// what it has seen; LiveClient speaks the protocol; this decides what reaches the store, when.
import { LiveClient, streamUrl } from './live.js';
import { ENTITIES } from './model.js';

// How many recent changes the feed list starts with.
export const FEED_SEED = 100;

export class PictureSync {
  /**
   * @param api        the REST client (getAll, get, token, refresh)
   * @param store      the picture (Store)
   * @param readable   entity → whether this user may read it
   * @param on         callbacks: status, alert, welcome (again: true after a reconnection),
   *                   reloading, reloaded, error (each optional)
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
    this._online = () => this.live?.reconnectNow();
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
      const entities = Object.keys(ENTITIES).filter((e) => this.readable(e));
      const results = await Promise.all(entities.map((entity) => this.api.getAll(`/api/${ENTITIES[entity].path}?limit=1000`)));
      const snapshot = {};
      let head = Infinity;
      entities.forEach((entity, i) => {
        snapshot[entity] = results[i].features;
        head = Math.min(head, results[i].head);
      });
      this.store.loadSnapshot(snapshot, head === Infinity ? 0 : head);
    } finally {
      this.reloading = false;
      const held = this.buffer;
      this.buffer = [];
      for (const change of held) this.store.applyChange(change);
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
    this.store.seedFeed(page.changes.filter((c) => c.seq <= this.store.seq && this.readable(c.entity)));
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

  /** Send a client message (e.g. an `ack`); false when the socket is not open. */
  send(message) {
    return this.live ? this.live.send(message) : false;
  }

  stop() {
    this.win.removeEventListener?.('online', this._online);
    this.live?.stop();
  }
}
