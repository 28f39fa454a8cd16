// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Feeds, statusText } from '../src/panels/feeds.js';
import { setLanguage } from '../src/i18n.js';
import { FakeApp } from './fakes.js';

function source(name, health, extra = {}) {
  return {
    name,
    title: name === 'kmi' ? 'IRM-KMI avertissements' : 'BE-Alert',
    url: `http://feeds.example/${name}.atom`,
    trust: 'verified',
    enabled: true,
    ...extra,
    health: {
      state: 'ok',
      last_polled_at: '2026-12-07T21:00:00Z',
      last_success_at: '2026-07-21T08:30:00Z',
      last_error_at: null,
      last_error: null,
      last_status: 304,
      failures: 0,
      next_poll_at: '2026-12-07T21:05:00Z',
      messages_ingested: 3,
      messages_ignored: 1,
      messages_rejected: 0,
      last_rejection: null,
      ...health,
    },
  };
}

const FAILING = source('bealert', {
  state: 'failing',
  last_status: null,
  failures: 2,
  last_error_at: '2026-07-21T08:45:00Z',
  last_error: 'ConnectError: All connection attempts failed',
}, { trust: 'unverified' });

let app;

function panel(permissions) {
  app = new FakeApp({ store: null, permissions });
  app.root.insertAdjacentHTML('beforeend', '<section id="panel-feeds"></section>');
  app.apiError = (error) => app.toast(String(error), 'error');
  app.api.reads['/api/feeds'] = { feeds: [source('kmi', {}), FAILING] };
  return new Feeds(app, { refreshMs: 60_000 });
}

beforeEach(() => setLanguage('fr'));
afterEach(() => {
  app?.stop();
  setLanguage('fr');
});

describe('the external feeds panel', () => {
  it('says what the last poll answered, or that nothing answered', () => {
    expect(statusText({ last_polled_at: 'x', last_status: 304 })).toBe('HTTP 304');
    expect(statusText({ last_polled_at: 'x', last_status: null })).toBe('pas de réponse');
    expect(statusText({ last_polled_at: null, last_status: null })).toBe('pas encore lu');
  });

  it('shows each source’s health, its times in Brussels, in the reader’s language', async () => {
    const p = panel(['feeds:read']);
    await p.load();
    const el = app.root.querySelector('#panel-feeds');
    const [kmi, bealert] = el.querySelectorAll('.feed-source');
    expect(kmi.dataset.state).toBe('ok');
    expect(kmi.textContent).toContain('en ordre');
    expect(kmi.textContent).toContain('vérifié');
    // 08:30 UTC on 21 July is 10:30 in Brussels (summer time).
    expect(kmi.querySelector('[data-field="last_success"]').textContent).toContain('10:30');
    expect(kmi.querySelector('[data-field="messages"]').textContent).toBe('3 intégrés · 1 ignorés · 0 refusés');
    expect(kmi.querySelector('[data-field="last_error"]')).toBeNull();
    expect(bealert.dataset.state).toBe('failing');
    expect(bealert.querySelector('[data-field="last_error"]').textContent).toContain('10:45 · ConnectError');
    expect(bealert.querySelector('[data-field="last_status"]').textContent).toBe('pas de réponse');
    expect(bealert.textContent).toContain('non vérifié');
    setLanguage('nl');
    expect(el.querySelector('[data-feed="bealert"]').textContent).toContain('mislukt');
    expect(el.querySelector('[data-feed="kmi"] [data-field="messages"]').textContent).toBe('3 opgenomen · 1 genegeerd · 0 geweigerd');
    expect(el.querySelectorAll('button')).toHaveLength(0);
  });

  it('lets an administrator poll a source now and switch it off', async () => {
    const p = panel(['feeds:read', 'feeds:manage']);
    await p.load();
    const el = app.root.querySelector('#panel-feeds');
    const buttons = [...el.querySelectorAll('[data-feed="bealert"] button')];
    buttons.find((b) => b.textContent === 'Lire maintenant').click();
    buttons.find((b) => b.textContent === 'Désactiver').click();
    await Promise.resolve();
    expect(app.api.requests.filter((r) => r.method !== 'GET')).toEqual([
      { method: 'POST', path: '/api/feeds/bealert/poll', body: undefined },
      { method: 'PATCH', path: '/api/feeds/bealert', body: { enabled: false } },
    ]);
  });
});
