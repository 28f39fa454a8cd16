// The login page. The token is kept in this tab's sessionStorage only (Api): closing the tab
// signs out; another tab signs in on its own.
import { fill, $ } from '../dom.js';
import { LANGUAGES, language, rememberLanguage, setLanguage, t, translate } from '../i18n.js';

export function showLogin({ root, api, onSignedIn }) {
  fill(root, document.getElementById('tpl-login').content.cloneNode(true));
  translate(root);
  const form = $('#login-form', root);
  const error = $('#login-error', root);
  const submit = form.querySelector('button[type="submit"]');
  // A language picked here is the user's choice: the dashboard saves it to their account.
  let chosen = null;
  for (const button of root.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === language()));
    button.addEventListener('click', () => {
      chosen = button.dataset.lang;
      setLanguage(chosen);
      rememberLanguage(chosen);
      for (const b of root.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === language()));
    });
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const username = form.elements.namedItem('username').value.trim();
      const session = await api.login(username, form.elements.namedItem('password').value);
      onSignedIn(session, { language: chosen });
    } catch (e) {
      error.textContent = t('login.failed', { detail: e.detail || e.message });
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = t('login.submit');
      form.elements.namedItem('password').select();
    }
  });
  form.elements.namedItem('username').focus();
  return LANGUAGES;
}
