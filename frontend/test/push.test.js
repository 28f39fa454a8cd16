// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alertFromLocation, keyBytes, pushState, pushToggle, subscribe, unsubscribe } from '../src/push.js';
import { setLanguage } from '../src/i18n.js';

const PUBLIC_KEY = 'BJ2dPNLiJbaknRQblE46odYxDZKCuypEKxg9dl93lvFXTr1aEUqyXNJySRenBNSGyrQ7QeJfjtnCFlIyLYFHPJU';
const ENDPOINT = 'https://push.example.org/send/abc';

function fakeSubscription(onUnsubscribe = () => {}) {
  return {
    endpoint: ENDPOINT,
    toJSON: () => ({ endpoint: ENDPOINT, expirationTime: null, keys: { p256dh: 'BPkey', auth: 'authsecret' } }),
    unsubscribe: vi.fn(async () => { onUnsubscribe(); return true; }),
  };
}

/** A browser: navigator.serviceWorker with a registration and its PushManager. */
function fakeEnv({ permission = 'default', grant = 'granted', registered = true, subscribed = false } = {}) {
  let current = null;
  const make = () => fakeSubscription(() => { current = null; });
  if (subscribed) current = make();
  const pushManager = {
    getSubscription: vi.fn(async () => current),
    subscribe: vi.fn(async () => { current = make(); return current; }),
  };
  const Notification = { permission, requestPermission: vi.fn(async () => grant) };
  return {
    env: {
      navigator: { serviceWorker: { getRegistration: vi.fn(async () => (registered ? { pushManager } : undefined)) } },
      PushManager: function PushManager() {},
      Notification,
    },
    pushManager,
    current: () => current,
  };
}

function fakeApi({ enabled = true, subscriptions = [] } = {}) {
  return {
    get: vi.fn(async (path) => {
      if (path === '/api/push/key') return { enabled, public_key: enabled ? PUBLIC_KEY : null };
      if (path === '/api/push/subscriptions') return { subscriptions };
      throw new Error(path);
    }),
    request: vi.fn(async () => ({})),
  };
}

describe('keyBytes', () => {
  it('decodes the base64url public key into the 65-byte uncompressed point', () => {
    const bytes = keyBytes(PUBLIC_KEY);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(65);
    expect(bytes[0]).toBe(4);
  });
});

describe('pushState', () => {
  it('tells what the device can do', async () => {
    expect(await pushState(fakeApi(), {})).toBe('unsupported');
    expect(await pushState(fakeApi(), fakeEnv({ permission: 'denied' }).env)).toBe('denied');
    expect(await pushState(fakeApi(), fakeEnv({ registered: false }).env)).toBe('unavailable');
    expect(await pushState(fakeApi({ enabled: false }), fakeEnv().env)).toBe('unavailable');
    expect(await pushState(fakeApi(), fakeEnv().env)).toBe('off');
    expect(await pushState(fakeApi(), fakeEnv({ subscribed: true }).env)).toBe('on');
  });
});

describe('subscribe and unsubscribe', () => {
  it('subscribes with the VAPID key and registers the device in the language', async () => {
    const api = fakeApi();
    const { env, pushManager } = fakeEnv();
    expect(await subscribe(api, 'nl', env)).toBe('on');
    expect(env.Notification.requestPermission).toHaveBeenCalled();
    const options = pushManager.subscribe.mock.calls[0][0];
    expect(options.userVisibleOnly).toBe(true);
    expect(Array.from(options.applicationServerKey)).toEqual(Array.from(keyBytes(PUBLIC_KEY)));
    expect(api.request).toHaveBeenCalledWith('POST', '/api/push/subscriptions', {
      endpoint: ENDPOINT,
      keys: { p256dh: 'BPkey', auth: 'authsecret' },
      language: 'nl',
    });
  });

  it('does nothing without permission', async () => {
    const api = fakeApi();
    const { env, pushManager } = fakeEnv({ grant: 'denied' });
    expect(await subscribe(api, 'fr', env)).toBe('denied');
    expect(pushManager.subscribe).not.toHaveBeenCalled();
    expect(api.request).not.toHaveBeenCalled();
  });

  it('does not stay subscribed when the server refuses the device', async () => {
    const api = fakeApi();
    api.request.mockRejectedValueOnce(new Error('422'));
    const { env, pushManager } = fakeEnv();
    await expect(subscribe(api, 'fr', env)).rejects.toThrow('422');
    const made = await pushManager.subscribe.mock.results[0].value;
    expect(made.unsubscribe).toHaveBeenCalled();
    expect(await pushManager.getSubscription()).toBe(null);
  });

  it('removes the device on the server, then in the browser', async () => {
    const api = fakeApi({ subscriptions: [{ id: 'other', endpoint: 'https://x/y' }, { id: 'mine', endpoint: ENDPOINT }] });
    const { env, current } = fakeEnv({ subscribed: true });
    const subscription = current();
    expect(await unsubscribe(api, env)).toBe('off');
    expect(api.request).toHaveBeenCalledWith('DELETE', '/api/push/subscriptions/mine');
    expect(subscription.unsubscribe).toHaveBeenCalled();
  });
});

describe('pushToggle', () => {
  beforeEach(() => setLanguage('en'));
  afterEach(() => setLanguage('fr'));

  it('is a checkbox that follows the state and switches push on and off', async () => {
    const api = fakeApi({ subscriptions: [{ id: 'mine', endpoint: ENDPOINT }] });
    const { env, pushManager } = fakeEnv();
    const el = pushToggle(api, { env });
    await el.ready;
    const input = el.querySelector('input');
    expect(el.textContent).toContain('Notifications on this device');
    expect(input.disabled).toBe(false);
    expect(input.checked).toBe(false);

    input.checked = true;
    input.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(input.checked && !input.disabled).toBe(true));
    expect(pushManager.subscribe).toHaveBeenCalled();
    expect(api.request.mock.calls[0][2].language).toBe('en');

    // The user's language changes: the device is registered again in it.
    setLanguage('nl');
    await vi.waitFor(() => expect(api.request.mock.calls.at(-1)[2]?.language).toBe('nl'));
    expect(el.textContent).toContain('Meldingen op dit toestel');

    input.checked = false;
    input.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(api.request).toHaveBeenCalledWith('DELETE', '/api/push/subscriptions/mine'));
    await vi.waitFor(() => expect(input.checked).toBe(false));
    el.destroy();
  });

  it('says why it cannot be switched on', async () => {
    const el = pushToggle(fakeApi(), { env: fakeEnv({ permission: 'denied' }).env });
    await el.ready;
    expect(el.querySelector('input').disabled).toBe(true);
    expect(el.textContent).toContain('blocked');
  });

  it('shows an API error and falls back to the real state', async () => {
    const api = fakeApi();
    api.request.mockRejectedValueOnce(new Error('boom'));
    const onError = vi.fn();
    const el = pushToggle(api, { env: fakeEnv().env, onError });
    await el.ready;
    const input = el.querySelector('input');
    input.checked = true;
    input.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(onError).toHaveBeenCalled());
    await vi.waitFor(() => expect(input.checked).toBe(false));
  });
});

describe('alertFromLocation', () => {
  it('reads the alert a notification opened the app at', () => {
    const id = '0190c3d2-1111-7000-8000-000000000001';
    expect(alertFromLocation({ search: `?alert=${id}` })).toBe(id);
    expect(alertFromLocation({ search: '?alert=<script>' })).toBe(null);
    expect(alertFromLocation({ search: '' })).toBe(null);
  });
});
