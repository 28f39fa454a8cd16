// External CAP feeds (docs/external-feeds.md): each source the centre watches (weather
// warnings, national alerts, neighbouring centres), how far it is trusted, and its health — last
// success, last error and its text, messages ingested, last HTTP status — so that the watch sees
// a feed gone silent. Administrators poll a source at once (after fixing it) and switch it on
// or off; sources are configured through the API (`/api/feeds`). Times in Europe/Brussels.
import { h, fill, $ } from '../dom.js';
import { onLanguage, t } from '../i18n.js';
import { formatWhen } from '../time.js';

const REFRESH_MS = 30_000;

/** The line a source's last poll gets: its HTTP status, or that no answer came. */
export function statusText(health) {
  if (!health.last_polled_at) return t('feeds.not_polled');
  return health.last_status == null ? t('feeds.no_answer') : t('feeds.http', { status: health.last_status });
}

export class Feeds {
  constructor(app, { refreshMs = REFRESH_MS } = {}) {
    this.app = app;
    this.el = $('#panel-feeds', app.root);
    this.feeds = [];
    this.loaded = false;
    this.refreshMs = refreshMs;
    this.timer = null;
    this.render();
    app.cleanups.push(onLanguage(() => this.render()));
    app.cleanups.push(() => this._stopRefresh());
  }

  shown() {
    this.load();
  }

  async load() {
    try {
      this.feeds = (await this.app.api.get('/api/feeds')).feeds;
      this.loaded = true;
    } catch (error) {
      this.app.apiError(error);
    }
    this.render();
    this._stopRefresh();
    if (!this.el.hidden) this.timer = setTimeout(() => this.load(), this.refreshMs);
  }

  _stopRefresh() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async _act(path, body, method = 'POST') {
    try {
      await this.app.api.request(method, path, body ? { body } : {});
    } catch (error) {
      this.app.apiError(error);
    }
    await this.load();
  }

  render() {
    fill(
      this.el,
      h('div', { class: 'panel-head' }, h('h2', {}, t('feeds.title'))),
      h('ol', { class: 'feed-sources' },
        this.feeds.length
          ? this.feeds.map((f) => this.item(f))
          : h('li', { class: 'muted' }, this.loaded ? t('feeds.none') : t('detail.loading'))),
    );
  }

  item(f) {
    const health = f.health;
    const manage = this.app.can('feeds:manage');
    return h(
      'li',
      { class: 'feed-source', dataset: { feed: f.name, state: health.state } },
      h('h3', {},
        f.title, ' ',
        h('span', { class: `chip chip-feed-${health.state}` }, t(`feeds.state.${health.state}`)), ' ',
        h('span', { class: `chip chip-trust-${f.trust}` }, t(`feeds.trust.${f.trust}`))),
      h('p', { class: 'small muted' }, f.url),
      h('dl', { class: 'feed-health small' },
        h('dt', {}, t('feeds.last_success')),
        h('dd', { dataset: { field: 'last_success' } }, health.last_success_at ? formatWhen(health.last_success_at) : t('feeds.never')),
        h('dt', {}, t('feeds.last_status')),
        h('dd', { dataset: { field: 'last_status' } }, statusText(health)),
        h('dt', {}, t('feeds.messages')),
        h('dd', { dataset: { field: 'messages' } }, t('feeds.counts', {
          ingested: health.messages_ingested, ignored: health.messages_ignored, rejected: health.messages_rejected,
        })),
        health.last_error
          ? [
              h('dt', {}, t('feeds.last_error')),
              h('dd', { dataset: { field: 'last_error' }, class: health.state === 'failing' ? 'error' : 'muted' },
                `${formatWhen(health.last_error_at)} · ${health.last_error}`),
            ]
          : null,
        health.last_rejection
          ? [h('dt', {}, t('feeds.last_rejection')), h('dd', { class: 'muted' }, health.last_rejection)]
          : null,
        f.enabled && health.next_poll_at
          ? [h('dt', {}, t('feeds.next_poll')), h('dd', {}, formatWhen(health.next_poll_at))]
          : null),
      manage
        ? h('div', { class: 'actions' },
            f.enabled
              ? h('button', { type: 'button', onclick: () => this._act(`/api/feeds/${f.name}/poll`) }, t('feeds.poll_now'))
              : null,
            h('button', { type: 'button', onclick: () => this._act(`/api/feeds/${f.name}`, { enabled: !f.enabled }, 'PATCH') },
              t(f.enabled ? 'feeds.disable' : 'feeds.enable')))
        : null,
    );
  }
}
