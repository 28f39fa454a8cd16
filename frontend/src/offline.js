// The last known picture, kept for a start without the network (docs/mobile.md "Installable
// app"). It is personal and may be partner-scoped, so it never outlives the session:
//  - it is kept in IndexedDB encrypted (AES-GCM) with a key held in this tab's sessionStorage
//    beside the session's tokens: when the tab closes, the key goes with the session and what
//    IndexedDB still holds can no longer be read (and is deleted at the next start: SWEEP_MS);
//  - logging out, or the session expiring, deletes both the key and the record at once.
// The public reference geography is the service worker's (src/sw.js), not this module's.
import { clear, createStore, del, entries, get, set } from 'idb-keyval';

const KEY_NAME = 'sitcen.offline';
const DB_NAME = 'sitcen-offline';
const STORE_NAME = 'picture';
// The feed list's entries kept with the picture (the feed panel's first screen).
export const FEED_KEPT = 100;
// An open session writes its picture again at least this often (and at each change, and when the
// page is hidden: a phone locked), so the time shown as "last update" is that close.
export const KEEP_MS = 5 * 60 * 1000;
// A record not written for this long is another tab's that closed without logging out (its key
// went with it: unreadable): the next start deletes it.
export const SWEEP_MS = 6 * KEEP_MS;

function toBase64(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * The picture as kept: every object the store holds, the feed position, the last feed entries,
 * who is signed in (GET /api/auth/me) and when the picture was last known current.
 */
export function pictureRecord({ store, sync, me, currentAt }) {
  const snapshot = {};
  for (const [entity, bucket] of store.byEntity) snapshot[entity] = [...bucket.values()];
  const feed = store.feed.slice(-FEED_KEPT).map(({ seq, entity, op, id, version, at, by, feature }) => ({ seq, entity, op, id, version, at, by, feature }));
  return { version: 1, me, seq: store.seq, position: sync.position(), tiled: [...store.tiled], snapshot, feed, currentAt };
}

/** Put a kept picture back in the store and the sync (nothing is fetched). */
export function restorePicture(record, { store, sync }) {
  for (const entity of record.tiled || []) store.tiled.add(entity);
  const tiled = new Set(record.tiled || []);
  for (const [entity, features] of Object.entries(record.snapshot)) {
    // A big collection's rows were compact: the detail panel reads them whole when it can.
    if (tiled.has(entity)) for (const f of features) Object.defineProperty(f, '_compact', { value: true, enumerable: false });
  }
  store.loadSnapshot(record.snapshot, record.seq);
  store.seedFeed(record.feed || []);
  if (typeof record.position === 'number') sync.streamPosition = record.position;
}

/**
 * Since when the picture shown is not current, or null while it is: the connection's status
 * (live.js) and the time kept so far (the restored picture's, or when the stream was lost).
 * A short reconnection (the network still up) is not shown as stale: the header says it.
 */
export function staleSince(current, { status, offlineSince }, online = true) {
  if (status === 'live' || status === 'replay') return null;
  if (status === 'offline' || (status === 'reconnecting' && !online)) return current ?? offlineSince ?? null;
  return current;
}

/** The records' store: IndexedDB through idb-keyval (database sitcen-offline, store picture). */
export function indexedDbRecords() {
  if (!globalThis.indexedDB) return null;
  const db = createStore(DB_NAME, STORE_NAME);
  return {
    get: (id) => get(id, db),
    set: (id, value) => set(id, value, db),
    del: (id) => del(id, db),
    clear: () => clear(db),
    entries: () => entries(db),
  };
}

export class LastPicture {
  /**
   * @param storage  the tab's session storage (the key lives there)
   * @param records  where the encrypted records are kept (indexedDbRecords(), a Map-like in tests)
   */
  constructor({ storage = globalThis.sessionStorage, crypto = globalThis.crypto, records = indexedDbRecords(), now = () => Date.now() } = {}) {
    this.storage = storage;
    this.crypto = crypto;
    this.subtle = crypto?.subtle;
    this.now = now;
    this.records = records;
  }

  /** Whether this browser can keep it (IndexedDB and WebCrypto: a secure context). */
  get available() {
    return Boolean(this.records && this.subtle && this.storage);
  }

  _keyEntry() {
    try {
      return JSON.parse(this.storage.getItem(KEY_NAME) || 'null');
    } catch {
      return null;
    }
  }

  async _key(create) {
    let entry = this._keyEntry();
    if (!entry && create) {
      const raw = this.crypto.getRandomValues(new Uint8Array(32));
      const id = toBase64(this.crypto.getRandomValues(new Uint8Array(12))).replace(/[^A-Za-z0-9]/g, '');
      entry = { id, key: toBase64(raw) };
      this.storage.setItem(KEY_NAME, JSON.stringify(entry));
    }
    if (!entry) return null;
    const key = await this.subtle.importKey('raw', fromBase64(entry.key), 'AES-GCM', false, ['encrypt', 'decrypt']);
    return { id: entry.id, key };
  }

  /** Keep `record` (pictureRecord) for this session, replacing what it held. */
  async save(record) {
    if (!this.available) return false;
    const { id, key } = await this._key(true);
    const iv = this.crypto.getRandomValues(new Uint8Array(12));
    const data = await this.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(JSON.stringify(record)));
    // The session ended while this was encrypted (clear() ran): nothing is written after it.
    if (this._keyEntry()?.id !== id) return false;
    await this.records.set(id, { savedAt: this.now(), iv, data });
    return true;
  }

  /** This session's kept picture, or null (none kept, another session's, or unreadable). */
  async load() {
    if (!this.available) return null;
    try {
      const found = await this._key(false);
      if (!found) return null;
      const held = await this.records.get(found.id);
      if (!held) return null;
      const plain = await this.subtle.decrypt({ name: 'AES-GCM', iv: held.iv }, found.key, held.data);
      return JSON.parse(new TextDecoder().decode(plain));
    } catch {
      return null;
    }
  }

  /**
   * Forget the kept pictures: this session's key, and every record this browser holds (logout,
   * session expired): another tab's own is written again at its next change.
   */
  async clear() {
    this.storage?.removeItem(KEY_NAME);
    if (this.records) await this.records.clear().catch(() => {});
  }

  /** Delete the records of sessions gone for longer than SWEEP_MS (their keys are gone). */
  async sweep() {
    if (!this.records) return 0;
    const mine = this._keyEntry()?.id;
    let dropped = 0;
    for (const [id, held] of await this.records.entries()) {
      if (id !== mine && !(this.now() - (held?.savedAt ?? 0) < SWEEP_MS)) {
        await this.records.del(id);
        dropped += 1;
      }
    }
    return dropped;
  }
}
