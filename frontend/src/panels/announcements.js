// What the room must notice without looking: a new severe or extreme incident (a ring on the
// map, a toast, the tone, the unread count), a partner's new alert, and for SITCEN a partner's
// acknowledgement or a partner flagged for not answering. Each is said once.
import { SEVERITY_RANK } from '../model.js';
import { label, language, t } from '../i18n.js';
import { textOf } from '../alerts.js';
import { beep } from '../sound.js';
import { fill, $ } from '../dom.js';

export class Announcements {
  constructor(app) {
    this.app = app;
    this.said = new Set();
    app.store.subscribe((event) => this._severe(event));
  }

  // A new severe or extreme incident, or one raised to that grade.
  _severe(event) {
    const app = this.app;
    if (event.type !== 'change' || event.entity !== 'incident' || event.outcome !== 'applied') return;
    if (!event.entry?.arrivedAt || !event.feature) return;
    const rank = SEVERITY_RANK[event.feature.properties.severity] ?? 0;
    const before = event.previous ? SEVERITY_RANK[event.previous.properties.severity] ?? 0 : -1;
    if (rank < 2 || before >= 2) return;
    app.mapView.flash(event.feature);
    if (app.wall) return;
    app.header.setUnread(app.header.unread + 1);
    beep(rank === 3);
    const p = event.feature.properties;
    app.toast(t('alert.severe', { severity: label('severity', p.severity), title: p.title }), `severe sev-${p.severity}`, {
      action: () => app.openDetail('incident', event.feature.id),
    });
  }

  /** A pushed alert message, once the alert book has taken it (`known`: held before). */
  alert(message, known) {
    if (message.type === 'alert' && !known) this._arrived(this.app.alerts.get(message.alert.id));
    else if (message.type === 'alert_state' && !this.app.partner) this._state(message);
  }

  // A partner hears a new alert: a toast, the tone, the count on the tab.
  _arrived(alert) {
    const app = this.app;
    if (!alert || !app.partner) return;
    beep(alert.severity === 'Extreme');
    const sev = String(alert.severity).toLowerCase();
    app.toast(t('inbox.arrived', { ref: alert.ref, headline: textOf(alert, language()).headline }), `severe sev-${sev}`, {
      action: () => app.showTab('alerts'),
    });
  }

  // SITCEN hears an acknowledgement, and a partner flagged for not answering.
  _state(message) {
    const app = this.app;
    const alert = app.alerts.get(message.alert);
    if (!alert) return;
    for (const r of message.recipients || []) {
      const row = alert.recipients.get(r.organisation);
      const name = app.organisationName(r.organisation);
      const open = () => app.panels.alerts.open(alert.id);
      if (r.acknowledged_at && row?.acknowledged_at === r.acknowledged_at && this._once(`${alert.id}:${r.organisation}:ack`)) {
        app.toast(t('alerts.acked_toast', { partner: name, ref: alert.ref, who: r.acknowledged_by }), 'info', { action: open, timeout: 8000 });
      } else if (r.flagged_at && !r.acknowledged_at && this._once(`${alert.id}:${r.organisation}:flag`)) {
        beep(true);
        app.toast(t('alerts.flagged_toast', { partner: name, ref: alert.ref }), 'error', { action: open });
      }
    }
  }

  _once(key) {
    if (this.said.has(key)) return false;
    this.said.add(key);
    return true;
  }

  /** The count on the alerts tab: a partner's alerts to acknowledge, SITCEN's escalations. */
  renderAlertCount() {
    const app = this.app;
    const badge = $('#tab-alerts .tab-count', app.root);
    if (!badge) return;
    const n = app.partner ? app.alerts.unacknowledged(app.me.organisation).length : app.alerts.escalations().length;
    badge.hidden = n === 0;
    fill(badge, String(n));
    badge.title = app.partner ? t('inbox.to_acknowledge', { n }) : t('alerts.escalations_count', { n });
  }
}
