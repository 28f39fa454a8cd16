import { describe, expect, it } from 'vitest';
import { preferredLanguage, rememberLanguage, startLanguage } from '../src/i18n.js';
import { matchText, placeLabels } from '../src/gazetteer.js';

function memory() {
  const data = new Map();
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, String(v)) };
}

describe('language', () => {
  it('starts the login page in the browser’s last language, or French', () => {
    const storage = memory();
    expect(preferredLanguage(storage)).toBe('fr');
    rememberLanguage('nl', storage);
    expect(preferredLanguage(storage)).toBe('nl');
  });

  it('follows the account once signed in', () => {
    expect(startLanguage({ account: 'nl', chosenAtLogin: null, current: 'en' })).toEqual({ lang: 'nl', save: false });
  });

  it('keeps the page’s language for an account that never chose, without saving it', () => {
    expect(startLanguage({ account: null, chosenAtLogin: null, current: 'en' })).toEqual({ lang: 'en', save: false });
  });

  it('saves a language picked on the login page to the account', () => {
    expect(startLanguage({ account: 'fr', chosenAtLogin: 'nl', current: 'nl' })).toEqual({ lang: 'nl', save: true });
    expect(startLanguage({ account: 'nl', chosenAtLogin: 'nl', current: 'nl' })).toEqual({ lang: 'nl', save: false });
  });
});

describe('places', () => {
  it('are named in French, in Dutch, and both in English', () => {
    expect(placeLabels({ name_fr: 'Gare du Midi', name_nl: 'Zuidstation' })).toEqual({ fr: 'Gare du Midi', nl: 'Zuidstation', en: 'Gare du Midi / Zuidstation' });
    expect(placeLabels({ name_fr: 'Atomium', name_nl: 'Atomium' }).en).toBe('Atomium');
  });

  it('are found by either name, without accents', () => {
    expect(matchText('grand-place Grand-Place Grote Markt', 'grote')).toBe(true);
    expect(matchText('basilique-de-koekelberg Basilique de Koekelberg Basiliek van Koekelberg', 'basiliqué')).toBe(true);
  });
});
