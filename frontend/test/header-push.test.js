// @vitest-environment jsdom
import { describe, expect, it, vi } from 'vitest';
import { Header } from '../src/panels/header.js';
import { setLanguage } from '../src/i18n.js';

/** The header's preferences as index.html has them, and an app of the given role. */
function setup(role, can = true) {
  const root = document.createElement('div');
  root.innerHTML = '<div class="prefs"><span id="whoami"></span><button id="logout"></button></div>';
  const app = {
    root,
    me: { role },
    can: vi.fn((action) => action === 'push:subscribe' && can),
    api: { get: vi.fn(async () => ({ enabled: false })) },
    apiError: vi.fn(),
    cleanups: [],
  };
  const header = Object.create(Header.prototype);
  Object.assign(header, { app, root });
  header._push();
  return { root, header };
}

describe('Header: notifications on this device for SITCEN users', () => {
  it('offers the toggle to a SITCEN user, before who is signed in, with its hint', async () => {
    setLanguage('nl');
    const { root, header } = setup('official');
    const toggle = root.querySelector('.prefs .push-toggle');
    expect(toggle).not.toBeNull();
    expect(toggle.nextElementSibling.id).toBe('whoami');
    expect(toggle.textContent).toContain('Meldingen op dit toestel');
    expect(toggle.title).toContain('crisiscel');
    await header.push.ready;
    // jsdom has no service worker nor PushManager: why it is off goes into the tooltip.
    expect(toggle.querySelector('input').disabled).toBe(true);
    await vi.waitFor(() => expect(toggle.title).toMatch(/kan geen meldingen/));
    setLanguage('en');
    expect(toggle.title).toMatch(/^The crisis cell’s pages/);
  });

  it('not to a partner (its inbox has it), nor to a role that may not register a device', () => {
    expect(setup('partner').root.querySelector('.push-toggle')).toBeNull();
    expect(setup('admin', false).root.querySelector('.push-toggle')).toBeNull();
  });
});
