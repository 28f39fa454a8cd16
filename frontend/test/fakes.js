// Test doubles shared by the live client's and the sync's tests.
// A scripted WebSocket and timers, so the client's protocol can be played step by step.
export class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  receive(...messages) {
    this.onmessage?.({ data: messages.map((m) => JSON.stringify(m)).join('\n') });
  }
  close(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

export class Timers {
  constructor() {
    this.queue = [];
    this.id = 0;
  }
  setTimeout(fn, ms) {
    this.id += 1;
    this.queue.push({ id: this.id, fn, ms });
    return this.id;
  }
  clearTimeout(id) {
    this.queue = this.queue.filter((t) => t.id !== id);
  }
  runNext(kind = () => true) {
    const next = this.queue.filter(kind).sort((a, b) => a.ms - b.ms)[0];
    this.clearTimeout(next.id);
    next.fn();
    return next.ms;
  }
}


// A REST client that records the writes it is sent and answers them from a script.
export class FakeApi {
  constructor() {
    this.requests = [];
    this.answers = [];
    // What a GET answers, by path (an Error is thrown).
    this.reads = {};
  }
  async get(path) {
    this.requests.push({ method: 'GET', path });
    const answer = this.reads[path];
    if (answer instanceof Error || answer === undefined) throw answer ?? Object.assign(new Error('not found'), { status: 404 });
    return answer;
  }
  /** The next write answers `answer` (a Feature), or throws it when it is an Error. */
  answer(answer) {
    this.answers.push(answer);
  }
  async request(method, path, options = {}) {
    this.requests.push({ method, path, ...options });
    const answer = this.answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  }
  /**
   * An upload: recorded, half the bytes reported sent, then answered from the script (once
   * `this.gate`, a promise, is settled, when a test set one to look at the upload under way).
   */
  upload(path, file, options = {}) {
    this.requests.push({ method: 'POST', path, file, ifMatch: options.ifMatch ?? null });
    const answer = this.answers.shift();
    const gate = this.gate;
    const promise = (async () => {
      await null;
      options.onProgress?.(Math.floor(file.size / 2), file.size);
      await gate;
      if (answer instanceof Error) throw answer;
      return answer;
    })();
    return { promise, cancel: () => {} };
  }
  async blob(path) {
    this.requests.push({ method: 'GET', path });
    return new Blob(['x'], { type: path.endsWith('/preview') ? 'image/png' : 'application/octet-stream' });
  }
}

// The map as the panels see it: it remembers what it was asked to outline.
export class FakeMap {
  constructor() {
    this.linked = [];
    this.flown = [];
  }
  setLinked(refs) {
    this.linked = refs;
  }
  flyTo(feature) {
    this.flown.push(feature.id);
  }
  select() {}
}

/**
 * The app as a panel sees it (app.js): store, api, map, the reader's permissions and identity,
 * toasts. `root` holds the dashboard's layout elements the panel draws into.
 */
export class FakeApp {
  constructor({ store, permissions = [], me = { role: 'coordinator', organisation: null }, document = globalThis.document }) {
    this.store = store;
    this.api = new FakeApi();
    this.mapView = new FakeMap();
    this.permissions = new Set(permissions);
    this.me = me;
    this.toasts = [];
    this.cleanups = [];
    this.root = document.createElement('div');
    this.root.innerHTML = '<main class="layout"><section id="board" class="board" hidden></section><aside id="legend"></aside><div id="map"></div></main>';
    document.body.replaceChildren(this.root);
  }
  can(action) {
    return this.permissions.has(action);
  }
  readable(entity) {
    return this.can(`${entity}:read`);
  }
  get partner() {
    return this.me.role === 'partner';
  }
  organisationName(code) {
    return `org ${code}`;
  }
  toast(text, kind) {
    this.toasts.push({ text, kind });
  }
  stop() {
    for (const cleanup of this.cleanups) cleanup();
  }
}
