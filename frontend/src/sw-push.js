// The service worker's half of Web Push: `installPush(self)` adds the `push` and
// `notificationclick` handlers to the service worker's global scope (frontend/src/sw.js
// imports it). A push message (app/alerts/channels/push.py) carries the alert's id, reference,
// headline in the device's language and a signed acknowledgement token. The notification has
// an "Acknowledge" action that posts the token (no login: a locked phone has no session), and a
// tap opens (or focuses) the app at the alert, where one more tap acknowledges it.
// A crisis cell's page to a SITCEN user's seat (app/cell/paging.py, type `page`) is shown the
// same way: its "Acknowledge" posts its own token (to /cell/ack/push), a tap opens the
// activation's board.
//
// Self-contained (no i18n or DOM imports): a service worker has neither a document nor the
// app's state.

const TEXT = {
  fr: {
    acknowledge: 'Accuser réception',
    acknowledged: 'Réception confirmée',
    failed: "L'accusé de réception n'a pas pu être envoyé : ouvrez l'alerte.",
    page_failed: "L'accusé de réception n'a pas pu être envoyé : ouvrez le tableau de l'activation.",
    exercise: 'EXERCICE',
    Exercise: 'EXERCICE',
    Test: 'TEST',
    Update: 'Mise à jour',
    Cancel: 'Annulation',
  },
  nl: {
    acknowledge: 'Ontvangst bevestigen',
    acknowledged: 'Ontvangst bevestigd',
    failed: 'De ontvangstbevestiging kon niet verstuurd worden: open de melding.',
    page_failed: 'De ontvangstbevestiging kon niet verstuurd worden: open het bord van de activering.',
    exercise: 'OEFENING',
    Exercise: 'OEFENING',
    Test: 'TEST',
    Update: 'Bijwerking',
    Cancel: 'Annulering',
  },
  en: {
    acknowledge: 'Acknowledge',
    acknowledged: 'Acknowledged',
    failed: 'The acknowledgement could not be sent: open the alert.',
    page_failed: "The acknowledgement could not be sent: open the activation's board.",
    exercise: 'EXERCISE',
    Exercise: 'EXERCISE',
    Test: 'TEST',
    Update: 'Update',
    Cancel: 'Cancel',
  },
};
const URGENT = new Set(['Extreme', 'Severe']);
export const ACK_ACTION = 'ack';

function words(lang) {
  return TEXT[lang] || TEXT.fr;
}

/** A same-origin URL for a path the server named with its public URL: the worker only ever
 * talks to its own origin. */
function local(self, url, fallback = '/') {
  try {
    const parsed = new URL(url, self.location.origin);
    return new URL(parsed.pathname + parsed.search + parsed.hash, self.location.origin).href;
  } catch {
    return new URL(fallback, self.location.origin).href;
  }
}

/** The notification's title and options for an alert message. */
export function notificationFor(message) {
  const w = words(message.lang);
  const marks = [message.status !== 'Actual' && w[message.status], message.msg_type !== 'Alert' && w[message.msg_type]].filter(Boolean);
  const title = [`SITCEN ${message.ref}`, ...marks].join(' · ');
  return {
    title,
    options: {
      body: message.headline,
      lang: message.lang,
      tag: `alert-${message.alert}`, // an escalation reminder replaces the first notification
      renotify: true,
      requireInteraction: URGENT.has(message.severity),
      timestamp: Date.now(),
      data: { alert: message.alert, url: message.url, ack: message.ack, lang: message.lang },
      actions: message.ack ? [{ action: ACK_ACTION, title: w.acknowledge }] : [],
    },
  };
}

/** The notification's title and options for a crisis cell's page (always wakes the user). */
export function pageNotificationFor(message) {
  const w = words(message.lang);
  const title = [`SITCEN ${message.ref}`, message.exercise && w.exercise].filter(Boolean).join(' · ');
  return {
    title,
    options: {
      body: message.body ? `${message.headline}\n${message.body}` : message.headline,
      lang: message.lang,
      tag: `page-${message.position}`, // a reminder replaces the first notification
      renotify: true,
      requireInteraction: true,
      timestamp: Date.now(),
      data: {
        kind: 'page',
        activation: message.activation,
        position: message.position,
        url: message.url,
        ack: message.ack,
        lang: message.lang,
      },
      actions: message.ack ? [{ action: ACK_ACTION, title: w.acknowledge }] : [],
    },
  };
}

function readMessage(event) {
  try {
    const message = event.data?.json();
    if (message?.type === 'alert' && message.alert) return message;
    if (message?.type === 'page' && message.activation && message.position) return message;
    return null;
  } catch {
    return null;
  }
}

async function onPush(self, event) {
  const message = readMessage(event);
  if (!message) return;
  const { title, options } = message.type === 'page' ? pageNotificationFor(message) : notificationFor(message);
  await self.registration.showNotification(title, options);
}

/** Focus a window of the app and tell it to show the alert (or a page's activation board),
 * else open one there. */
async function openAt(self, data) {
  const page = data.kind === 'page';
  const url = local(self, data.url || (page ? `/#board/${data.activation}` : `/?alert=${data.alert}`));
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const mine = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (mine) {
    mine.postMessage(page ? { type: 'open-board', activation: data.activation } : { type: 'open-alert', alert: data.alert });
    return mine.focus();
  }
  return self.clients.openWindow(url);
}

async function acknowledge(self, data, fetchImpl) {
  const fallback = data.kind === 'page' ? '/cell/ack/push' : '/alerts/ack/push';
  const response = await fetchImpl(local(self, data.ack.url, fallback), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: data.ack.token }),
    credentials: 'omit',
  });
  return response.ok;
}

async function onClick(self, event, fetchImpl) {
  const notification = event.notification;
  const data = notification.data || {};
  notification.close();
  if (event.action === ACK_ACTION && data.ack) {
    let done = false;
    try {
      done = await acknowledge(self, data, fetchImpl);
    } catch {
      done = false;
    }
    const w = words(data.lang);
    const page = data.kind === 'page';
    const tag = page ? `page-${data.position}` : `alert-${data.alert}`;
    const { ack, ...rest } = data; // the follow-up acknowledges nothing more
    if (done) {
      await self.registration.showNotification(notification.title, {
        body: `✓ ${w.acknowledged}`,
        lang: data.lang,
        tag,
        data: rest,
      });
      return;
    }
    // Not recorded (offline, expired): the app at the alert (or the board), one tap from
    // acknowledging.
    await self.registration.showNotification(notification.title, {
      body: page ? w.page_failed : w.failed,
      lang: data.lang,
      tag,
      data: rest,
    });
    await openAt(self, data);
    return;
  }
  await openAt(self, data);
}

/** Add the push handlers to a service worker's global scope. */
export function installPush(self, { fetchImpl = (...args) => self.fetch(...args) } = {}) {
  self.addEventListener('push', (event) => event.waitUntil(onPush(self, event)));
  self.addEventListener('notificationclick', (event) => event.waitUntil(onClick(self, event, fetchImpl)));
}
