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

export function applyTheme(choice = themeChoice()) {
  globalThis.localStorage?.setItem(KEY, choice);
  const theme = resolvedTheme(choice);
  document.documentElement.dataset.theme = theme;
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
