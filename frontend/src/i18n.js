// One FR/NL/EN catalogue. French is the default. A signed-in user's language is kept on their
// account (the server); this browser remembers the last one for its login page. Enum labels are
// looked up by the API's own values in the vocabulary the server declares (vocabulary.js), so
// the watch and the partners' alerts and e-mails use the same words.
import fr from './locales/fr.js';
import nl from './locales/nl.js';
import en from './locales/en.js';
import { LABELS } from './vocabulary.js';

export const CATALOGUES = { fr, nl, en };
export const LANGUAGES = ['fr', 'nl', 'en'];
export const DEFAULT_LANGUAGE = 'fr';
// Locale of dates and numbers for each language (Belgian French and Dutch; British English).
export const LOCALES = { fr: 'fr-BE', nl: 'nl-BE', en: 'en-GB' };

let current = DEFAULT_LANGUAGE;
const listeners = new Set();

function lookup(catalogue, key) {
  let node = catalogue;
  for (const part of key.split('.')) {
    if (node == null || typeof node !== 'object') return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

function format(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = params[name];
    if (value == null) return whole;
    return Array.isArray(value) ? value.join(', ') : String(value);
  });
}

/** The text of `key` in the current language (English, then the key itself, if missing). */
export function t(key, params) {
  const text = lookup(CATALOGUES[current], key) ?? lookup(CATALOGUES.en, key) ?? key;
  return format(text, params);
}

/** The label of an API enum value, e.g. label('category', 'fire'). */
export function label(group, value) {
  if (value == null || value === '') return '';
  return LABELS[current]?.[group]?.[value] ?? String(value).replaceAll('_', ' ');
}

export function language() {
  return current;
}

export function locale() {
  return LOCALES[current];
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  if (typeof document !== 'undefined') {
    document.documentElement.lang = lang;
    translate(document);
  }
  for (const listener of listeners) listener(lang);
}

export function onLanguage(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const PREFERENCE = 'sitcen.lang';

/** The language of the login page: this browser's last one, or French. */
export function preferredLanguage(storage = globalThis.localStorage) {
  const remembered = storage?.getItem(PREFERENCE);
  return LANGUAGES.includes(remembered) ? remembered : DEFAULT_LANGUAGE;
}

export function rememberLanguage(lang, storage = globalThis.localStorage) {
  storage?.setItem(PREFERENCE, lang);
}

/**
 * The language a signed-in dashboard starts in, and whether to save it to the account: one
 * chosen on the login page just now wins (and is saved); otherwise the account's; an account
 * that never chose keeps the page's current language.
 */
export function startLanguage({ account, chosenAtLogin, current }) {
  if (LANGUAGES.includes(chosenAtLogin)) return { lang: chosenAtLogin, save: chosenAtLogin !== account };
  if (LANGUAGES.includes(account)) return { lang: account, save: false };
  return { lang: LANGUAGES.includes(current) ? current : DEFAULT_LANGUAGE, save: false };
}

/**
 * Fill the static text of a DOM tree: `data-i18n="key"` sets the text, and
 * `data-i18n-attr="placeholder:key;aria-label:key"` sets attributes.
 */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}
