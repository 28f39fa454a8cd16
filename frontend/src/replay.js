// Replay: the picture at a past instant, then played forwards, on the same model as the live
// picture (sync.js): a snapshot at a feed position, then the feed's records after it, in order
// (docs/replay-and-exercises.md). The snapshot is the lists read `?at=T0` and the position of the
// picture then (GET /api/changes/position); the records are GET /api/changes?since=&until=, the
// server's scoped feed, so a partner replays what it saw at each instant (an object unshared
// meanwhile comes as a `removed` record). Pure state and timing, no DOM: panels/replay.js draws
// the control, app.js switches the dashboard between live and replay.
import { Emitter } from './emitter.js';
import { COLLECTIONS } from './model.js';

// The speeds offered (play-time seconds per second).
export const SPEEDS = [1, 10, 60, 600, 3600];
// Records read ahead of the play head at a time.
export const PAGE = 500;
// How often a playing replay moves its head.
export const TICK_MS = 100;

const iso = (ms) => new Date(ms).toISOString();

export class Replay extends Emitter {
  /**
   * @param api       the REST client (get, getAll)
   * @param store     the picture (Store): a replay resets it and applies records to it
   * @param readable  entity → whether this user may read it
   * @param picture   → the picture shown, 'real' or 'exercise' (PictureSync.picture): the past of
   *                  the real picture holds no exercise object, the exercise picture's only them
   */
  constructor({ api, store, readable, picture = () => 'real', now = () => performance.now(), timers = globalThis, page = PAGE }) {
    super();
    Object.assign(this, { api, store, readable, picture, now, timers, page });
    this.active = false;
    this.playing = false;
    this.speed = 60;
    this.time = null; // the play head, epoch ms
    this.end = null; // where playing stops (the window's end; never after the moment replay began)
    this.seq = 0; // the feed position the picture has reached
    this.queue = []; // records read ahead of the play head, in order
    this.fetched = 0; // the feed position read up to
    this.exhausted = false;
    this.applied = 0;
    this._timer = null;
    this._generation = 0;
  }

  /** Show the picture at `t` (epoch ms), as `?at=` reads it; playing stops at `end`. */
  async seek(t, { end = this.end } = {}) {
    const generation = ++this._generation;
    this.active = true;
    const at = encodeURIComponent(iso(t));
    const entities = Object.keys(COLLECTIONS).filter((e) => this.readable(e));
    const [position, ...lists] = await Promise.all([
      this.api.get(`/api/changes/position?at=${at}`),
      ...entities.map((e) => this._readAt(e, at)),
    ]);
    // A later seek overtook this one: its answer is the one to show.
    if (generation !== this._generation) return false;
    const snapshot = Object.fromEntries(entities.map((e, i) => [e, lists[i]]));
    this.store.reset(snapshot, position.seq);
    Object.assign(this, { time: t, seq: position.seq, fetched: position.seq, queue: [], exhausted: false });
    this.end = end == null ? Date.now() : end;
    this.emit({ type: 'time', time: t });
    return true;
  }

  /** Whether a record's object belongs to the picture replayed (a removal has none: it does). */
  inPicture(change) {
    return !change.feature || Boolean(change.feature.properties?.exercise) === (this.picture() === 'exercise');
  }

  async _readAt(entity, at) {
    try {
      const exercise = this.picture() === 'exercise';
      return (await this.api.getAll(`/api/${COLLECTIONS[entity]}?limit=1000&at=${at}&exercise=${exercise}`)).features;
    } catch (error) {
      if (error?.status === 404) return [];
      throw error;
    }
  }

  /** Read the next page of records after what is read, up to the end of the window. */
  async _fill() {
    if (this.exhausted) return;
    const generation = this._generation;
    const from = this.fetched;
    const page = await this.api.get(`/api/changes?since=${from}&until=${encodeURIComponent(iso(this.end))}&limit=${this.page}`);
    if (generation !== this._generation) return;
    if (page.reset) throw new Error(page.reason || 'the change feed no longer holds this period');
    for (const change of page.changes) if (this.readable(change.entity) && this.inPicture(change)) this.queue.push(change);
    if (page.next_since <= from) this.exhausted = true;
    this.fetched = Math.max(from, page.next_since);
  }

  _apply(change) {
    this.store.applyChange({ ...change, arrivedAt: null });
    this.seq = Math.max(this.seq, change.seq);
    this.applied += 1;
  }

  /** Move the play head forwards to `t`, applying every record committed up to it, in order. */
  async advanceTo(t) {
    const generation = this._generation;
    const target = Math.min(t, this.end);
    for (;;) {
      while (this.queue.length && Date.parse(this.queue[0].at) <= target) this._apply(this.queue.shift());
      if (this.queue.length || this.exhausted) break;
      await this._fill();
      if (generation !== this._generation) return;
    }
    this.time = target;
    this.emit({ type: 'time', time: target });
  }

  /** The next change (and any committed at the same instant): the play head moves to it. */
  async step() {
    this.pause();
    const generation = this._generation;
    if (!this.queue.length) await this._fill();
    while (!this.queue.length && !this.exhausted && generation === this._generation) await this._fill();
    const next = this.queue[0];
    if (!next || generation !== this._generation) return null;
    await this.advanceTo(Date.parse(next.at));
    return next;
  }

  play(speed = this.speed) {
    this.speed = speed;
    if (this.playing || !this.active) return;
    this.playing = true;
    this._last = this.now();
    this.emit({ type: 'playing', playing: true });
    this._schedule();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.timers.clearTimeout(this._timer);
    this._timer = null;
    this.emit({ type: 'playing', playing: false });
  }

  setSpeed(speed) {
    this.speed = speed;
    this.emit({ type: 'speed', speed });
  }

  _schedule() {
    this._timer = this.timers.setTimeout(() => this._tick(), TICK_MS);
  }

  async _tick() {
    if (!this.playing) return;
    const now = this.now();
    const elapsed = now - this._last;
    this._last = now;
    try {
      await this.advanceTo(this.time + elapsed * this.speed);
    } catch (error) {
      this.pause();
      this.emit({ type: 'error', error });
      return;
    }
    if (this.time >= this.end) this.pause();
    else if (this.playing) this._schedule();
  }

  /** Leave the replay; the caller reads the live picture again (PictureSync.resumeLive). */
  stop() {
    this.pause();
    this._generation += 1;
    Object.assign(this, { active: false, time: null, queue: [], exhausted: false });
    this.emit({ type: 'stopped' });
  }
}
