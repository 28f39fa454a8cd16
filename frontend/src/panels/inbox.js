// A partner SPOC's alerts: those addressed to its organisation, newest first, each in the
// user's language (else French, Dutch, English), as they arrive on /ws; one button to
// acknowledge. The acknowledgement goes by REST: its answer says for sure whether it was
// recorded, also while the socket is reconnecting; SITCEN sees it live either way.
import { h, refill, $ } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatWhen } from '../time.js';
import { textOf } from '../alerts.js';
import { alertBadges } from './alerts.js';
import { pushToggle } from '../push.js';

const SHOWN = 100;

export class Inbox {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-alerts', app.root);
    this.organisation = app.me.organisation;
    this.pending = new Set();
    this.raf = null;
    this.list = h('ol', { class: 'inbox-list' });
    // Alerts on this device even when the phone is locked (Web Push): the user's own choice.
    this.push = app.can('push:subscribe') ? pushToggle(app.api, { onError: (e) => app.apiError(e) }) : null;
    this.render();
    app.alerts.subscribe(() => this.schedule());
    onLanguage(() => this.render());
  }

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => {
      this.raf = null;
      this.renderList();
      this.app.renderAlertCount();
    });
  }

  render() {
    refill(
      this.el,
      h('div', { class: 'panel-head' }, h('h2', {}, t('inbox.title', { organisation: this.organisation || '' }))),
      this.push,
      this.list,
    );
    this.renderList();
  }

  own(alert) {
    return alert.recipients.get(this.organisation) || [...alert.recipients.values()][0] || {};
  }

  renderList() {
    const alerts = this.app.alerts.list().slice(0, SHOWN);
    refill(this.list, alerts.length ? alerts.map((a) => this.item(a)) : h('li', { class: 'muted' }, t('inbox.none')));
  }

  item(alert) {
    const text = textOf(alert, language());
    const mine = this.own(alert);
    const acked = Boolean(mine.acknowledged_at);
    return h(
      'li',
      { class: ['inbox-item', `sev-${String(alert.severity).toLowerCase()}`, acked ? 'acked' : 'unacked'], dataset: { alert: alert.id } },
      h('p', { class: 'feed-line' },
        h('time', { datetime: alert.sent_at }, formatWhen(alert.sent_at)),
        h('span', { class: 'alert-ref' }, alert.ref),
        alertBadges(alert)),
      h('h3', { class: 'inbox-headline', tabindex: '-1', lang: text.lang || null }, text.headline),
      text.description ? h('p', { class: 'alert-text', lang: text.lang || null }, text.description) : null,
      text.instruction ? h('p', { class: 'alert-instruction', lang: text.lang || null }, h('strong', {}, t('inbox.instruction')), ' ', text.instruction) : null,
      h('dl', { class: 'props small' },
        h('dt', {}, t('inbox.area')), h('dd', {}, alert.area_desc || '—'),
        h('dt', {}, t('inbox.urgency')), h('dd', {}, label('cap_urgency', alert.urgency)),
        h('dt', {}, t('inbox.certainty')), h('dd', {}, label('cap_certainty', alert.certainty)),
        alert.expires_at ? [h('dt', {}, t('inbox.expires')), h('dd', {}, formatDateTime(alert.expires_at))] : null),
      acked
        ? h('p', { class: 'ack-done' }, '✓ ', t('inbox.acknowledged', { who: mine.acknowledged_by, when: formatWhen(mine.acknowledged_at) }))
        : this.app.can('alerts:ack')
          ? h('button', {
              type: 'button',
              class: 'primary ack-button',
              dataset: { key: `ack:${alert.id}` },
              disabled: this.pending.has(alert.id),
              onclick: () => this.acknowledge(alert.id),
            }, t('inbox.acknowledge'))
          : null,
    );
  }

  /** Show one alert (a push notification opened the app at it): its headline gets the focus. */
  reveal(id) {
    this.renderList(); // now, not at the next frame: the alert may have just been loaded
    const headline = this.el.querySelector(`[data-alert="${CSS.escape(id)}"] .inbox-headline`);
    headline?.scrollIntoView?.({ block: 'center' });
    headline?.focus?.();
    return Boolean(headline);
  }

  async acknowledge(id) {
    this.pending.add(id);
    this.renderList();
    try {
      const { alert, ...row } = await this.app.api.request('POST', `/api/alerts/${id}/ack`);
      this.app.alerts.apply({ type: 'acked', alert, recipients: [row] });
      this.app.toast(t('inbox.acknowledged_toast', { ref: this.app.alerts.get(id)?.ref || '' }), 'info', { timeout: 4000 });
    } catch (error) {
      this.app.apiError(error);
    } finally {
      this.pending.delete(id);
      this.renderList();
      this.el.querySelector(`[data-alert="${CSS.escape(id)}"] .inbox-headline`)?.focus?.();
    }
  }
}
