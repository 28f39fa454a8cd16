// The partners that have not acknowledged in time: escalated to a further SPOC, or flagged to
// SITCEN when no SPOC is left (docs/alerts.md §7). Read from the alert book, so an escalation or
// an acknowledgement pushed on /ws shows, or clears, at once.
import { h, refill } from '../dom.js';
import { language, t } from '../i18n.js';
import { formatWhen } from '../time.js';
import { textOf } from '../alerts.js';

const SHOWN = 20;

export class Escalations {
  constructor(app, el, open) {
    this.app = app;
    this.el = el;
    this.open = open;
  }

  render() {
    const rows = this.app.alerts.escalations();
    refill(
      this.el,
      h('h3', { id: 'escalations-title' }, t('alerts.escalations'), ' ', h('span', { class: ['count', rows.length && 'count-on'] }, String(rows.length))),
      rows.length
        ? h('ul', { class: 'escalation-list' }, rows.slice(0, SHOWN).map(({ alert, recipient: r }) => h(
            'li',
            { class: ['escalation', r.flagged_at ? 'flagged' : 'escalated'], dataset: { alert: alert.id, org: r.organisation } },
            h('button', { type: 'button', class: 'link', dataset: { key: `esc:${alert.id}:${r.organisation}` }, onclick: () => this.open(alert.id) },
              `${alert.ref} — ${textOf(alert, language()).headline}`),
            h('span', { class: 'escalation-what' },
              `${this.app.organisationName(r.organisation)} · `,
              r.flagged_at
                ? t('alerts.flagged_at', { when: formatWhen(r.flagged_at) })
                : t('alerts.escalated_at', { level: r.level, when: formatWhen(r.escalated_at) })))))
        : h('p', { class: 'muted small' }, t('alerts.no_escalations')),
    );
  }
}
