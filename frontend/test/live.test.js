import { describe, expect, it } from 'vitest';
import { LiveClient } from '../src/live.js';
import { FakeSocket, Timers } from './fakes.js';

function client(overrides = {}) {
  FakeSocket.all = [];
  const state = { seq: 10, changes: [], resets: 0, statuses: [] };
  const timers = new Timers();
  const live = new LiveClient({
    url: 'ws://test/ws',
    getToken: () => 'tok',
    getSince: () => state.seq,
    onChange: (m) => {
      state.changes.push(m.seq);
      state.seq = m.seq;
    },
    onReset: () => {
      state.resets += 1;
    },
    onStatus: (s) => state.statuses.push(s.status),
    WebSocketImpl: FakeSocket,
    timers,
    now: () => 1000,
    jitter: () => 1,
    ...overrides,
  });
  return { live, state, timers };
}

describe('live client', () => {
  it('says hello with its token and the last seq, answers pings and applies changes', () => {
    const { live, state } = client();
    live.start();
    const ws = FakeSocket.all[0];
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', token: 'tok', since: 10, filter: {} });
    ws.receive({ type: 'welcome', head: 12, ping_seconds: 20 });
    expect(live.status).toBe('catching_up');
    // A catching-up client gets several messages per frame, one per line.
    ws.receive({ type: 'change', seq: 11 }, { type: 'change', seq: 12 }, { type: 'live', seq: 12 });
    expect(live.status).toBe('live');
    ws.receive({ type: 'ping', seq: 12 });
    expect(ws.sent.at(-1)).toEqual({ type: 'pong' });
    ws.receive({ type: 'alert', id: 'x' });
    expect(state.changes).toEqual([11, 12]);
  });

  it('passes alert messages to the alert book, says each welcome, and sends an ack', () => {
    const alerts = [];
    let welcomes = 0;
    const { live, state } = client({ onAlert: (m) => alerts.push(m.type), onWelcome: () => { welcomes += 1; } });
    live.start();
    const ws = FakeSocket.all[0];
    ws.open();
    ws.receive({ type: 'welcome', head: 10 });
    ws.receive({ type: 'alert', alert: { id: 'a1' } }, { type: 'alert_state', alert: 'a1' }, { type: 'change', seq: 11 }, { type: 'acked', alert: 'a1' });
    ws.receive({ type: 'error', code: 'not_found', message: 'no alert', field: 'alert' }, { type: 'error', code: 'invalid', message: 'bad filter' });
    expect(alerts).toEqual(['alert', 'alert_state', 'acked', 'error']);
    expect(state.changes).toEqual([11]);
    expect(live.send({ type: 'ack', alert: 'a1' })).toBe(true);
    expect(ws.sent.at(-1)).toEqual({ type: 'ack', alert: 'a1' });
    ws.close(1012);
    expect(live.send({ type: 'ack', alert: 'a1' })).toBe(false);
    live.reconnectNow();
    FakeSocket.all.at(-1).open();
    FakeSocket.all.at(-1).receive({ type: 'welcome', head: 11 });
    expect(welcomes).toBe(2);
  });

  it('reports the seqs the stream vouches for without a change', () => {
    const positions = [];
    const { live } = client({ onPosition: (seq) => positions.push(seq) });
    live.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].receive({ type: 'welcome', head: 10 }, { type: 'live', seq: 10 });
    FakeSocket.all[0].receive({ type: 'ping', seq: 57 }, { type: 'subscribed', seq: 58 }, { type: 'reset', head: 60 });
    FakeSocket.all[0].receive({ type: 'change', seq: 61 });
    expect(positions).toEqual([10, 57, 58, 60]);
  });

  it('reconnects with back-off and resumes from the last seq it saw', () => {
    const { live, state, timers } = client();
    live.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].receive({ type: 'welcome', head: 10 });
    FakeSocket.all[0].receive({ type: 'change', seq: 11 });
    FakeSocket.all[0].close(1012, 'service restart');
    expect(live.status).toBe('reconnecting');
    expect(live.offlineSince).toBe(1000);
    const delays = [timers.runNext()];
    FakeSocket.all[1].close(1006);
    delays.push(timers.runNext());
    expect(delays[1]).toBeGreaterThan(delays[0]);
    FakeSocket.all[2].open();
    expect(FakeSocket.all[2].sent[0].since).toBe(11);
    FakeSocket.all[2].receive({ type: 'welcome', head: 14 });
    expect(live.status).toBe('catching_up');
    expect(live.offlineSince).toBeNull();
    expect(state.statuses).toContain('reconnecting');
  });

  it('reports offline after repeated failures and keeps trying', () => {
    const { live, timers } = client();
    live.start();
    for (let i = 0; i < 5; i += 1) {
      FakeSocket.all.at(-1).close(1006);
      timers.runNext();
    }
    expect(live.status).toBe('offline');
    expect(FakeSocket.all.length).toBe(6);
  });

  it('asks for a snapshot reload on reset', () => {
    const { live, state } = client();
    live.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].receive({ type: 'welcome', head: 99 });
    FakeSocket.all[0].receive({ type: 'reset', head: 99, reason: 'no longer kept' });
    expect(state.resets).toBe(1);
  });

  it('refreshes the token when the server says it expired, then reconnects', async () => {
    let refreshed = 0;
    const { live } = client({ onAuthFailure: async () => { refreshed += 1; } });
    live.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].close(4001, 'unauthenticated: token expired');
    await Promise.resolve();
    await Promise.resolve();
    expect(refreshed).toBe(1);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('closes a silent socket after missed heartbeats', () => {
    const { live, timers } = client();
    live.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].receive({ type: 'welcome', head: 10, ping_seconds: 1 });
    const ms = timers.runNext((t) => t.ms === 2500);
    expect(ms).toBe(2500);
    expect(live.status).toBe('reconnecting');
  });
});
