// The installable app's page side (docs/mobile.md "Installable app"): registers the service
// worker (src/sw.js, built to /sw.js) over the whole app, and tells it when a session ends.
// Service workers exist only in secure contexts (HTTPS, or http://localhost / 127.0.0.1): on
// plain HTTP the dashboard works as before, online only.

export const SW_URL = '/sw.js';

/** Register the service worker; resolves to its registration, or null where there is none. */
export async function registerServiceWorker(nav = globalThis.navigator) {
  if (!nav?.serviceWorker) return null;
  try {
    // updateViaCache 'none': the browser asks the server for sw.js and what it imports at each
    // check, whatever HTTP caching says (the server sends it with no-cache too).
    return await nav.serviceWorker.register(SW_URL, { scope: '/', updateViaCache: 'none' });
  } catch {
    return null;
  }
}

/**
 * Tell the service worker the session ended: it drops every cache but the shell's and the public
 * reference layers. Resolves when it answered (or after `waitMs`: a worker gone is no reason to
 * keep a user from logging out). The page also drops those caches itself (clearScopedCaches).
 */
export async function tellLogout(nav = globalThis.navigator, waitMs = 2000) {
  const worker = nav?.serviceWorker?.controller;
  if (!worker) return false;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(false), waitMs);
    channel.port1.onmessage = () => {
      clearTimeout(timer);
      resolve(true);
    };
    worker.postMessage({ type: 'logout' }, [channel.port2]);
  });
}

/** The caches a session end keeps: the shell (Workbox's precache) and the public reference layers. */
export function keptCache(name) {
  return name.startsWith('workbox-precache') || name.startsWith('sitcen-reference-');
}

/** Drop, from the page, every cache a session end does not keep. */
export async function clearScopedCaches(cacheStorage = globalThis.caches) {
  if (!cacheStorage) return [];
  const dropped = (await cacheStorage.keys()).filter((name) => !keptCache(name));
  await Promise.all(dropped.map((name) => cacheStorage.delete(name)));
  return dropped;
}
