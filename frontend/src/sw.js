// The service worker (docs/mobile.md "Installable app"), built by vite-plugin-pwa's
// injectManifest: Workbox precaches the application shell (the build's files, listed in
// self.__WB_MANIFEST at build time) so the app opens without the network, and keeps the public
// reference geography (/api/reference/...) so its map is drawn at once. Nothing personal or
// partner-scoped is ever put in a cache here: the picture, the user's rights, tiles, alerts and
// every other /api answer go to the network only. The last known picture is the page's to keep
// (src/offline.js: IndexedDB, encrypted with a key that lives in the tab's session).
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { StaleWhileRevalidate } from 'workbox-strategies';
import { ExpirationPlugin } from 'workbox-expiration';
import { installPush } from './sw-push.js';

// The cache of the public reference layers: the same for every account, so it may outlive a
// session (logout keeps it). Any other cache of ours but the shell's is dropped at logout.
const REFERENCE_CACHE = 'sitcen-reference-v1';
const REFERENCE_DAYS = 30;

// A new version takes over as soon as it is installed; a page already open keeps the code it
// runs until it is reloaded (the next navigation is served the new shell).
self.skipWaiting();
clientsClaim();

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Every navigation inside the scope (/, /?mode=wall, /#board/…) opens the precached shell; the
// API's own pages (/api/docs) are not the app's.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api(\/|$)/, /^\/ws$/] }));

// Reference geography: served from the cache at once and refreshed behind (it changes when an
// administrator loads a new layer). Only 200 answers are kept; the cache ignores `Vary` since
// the layers are the same whoever asks (permission reference:read, given to every role).
registerRoute(
  ({ url, request }) => request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/api/reference/'),
  new StaleWhileRevalidate({
    cacheName: REFERENCE_CACHE,
    matchOptions: { ignoreVary: true },
    plugins: [
      {
        cacheWillUpdate: async ({ response }) => (response && response.status === 200 ? response : null),
      },
      new ExpirationPlugin({ maxEntries: 40, maxAgeSeconds: REFERENCE_DAYS * 24 * 3600, purgeOnQuotaError: true }),
    ],
  }),
);

/** Drop every cache but the shell's and the public reference layers (logout, session end). */
async function clearScoped() {
  // The same rule as the page's (src/pwa.js keptCache): the shell, and the public layers.
  const keep = (name) => name.startsWith('workbox-precache') || name.startsWith('sitcen-reference-');
  const names = await caches.keys();
  await Promise.all(names.filter((name) => !keep(name)).map((name) => caches.delete(name)));
}

self.addEventListener('message', (event) => {
  if (event.data?.type !== 'logout') return;
  // The page waits for the answer on the port it gave (src/pwa.js).
  event.waitUntil(clearScoped().then(() => event.ports[0]?.postMessage({ type: 'cleared' })));
});

// Alerts by Web Push (docs/alerts.md): the notification, its Acknowledge action and the tap.
installPush(self);
