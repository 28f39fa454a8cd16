// Alarm tests (docs/alerts.md §9): every campaign with, per partner, the time it took to
// acknowledge or "no answer"; the JSON and CSV reports to download; a form to start one for the
// roles that may. A running test follows the acknowledgements live: an `alert_state` of a
// campaign's alert re-reads that campaign's report.
import { h, fill, refill, saveBlob, $ } from '../dom.js';
import { label, locale, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatWhen } from '../time.js';
import { ApiError } from '../api.js';

const SHOWN = 30;
const REFRESH_MS = 300;

export function formatSeconds(seconds) {
  if (seconds == null) return '';
  const s = Math.round(seconds);
  const number = (n) => new Intl.NumberFormat(locale()).format(n);
  if (s < 60) return t('campaigns.seconds', { n: number(s) });
  const m = Math.floor(s / 60);
  if (m < 60) return t('campaigns.minutes', { m: number(m), s: String(s % 60).padStart(2, '0') });
  return t('campaigns.hours', { h: number(Math.floor(m / 60)), m: String(m % 60).padStart(2, '0') });
}

export class Campaigns {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-campaigns', app.root);
    this.campaigns = [];
    this.loaded = false;
    this.timers = new Map();
    this.list = h('ol', { class: 'campaign-list' });
    this.render();
    app.alerts.subscribe((event) => this._onBook(event));
    onLanguage(() => this.render());
  }

  async load() {
    if (!this.organised && this.app.organisations.size) {
      this.organised = true;
      this.render();
    }
    try {
      this.campaigns = (await this.app.api.get(`/api/campaigns?limit=${SHOWN}`)).campaigns;
      this.loaded = true;
      this.renderList();
    } catch (error) {
      this.app.apiError(error);
    }
  }

  _onBook(event) {
    if (event.type === 'load') return;
    const campaign = this.campaigns.find((c) => c.alert === event.id);
    if (campaign) this._refresh(campaign.id);
    else if (event.type === 'alert' && event.fresh && this.app.alerts.get(event.id)?.campaign_id) this.load();
  }

  // A burst of acknowledgements re-reads a report once.
  _refresh(id) {
    clearTimeout(this.timers.get(id));
    this.timers.set(id, setTimeout(async () => {
      this.timers.delete(id);
      try {
        const report = await this.app.api.get(`/api/campaigns/${id}`);
        this.campaigns = this.campaigns.map((c) => (c.id === id ? report : c));
        this.renderList();
      } catch (error) {
        this.app.apiError(error);
      }
    }, REFRESH_MS));
  }

  render() {
    const app = this.app;
    fill(
      this.el,
      h('div', { class: 'panel-head' }, h('h2', {}, t('campaigns.title'))),
      app.can('campaigns:manage')
        ? h('form', { class: 'campaign-form', onsubmit: (e) => this.start(e) },
            h('div', { class: 'field' },
              h('label', { for: 'campaign-name' }, t('campaigns.name')),
              h('input', { id: 'campaign-name', name: 'name', maxlength: 200, required: true, placeholder: t('campaigns.name_hint'), 'aria-describedby': 'campaign-error' })),
            h('p', { class: 'muted small' }, t('campaigns.to_all')),
            app.organisations.size
              ? h('details', { class: 'campaign-partners' },
                  h('summary', {}, t('campaigns.choose')),
                  h('div', { class: 'org-choices' }, [...app.organisations.values()].map((o) => h('label', { class: 'check' },
                    h('input', { type: 'checkbox', name: 'organisation', value: o.code }), ' ', app.organisationName(o.code)))))
              : null,
            h('p', { class: 'error', id: 'campaign-error', role: 'alert', hidden: true }),
            h('button', { type: 'submit', class: 'primary' }, t('campaigns.start')))
        : null,
      this.list,
    );
    this.renderList();
  }

  renderList() {
    refill(
      this.list,
      this.campaigns.length
        ? this.campaigns.map((c) => this.item(c))
        : h('li', { class: 'muted' }, this.loaded ? t('campaigns.none') : t('detail.loading')),
    );
  }

  item(c) {
    const s = c.summary;
    return h(
      'li',
      { class: 'campaign', dataset: { campaign: c.id } },
      h('h3', {}, c.name, ' ', h('span', { class: 'muted small' }, c.alert_ref)),
      h('p', { class: 'small' },
        t('campaigns.sent', { when: formatDateTime(c.sent_at), by: c.created_by }), ' · ',
        t('campaigns.summary', { answered: s.answered, partners: s.partners, no_answer: s.no_answer }),
        s.median_seconds_to_ack != null ? ` · ${t('campaigns.median', { time: formatSeconds(s.median_seconds_to_ack) })}` : '',
        s.max_seconds_to_ack != null ? ` · ${t('campaigns.max', { time: formatSeconds(s.max_seconds_to_ack) })}` : ''),
      h('table', { class: 'campaign-report' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('alerts.partner')),
          h('th', { scope: 'col' }, t('campaigns.time_to_ack')),
          h('th', { scope: 'col' }, t('campaigns.acknowledged_by')))),
        h('tbody', {}, c.partners.map((p) => h('tr', { dataset: { org: p.organisation, answered: String(p.answered) } },
          h('th', { scope: 'row' }, this.app.organisationName(p.organisation, p)),
          h('td', {}, p.answered
            ? formatSeconds(p.seconds_to_ack)
            : h('span', { class: 'chip chip-awaiting' }, t('campaigns.no_answer'))),
          h('td', {}, p.answered
            ? `${p.acknowledged_by} · ${formatWhen(p.acknowledged_at)} · ${label('ack_via', p.ack_via)}`
            : p.escalation_level ? t('alerts.ack_escalated', { level: p.escalation_level }) : '—'))))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', dataset: { key: `json:${c.id}` }, onclick: () => this.download(c, 'json') }, t('campaigns.download_json')),
        h('button', { type: 'button', dataset: { key: `csv:${c.id}` }, onclick: () => this.download(c, 'csv') }, t('campaigns.download_csv')),
        h('button', { type: 'button', onclick: () => this.app.panels.alerts?.open(c.alert) }, t('campaigns.open_alert'))),
    );
  }

  async download(c, kind) {
    const path = kind === 'csv' ? `/api/campaigns/${c.id}/report.csv` : `/api/campaigns/${c.id}`;
    try {
      saveBlob(await this.app.api.blob(path), `alarm-test-${c.id}.${kind}`);
    } catch (error) {
      this.app.apiError(error);
    }
  }

  async start(event) {
    event.preventDefault();
    const form = event.target;
    const error = $('#campaign-error', form);
    const name = form.elements.namedItem('name').value.trim();
    if (!name) {
      error.hidden = false;
      error.textContent = `${t('campaigns.name')}: ${t('validation.required')}`;
      return;
    }
    try {
      const chosen = [...form.querySelectorAll('input[name="organisation"]:checked')].map((b) => b.value);
      const organisations = chosen.length ? chosen : 'all';
      const report = await this.app.api.request('POST', '/api/campaigns', { body: { name, organisations } });
      this.campaigns = [report, ...this.campaigns.filter((c) => c.id !== report.id)];
      form.reset();
      error.hidden = true;
      this.renderList();
      this.app.toast(t('campaigns.started', { name, n: report.summary.partners }), 'info', { timeout: 5000 });
    } catch (e) {
      error.hidden = false;
      error.textContent = e instanceof ApiError ? [e.detail, ...e.fieldErrors().map((f) => `${f.field}: ${f.msg}`)].join(' ') : String(e);
    }
  }
}
