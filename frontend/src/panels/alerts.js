// Alerts as SITCEN follows them: the escalations on top, then every alert, newest first, with
// per partner its deliveries (webhook, e-mail: pending, delivered, failing, dead letter) and its
// acknowledgement (by whom, when, how). Everything follows the alert book, which /ws keeps live.
import { h, fill, refill, saveBlob, $ } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatWhen } from '../time.js';
import { ackState, deliveryState, textOf } from '../alerts.js';
import { Escalations } from './escalations.js';

const SHOWN = 100;

/** The badges of an alert: message type, status when not Actual, severity. */
export function alertBadges(alert) {
  return [
    h('span', { class: ['tag', `msg-${alert.msg_type}`] }, label('cap_msg_type', alert.msg_type)),
    alert.status !== 'Actual' ? h('span', { class: ['tag', 'tag-exercise'] }, label('cap_status', alert.status)) : null,
    h('span', { class: ['badge', `sev-${String(alert.severity).toLowerCase()}`] }, label('cap_severity', alert.severity)),
  ];
}

export class Alerts {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-alerts', app.root);
    this.filter = 'all';
    this.expanded = new Set();
    this.detailed = new Set();
    this.raf = null;
    this.render();
    app.alerts.subscribe((event) => this._onBook(event));
    onLanguage(() => this.render());
  }

  _onBook(event) {
    // An acknowledgement arriving live is said once, beside the row it changed.
    if (event.type === 'state' || event.type === 'alert') {
      for (const c of event.changes || []) if (c.acknowledged) this.lastAck = `${event.id}:${c.organisation}`;
    }
    this.schedule();
  }

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => {
      this.raf = null;
      this.renderList();
      this.escalations.render();
      this.app.renderAlertCount();
    });
  }

  render() {
    const app = this.app;
    this.list = h('ol', { class: 'alert-list', 'aria-label': t('alerts.list') });
    const escalations = h('section', { class: 'escalations', 'aria-labelledby': 'escalations-title' });
    this.escalations = new Escalations(app, escalations, (id) => this.open(id));
    fill(
      this.el,
      h('div', { class: 'panel-head' },
        h('h2', {}, t('alerts.title')),
        app.can('alerts:send')
          ? h('button', { type: 'button', class: 'primary', id: 'compose-alert', onclick: () => app.panels.composer.newAlert() }, t('alerts.compose'))
          : null),
      escalations,
      h('div', { class: 'alert-filter', role: 'group', 'aria-label': t('alerts.filter') },
        h('label', { class: 'field' }, h('span', {}, t('alerts.filter')),
          h('select', { onchange: (e) => { this.filter = e.target.value; this.renderList(); } },
            ['all', 'open', 'dead'].map((f) => h('option', { value: f, selected: this.filter === f }, t(`alerts.filter_${f}`)))))),
      this.list,
    );
    this.escalations.render();
    this.renderList();
  }

  _shown() {
    const book = this.app.alerts;
    const all = book.list();
    if (this.filter === 'open') return all.filter((a) => [...a.recipients.values()].some((r) => !r.acknowledged_at));
    if (this.filter === 'dead') return all.filter((a) => [...a.recipients.values()].some((r) => deliveryState(r) === 'dead'));
    return all;
  }

  renderList() {
    const alerts = this._shown().slice(0, SHOWN);
    refill(this.list, alerts.length ? alerts.map((a) => this.item(a)) : h('li', { class: 'muted' }, t('alerts.none')));
  }

  item(alert) {
    const book = this.app.alerts;
    const open = this.expanded.has(alert.id);
    const text = textOf(alert, language());
    const { acknowledged, total } = book.tally(alert.id);
    const rows = book.recipients(alert.id);
    const dead = rows.filter((r) => deliveryState(r) === 'dead').length;
    const escalated = rows.filter((r) => ['escalated', 'flagged'].includes(ackState(r))).length;
    return h(
      'li',
      { class: ['alert-item', `sev-${String(alert.severity).toLowerCase()}`, open && 'open'], dataset: { alert: alert.id } },
      h('button', {
        type: 'button',
        class: 'alert-open',
        'aria-expanded': String(open),
        dataset: { key: `open:${alert.id}` },
        onclick: () => this.toggle(alert.id),
      },
        h('span', { class: 'feed-line' },
          h('time', { datetime: alert.sent_at }, formatWhen(alert.sent_at)),
          h('span', { class: 'alert-ref' }, alert.ref),
          alertBadges(alert)),
        h('span', { class: 'feed-title' }, text.headline),
        h('span', { class: 'alert-tally' },
          h('span', { class: ['chip', acknowledged === total ? 'chip-ok' : 'chip-wait'] }, t('alerts.tally', { n: acknowledged, total })),
          escalated ? h('span', { class: 'chip chip-warn' }, t('alerts.tally_escalated', { n: escalated })) : null,
          dead ? h('span', { class: 'chip chip-bad' }, t('alerts.tally_dead', { n: dead })) : null)),
      open ? this.state(alert, rows) : null,
    );
  }

  state(alert, rows) {
    const app = this.app;
    const text = textOf(alert, language());
    return h(
      'div',
      { class: 'alert-state' },
      text.description ? h('p', { class: 'alert-text' }, text.description) : null,
      h('p', { class: 'muted small' },
        t('alerts.meta', {
          area: alert.area_desc || '—',
          origin: label('alert_origin', alert.origin),
          by: alert.created_by,
          when: formatDateTime(alert.sent_at),
        })),
      h('table', { class: 'alert-recipients' },
        h('caption', { class: 'sr-only' }, t('alerts.state_caption', { ref: alert.ref })),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('alerts.partner')),
          h('th', { scope: 'col' }, t('alerts.delivery')),
          h('th', { scope: 'col' }, t('alerts.acknowledgement')))),
        h('tbody', {}, rows.map((r) => this.recipientRow(alert, r)))),
      h('div', { class: 'actions' },
        app.can('alerts:send') && alert.msg_type !== 'Cancel'
          ? [
              h('button', { type: 'button', dataset: { key: `update:${alert.id}` }, onclick: () => app.panels.composer.reply(alert, 'Update') }, t('alerts.update')),
              h('button', { type: 'button', dataset: { key: `cancel:${alert.id}` }, onclick: () => app.panels.composer.reply(alert, 'Cancel') }, t('alerts.cancel')),
            ]
          : null,
        h('button', { type: 'button', dataset: { key: `cap:${alert.id}` }, onclick: () => this.download(`/api/alerts/${alert.id}.cap`, `${alert.ref}.cap.xml`) }, t('alerts.cap')),
        alert.entity && alert.entity_id && app.readable(alert.entity) && app.store.get(alert.entity, alert.entity_id)
          ? h('button', { type: 'button', onclick: () => app.openDetail(alert.entity, alert.entity_id) }, t('alerts.object', { ref: alert.entity_ref || '' }))
          : null,
        // A handover's escalation (origin `handover`) opens the handover panel.
        alert.origin === 'handover' && app.panels.handover
          ? h('button', { type: 'button', onclick: () => app.panels.handover.open() }, t('handover.title'))
          : null),
    );
  }

  recipientRow(alert, r) {
    const app = this.app;
    const ack = ackState(r);
    const delivery = deliveryState(r);
    const justNow = this.lastAck === `${alert.id}:${r.organisation}`;
    return h(
      'tr',
      { dataset: { org: r.organisation, ack, delivery } },
      h('th', { scope: 'row' }, app.organisationName(r.organisation), h('span', { class: 'muted small' }, ` ${r.organisation}`)),
      h('td', { class: 'delivery-state' },
        h('span', { class: ['chip', `chip-${delivery}`] }, t(`alerts.delivery_${delivery}`)),
        r.deliveries?.length
          ? h('ul', { class: 'deliveries' }, r.deliveries.map((d) => h('li', { dataset: { status: d.status } },
              `${label('channel', d.channel)}${d.address ? ` ${d.address}` : ''} — ${label('delivery_status', d.status)}`,
              d.attempts ? ` · ${t('alerts.attempts', { n: d.attempts })}` : '',
              d.last_error && d.status !== 'delivered' ? h('span', { class: 'error' }, ` · ${d.last_error}`) : null,
              d.delivered_at ? h('span', { class: 'muted' }, ` · ${formatWhen(d.delivered_at)}`) : null,
              d.status === 'dead' && app.can('alerts:send')
                ? [' ', h('button', { type: 'button', class: 'link', dataset: { key: `retry:${d.id}` }, onclick: () => this.retry(d) }, t('alerts.retry'))]
                : null)))
          : null),
      h('td', { class: 'ack-state' },
        h('span', { class: ['chip', `chip-${ack}`] }, t(`alerts.ack_${ack}`, { level: r.level })),
        r.acknowledged_at
          ? h('span', { class: 'ack-who' }, ' ', t('alerts.ack_by', { who: r.acknowledged_by, when: formatWhen(r.acknowledged_at), via: label('ack_via', r.ack_via) }))
          : null,
        justNow ? h('span', { class: 'live-note', role: 'status' }, ` ${t('alerts.ack_live')}`) : null,
        !r.acknowledged_at && r.deadline_at ? h('span', { class: 'muted small' }, ` ${t('alerts.deadline', { when: formatWhen(r.deadline_at) })}`) : null,
        !r.acknowledged_at && app.can('alerts:ack')
          ? [' ', h('button', { type: 'button', class: 'link', dataset: { key: `phone:${alert.id}:${r.organisation}` }, onclick: () => this.recordAck(alert, r.organisation) }, t('alerts.record_ack'))]
          : null),
    );
  }

  async toggle(id) {
    if (this.expanded.has(id)) this.expanded.delete(id);
    else {
      this.expanded.add(id);
      this._details(id);
    }
    this.renderList();
  }

  /** Open an alert's state (from the composer, an escalation or a toast). */
  open(id) {
    this.app.showTab('alerts');
    this.expanded.add(id);
    this._details(id);
    this.renderList();
    this.list.querySelector(`[data-alert="${CSS.escape(id)}"] .alert-open`)?.focus();
  }

  // The list page carries deliveries; an alert known only from a push or an escalation may not.
  async _details(id) {
    if (this.detailed.has(id)) return;
    this.detailed.add(id);
    try {
      this.app.alerts.load([await this.app.api.get(`/api/alerts/${id}`)]);
    } catch (error) {
      this.detailed.delete(id);
      this.app.apiError(error);
    }
  }

  async recordAck(alert, organisation) {
    const name = this.app.organisationName(organisation);
    if (!confirm(t('alerts.record_ack_confirm', { partner: name, ref: alert.ref }))) return;
    try {
      const { alert: id, ...row } = await this.app.api.request('POST', `/api/alerts/${alert.id}/ack`, { body: { organisation } });
      this.app.alerts.apply({ type: 'acked', alert: id, recipients: [row] });
    } catch (error) {
      this.app.apiError(error);
    }
  }

  async retry(delivery) {
    try {
      await this.app.api.request('POST', `/api/alerts/deliveries/${delivery.id}/retry`);
      this.app.toast(t('alerts.retried'), 'info', { timeout: 4000 });
    } catch (error) {
      this.app.apiError(error);
    }
  }

  async download(path, filename) {
    try {
      saveBlob(await this.app.api.blob(path), filename);
    } catch (error) {
      this.app.apiError(error);
    }
  }
}
