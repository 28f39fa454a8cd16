// Light and dark (night-shift) themes: CSS custom properties switched by data-theme on <html>.
// 'auto' follows the system's prefers-color-scheme; the choice is remembered on this browser.
const KEY = 'sitcen.theme';
export const THEME_CHOICES = ['auto', 'light', 'dark'];
const listeners = new Set();
const media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');

export function themeChoice() {
  const stored = globalThis.localStorage?.getItem(KEY);
  return THEME_CHOICES.includes(stored) ? stored : 'auto';
}

/** The theme in force: 'light' or 'dark'. */
export function resolvedTheme(choice = themeChoice()) {
  if (choice === 'auto') return media?.matches ? 'dark' : 'light';
  return choice;
}

// The page's background in each theme (styles.css --bg): the colour of a phone's status bar and
// of the installed app's title bar (<meta name="theme-color">, the manifest's theme_color).
export const THEME_COLOURS = { light: '#f3f5f7', dark: '#0b0f14' };

export function applyTheme(choice = themeChoice()) {
  globalThis.localStorage?.setItem(KEY, choice);
  const theme = resolvedTheme(choice);
  document.documentElement.dataset.theme = theme;
  // A theme chosen over the system's: both tags (one per system scheme) take its colour.
  for (const meta of document.querySelectorAll('meta[name="theme-color"]')) meta.setAttribute('content', THEME_COLOURS[theme]);
  for (const listener of listeners) listener(theme);
  return theme;
}

export function onTheme(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

media?.addEventListener?.('change', () => {
  if (themeChoice() === 'auto') applyTheme('auto');
});
