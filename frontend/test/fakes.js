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

