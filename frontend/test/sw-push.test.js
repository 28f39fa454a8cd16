import { describe, expect, it, vi } from 'vitest';
import { ACK_ACTION, installPush, notificationFor, pageNotificationFor } from '../src/sw-push.js';

const MESSAGE = {
  type: 'alert',
  alert: '0190c3d2-1111-7000-8000-000000000001',
  ref: 'ALR-2026-000042',
  headline: 'Sluiting Leopold II-tunnel',
  lang: 'nl',
  severity: 'Severe',
  msg_type: 'Alert',
  status: 'Actual',
  url: 'https://sitcen.example.org/?alert=0190c3d2-1111-7000-8000-000000000001',
  ack: { url: 'https://sitcen.example.org/alerts/ack/push', token: 'tok.en' },
};

/** A ServiceWorkerGlobalScope with what the handlers use: events, registration, clients. */
function fakeScope({ windows = [] } = {}) {
  const listeners = {};
  const scope = {
    location: new URL('https://sitcen.example.org/sw.js'),
    addEventListener: (type, fn) => { listeners[type] = fn; },
    registration: { showNotification: vi.fn(async () => {}) },
    clients: {
      matchAll: vi.fn(async () => windows),
      openWindow: vi.fn(async () => null),
    },
  };
  /** Dispatch an event; resolves when its waitUntil promise settles. */
  scope.dispatch = async (type, event) => {
    let pending = Promise.resolve();
    listeners[type]({ ...event, waitUntil: (p) => { pending = p; } });
    await pending;
  };
  return scope;
}

const pushEvent = (message) => ({ data: { json: () => message } });
const clickEvent = (options, action = '') => ({
  action,
  notification: { title: 'SITCEN ALR-2026-000042', data: options.data, close: vi.fn() },
});

describe('installPush: push', () => {
  it('shows the headline in the message language with an Acknowledge action', async () => {
    const scope = fakeScope();
    installPush(scope);
    await scope.dispatch('push', pushEvent(MESSAGE));
    const [title, options] = scope.registration.showNotification.mock.calls[0];
    expect(title).toBe('SITCEN ALR-2026-000042');
    expect(options.body).toBe('Sluiting Leopold II-tunnel');
    expect(options.lang).toBe('nl');
    expect(options.tag).toBe(`alert-${MESSAGE.alert}`);
    expect(options.requireInteraction).toBe(true);
    expect(options.actions).toEqual([{ action: ACK_ACTION, title: 'Ontvangst bevestigen' }]);
  });

  it('marks exercises and updates, and lets a minor alert go', () => {
    const { title, options } = notificationFor({ ...MESSAGE, lang: 'fr', status: 'Exercise', msg_type: 'Update', severity: 'Minor' });
    expect(title).toBe('SITCEN ALR-2026-000042 · EXERCICE · Mise à jour');
    expect(options.requireInteraction).toBe(false);
    expect(options.actions[0].title).toBe('Accuser réception');
  });

  it('ignores a message that is not an alert, or not JSON', async () => {
    const scope = fakeScope();
    installPush(scope);
    await scope.dispatch('push', pushEvent({ type: 'other' }));
    await scope.dispatch('push', { data: { json: () => { throw new SyntaxError('x'); } } });
    await scope.dispatch('push', { data: null });
    expect(scope.registration.showNotification).not.toHaveBeenCalled();
  });
});

describe('installPush: notificationclick', () => {
  async function shown(scope) {
    installPush(scope, { fetchImpl: scope.fetch });
    await scope.dispatch('push', pushEvent(MESSAGE));
    return scope.registration.showNotification.mock.calls[0][1];
  }

  it('the Acknowledge action posts the token to its own origin and confirms', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn(async () => ({ ok: true }));
    const options = await shown(scope);
    const event = clickEvent(options, ACK_ACTION);
    await scope.dispatch('notificationclick', event);
    expect(event.notification.close).toHaveBeenCalled();
    const [url, init] = scope.fetch.mock.calls[0];
    expect(url).toBe('https://sitcen.example.org/alerts/ack/push');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ token: 'tok.en' });
    const [, confirmation] = scope.registration.showNotification.mock.calls[1];
    expect(confirmation.body).toBe('✓ Ontvangst bevestigd');
    expect(scope.clients.openWindow).not.toHaveBeenCalled();
  });

  it('a failed acknowledgement opens the app at the alert', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn(async () => ({ ok: false, status: 400 }));
    const options = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options, ACK_ACTION));
    expect(scope.registration.showNotification.mock.calls[1][1].body).toMatch(/niet verstuurd/);
    expect(scope.clients.openWindow).toHaveBeenCalledWith(`https://sitcen.example.org/?alert=${MESSAGE.alert}`);
  });

  it('an offline acknowledgement (fetch rejects) opens the app too', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn(async () => { throw new TypeError('Failed to fetch'); });
    const options = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options, ACK_ACTION));
    expect(scope.clients.openWindow).toHaveBeenCalled();
  });

  it('a tap focuses an open window and tells it which alert to show', async () => {
    const open = { url: 'https://sitcen.example.org/', focus: vi.fn(async () => {}), postMessage: vi.fn() };
    const elsewhere = { url: 'https://other.example.org/', focus: vi.fn(), postMessage: vi.fn() };
    const scope = fakeScope({ windows: [elsewhere, open] });
    scope.fetch = vi.fn();
    const options = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options));
    expect(scope.fetch).not.toHaveBeenCalled();
    expect(open.postMessage).toHaveBeenCalledWith({ type: 'open-alert', alert: MESSAGE.alert });
    expect(open.focus).toHaveBeenCalled();
    expect(elsewhere.focus).not.toHaveBeenCalled();
    expect(scope.clients.openWindow).not.toHaveBeenCalled();
  });

  it('a tap with no window open opens the app at the alert, on its own origin', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn();
    const options = await shown(scope);
    options.data.url = 'https://elsewhere.example.org/?alert=x';
    await scope.dispatch('notificationclick', clickEvent(options));
    expect(scope.clients.openWindow).toHaveBeenCalledWith('https://sitcen.example.org/?alert=x');
  });
});

// A crisis cell's page to a SITCEN user's seat (app/cell/paging.py, PagePush.payload).
const PAGE = {
  type: 'page',
  activation: '0190c3d2-2222-7000-8000-000000000002',
  ref: 'GCC-2026-0007',
  title: 'Pausbezoek',
  level: 'crisis_cell',
  exercise: false,
  position: '0190c3d2-3333-7000-8000-000000000003',
  position_ref: 'POS-2026-000011',
  at: '2026-12-07T22:00:00+00:00',
  url: '/#board/0190c3d2-2222-7000-8000-000000000002',
  headline: 'Crisiscel GCC-2026-0007 (crisiscel): u wordt opgeroepen — Zetel hoge ambtenaar',
  body: 'Pausbezoek. Bevestig de ontvangst en geef dan uw aanwezigheid door.',
  lang: 'nl',
  ack: { url: 'https://sitcen.example.org/cell/ack/push', token: 'pa.ge' },
};

describe('installPush: a crisis cell page', () => {
  async function shown(scope) {
    installPush(scope, { fetchImpl: scope.fetch });
    await scope.dispatch('push', pushEvent(PAGE));
    return scope.registration.showNotification.mock.calls[0];
  }

  it('shows the page in its language, insistent, with an Acknowledge action', async () => {
    const scope = fakeScope();
    const [title, options] = await shown(scope);
    expect(title).toBe('SITCEN GCC-2026-0007');
    expect(options.body).toBe(`${PAGE.headline}\n${PAGE.body}`);
    expect(options.lang).toBe('nl');
    expect(options.tag).toBe(`page-${PAGE.position}`);
    expect(options.requireInteraction).toBe(true);
    expect(options.actions).toEqual([{ action: ACK_ACTION, title: 'Ontvangst bevestigen' }]);
    expect(pageNotificationFor({ ...PAGE, lang: 'fr', exercise: true }).title).toBe('SITCEN GCC-2026-0007 · EXERCICE');
  });

  it('ignores a page without its activation or seat', async () => {
    const scope = fakeScope();
    installPush(scope);
    await scope.dispatch('push', pushEvent({ ...PAGE, position: undefined }));
    expect(scope.registration.showNotification).not.toHaveBeenCalled();
  });

  it('Acknowledge posts the page token to /cell/ack/push, not the alerts route', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn(async () => ({ ok: true }));
    const [, options] = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options, ACK_ACTION));
    const [url, init] = scope.fetch.mock.calls[0];
    expect(url).toBe('https://sitcen.example.org/cell/ack/push');
    expect(JSON.parse(init.body)).toEqual({ token: 'pa.ge' });
    const [, confirmation] = scope.registration.showNotification.mock.calls[1];
    expect(confirmation.body).toBe('✓ Ontvangst bevestigd');
    expect(confirmation.tag).toBe(`page-${PAGE.position}`);
    expect(confirmation.data.ack).toBeUndefined();
  });

  it('a failed acknowledgement opens the activation board', async () => {
    const scope = fakeScope();
    scope.fetch = vi.fn(async () => ({ ok: false, status: 400 }));
    const [, options] = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options, ACK_ACTION));
    expect(scope.registration.showNotification.mock.calls[1][1].body).toMatch(/bord van de activering/);
    expect(scope.clients.openWindow).toHaveBeenCalledWith(`https://sitcen.example.org/#board/${PAGE.activation}`);
  });

  it('a tap tells an open window to show the board, or opens the app at it', async () => {
    const open = { url: 'https://sitcen.example.org/', focus: vi.fn(async () => {}), postMessage: vi.fn() };
    const scope = fakeScope({ windows: [open] });
    scope.fetch = vi.fn();
    const [, options] = await shown(scope);
    await scope.dispatch('notificationclick', clickEvent(options));
    expect(scope.fetch).not.toHaveBeenCalled();
    expect(open.postMessage).toHaveBeenCalledWith({ type: 'open-board', activation: PAGE.activation });
    expect(open.focus).toHaveBeenCalled();

    const none = fakeScope();
    none.fetch = vi.fn();
    const [, again] = await shown(none);
    await none.dispatch('notificationclick', clickEvent(again));
    expect(none.clients.openWindow).toHaveBeenCalledWith(`https://sitcen.example.org/#board/${PAGE.activation}`);
  });
});
