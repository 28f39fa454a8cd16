// Alerts on a locked phone: this device's Web Push subscription (RFC 8030), made with the
// server's VAPID public key (RFC 8292) and kept on the server for the signed-in user, in the
// user's language. The service worker shows the notification (sw-push.js, installPush); the
// server sends this device its organisation's alerts only. Logging out removes the device, so a
// shared phone never keeps receiving the alerts of the user who left it.
import { h } from './dom.js';
import { language, onLanguage, t } from './i18n.js';

/** The applicationServerKey PushManager.subscribe takes, from the server's base64url key. */
export function keyBytes(base64url) {
  const base64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  const raw = globalThis.atob(base64);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Whether this browser can take push messages at all (an installed service worker aside). */
export function supported(env = globalThis) {
  return Boolean(env.navigator?.serviceWorker && env.PushManager && env.Notification);
}

/** The service worker's registration, or null if none controls this page (never waits). */
async function registration(env) {
  return (await env.navigator.serviceWorker.getRegistration?.()) || null;
}

/**
 * Where push stands on this device: `unsupported` (browser), `unavailable` (no service worker
 * yet, or the server has no VAPID key), `denied` (the user refused notifications), `on`, `off`.
 */
export async function pushState(api, env = globalThis) {
  if (!supported(env)) return 'unsupported';
  if (env.Notification.permission === 'denied') return 'denied';
  const reg = await registration(env);
  if (!reg) return 'unavailable';
  const key = await api.get('/api/push/key');
  if (!key?.enabled) return 'unavailable';
  const subscription = await reg.pushManager.getSubscription();
  return subscription ? 'on' : 'off';
}

async function register(api, subscription, lang) {
  const json = subscription.toJSON();
  await api.request('POST', '/api/push/subscriptions', {
    endpoint: json.endpoint,
    keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
    language: lang,
  });
}

/** Ask for permission, subscribe this device and register it on the server; the new state. */
export async function subscribe(api, lang = language(), env = globalThis) {
  if (!supported(env)) return 'unsupported';
  const permission = await env.Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'denied' : 'off';
  const reg = await registration(env);
  if (!reg) return 'unavailable';
  const key = await api.get('/api/push/key');
  if (!key?.enabled) return 'unavailable';
  const subscription = await reg.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key.public_key),
  });
  try {
    await register(api, subscription, lang);
  } catch (error) {
    await subscription.unsubscribe(); // not left subscribed for nothing
    throw error;
  }
  return 'on';
}

/** Remove this device on the server, then in the browser; the new state. */
export async function unsubscribe(api, env = globalThis) {
  if (!supported(env)) return 'unsupported';
  const reg = await registration(env);
  const subscription = reg ? await reg.pushManager.getSubscription() : null;
  if (!subscription) return 'off';
  const { subscriptions } = await api.get('/api/push/subscriptions');
  const mine = subscriptions.find((s) => s.endpoint === subscription.endpoint);
  if (mine) await api.request('DELETE', `/api/push/subscriptions/${mine.id}`);
  await subscription.unsubscribe();
  return 'off';
}

/** The language changed: the device's notifications follow it. */
export async function relanguage(api, lang, env = globalThis) {
  if (!supported(env)) return;
  const reg = await registration(env);
  const subscription = reg ? await reg.pushManager.getSubscription() : null;
  if (subscription) await register(api, subscription, lang);
}

/** The alert a notification opened the app at (`?alert=<id>`), or null. */
export function alertFromLocation(loc = globalThis.location) {
  const id = new URLSearchParams(loc?.search || '').get('alert');
  return id && /^[0-9a-f-]{36}$/i.test(id) ? id : null;
}

/**
 * The toggle in the partner's alerts inbox: "Notifications on this device", with why it cannot
 * be switched on when it cannot. `onError` shows an API error.
 */
export function pushToggle(api, { onError = () => {}, env = globalThis } = {}) {
  const input = h('input', { type: 'checkbox', class: 'push-toggle-input', disabled: true });
  const status = h('span', { class: 'push-toggle-status muted small', role: 'status' });
  const text = h('span', {}, t('push.toggle'));
  const el = h('label', { class: 'push-toggle' }, input, text, status);
  let state = 'off';

  const show = (next) => {
    state = next;
    input.checked = state === 'on';
    input.disabled = !['on', 'off'].includes(state);
    text.textContent = t('push.toggle');
    status.textContent = ['on', 'off'].includes(state) ? '' : t(`push.${state}`);
  };
  const run = async (work) => {
    input.disabled = true;
    try {
      show(await work());
    } catch (error) {
      onError(error);
      show(await pushState(api, env).catch(() => 'unavailable'));
    }
  };
  input.addEventListener('change', () => run(() => (input.checked ? subscribe(api, language(), env) : unsubscribe(api, env))));
  const stop = onLanguage((lang) => {
    show(state);
    if (state === 'on') relanguage(api, lang, env).catch(onError);
  });
  el.ready = run(() => pushState(api, env));
  el.destroy = () => stop?.();
  return el;
}
