// Boot: the login page, the dashboard, or (?mode=wall) the wall view.
import './styles.css';
import { Api } from './api.js';
import { App } from './app.js';
import { errorDetail } from './format.js';
import { showLogin } from './panels/login.js';
import { language, preferredLanguage, setLanguage, startLanguage, t, translate } from './i18n.js';
import { applyTheme } from './theme.js';
import { LastPicture } from './offline.js';
import { clearScopedCaches, registerServiceWorker, tellLogout } from './pwa.js';

const root = document.getElementById('root');
const wall = new URLSearchParams(location.search).get('mode') === 'wall';
const api = new Api();
// Public settings (the optional online base map), asked once, before sign-in.
const config = api.config();
// The installable app (docs/mobile.md): the shell and the reference layers from the service
// worker; this session's last picture kept for a start without the network. The worker is
// registered once the first picture is drawn (or at once on the login page): its install
// downloads the whole shell, which on a phone's network would compete with that picture.
const lastPicture = new LastPicture();
lastPicture.sweep().catch(() => {});

/** A session ends (logout, expiry): what it kept is forgotten, here and in the service worker. */
function forget() {
  return Promise.all([lastPicture.clear(), clearScopedCaches(), tellLogout()]).catch(() => {});
}

applyTheme();
setLanguage(preferredLanguage());
translate(document);

function signIn() {
  registerServiceWorker();
  showLogin({ root, api, onSignedIn: (session, { language: chosen } = {}) => start(session, chosen) });
}

async function start(session, chosenAtLogin = null) {
  // The sign-in answer names the account's language: the dashboard is drawn in it at once.
  setLanguage(startLanguage({ account: session.user?.language, chosenAtLogin, current: language() }).lang);
  const app = new App({ api, root, wall, config: await config, chosenAtLogin, lastPicture, forget });
  // Tests and the benchmark read the state through this handle.
  window.sitcen = app;
  // The session could not be refreshed: start afresh on the login page.
  api.onExpired = async () => {
    app.stop();
    await forget();
    location.replace(location.pathname + location.search);
  };
  try {
    await app.start();
    registerServiceWorker();
  } catch (error) {
    if (error.status === 401) {
      app.stop();
      await Promise.all([api.logout(), forget()]);
      signIn();
      return;
    }
    // Before the dashboard is laid out there is no toast area: say it in the page itself.
    app.stop();
    const message = document.createElement('p');
    message.className = 'error boot-error';
    message.setAttribute('role', 'alert');
    message.textContent = t('alert.error', { detail: errorDetail(error) });
    root.replaceChildren(message);
    throw error;
  }
}

if (api.session) {
  api.resume();
  start(api.session);
} else {
  signIn();
}
