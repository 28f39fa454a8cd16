// Partner alerts in the browser: every alert known, and per partner (recipient) its
// acknowledgement, escalation and deliveries. Pure state, no DOM. It takes the REST snapshot
// (GET /api/alerts, /api/alerts/{id}, /api/alerts/escalations) and the pushes of /ws
// (`alert`, `alert_state`, `acked`: docs/alerts.md §6) in any order: what a partner did never
// goes back — the first acknowledgement counts, an escalation level only rises, a delivered
// message stays delivered — so a snapshot read before a push and answered after it cannot undo it.
import { Emitter } from './emitter.js';

export const LANGUAGE_ORDER = ['fr', 'nl', 'en'];

/** The alert's text in `lang`, else French, Dutch, English (as the server's readers get it). */
export function textOf(alert, lang) {
  const texts = alert?.texts || {};
  for (const l of [lang, ...LANGUAGE_ORDER]) {
    if (texts[l]?.headline) return { lang: l, ...texts[l] };
  }
  return { lang: null, headline: alert?.event || alert?.ref || '' };
}

function later(a, b) {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** One delivery as last heard of; a delivered message is never taken back by an older read. */
export function mergeDelivery(held, incoming) {
  if (!held) return { ...incoming };
  if (held.status === 'delivered' && incoming.status !== 'delivered') return held;
  return { ...held, ...incoming };
}

/** A recipient row merged with a newer (or older) report of it. */
export function mergeRecipient(held, incoming) {
  if (!held) return { ...incoming, deliveries: incoming.deliveries ? incoming.deliveries.map((d) => ({ ...d })) : undefined };
  const out = { ...held };
  if (!held.acknowledged_at && incoming.acknowledged_at) {
    out.acknowledged_at = incoming.acknowledged_at;
    out.acknowledged_by = incoming.acknowledged_by;
    out.ack_via = incoming.ack_via;
  }
  if ((incoming.level ?? 0) >= (held.level ?? 0)) {
    out.level = incoming.level ?? 0;
    out.deadline_at = incoming.deadline_at ?? held.deadline_at;
  }
  out.escalated_at = later(held.escalated_at, incoming.escalated_at);
  out.flagged_at = held.flagged_at || incoming.flagged_at || null;
  if (incoming.deliveries) {
    const byId = new Map((held.deliveries || []).map((d) => [d.id, d]));
    for (const d of incoming.deliveries) byId.set(d.id, mergeDelivery(byId.get(d.id), d));
    out.deliveries = [...byId.values()];
  }
  return out;
}

/** Where a partner's acknowledgement stands: acknowledged, flagged to SITCEN, escalated, awaiting. */
export function ackState(r) {
  if (r.acknowledged_at) return 'acknowledged';
  if (r.flagged_at) return 'flagged';
  if (r.escalated_at || (r.level ?? 0) > 0) return 'escalated';
  return 'awaiting';
}

/**
 * Where the messages to a partner stand: `dead` (a dead letter), `failing` (a send failed and
 * is retried), `pending`, `delivered`, `push` (no webhook or e-mail: the /ws push only), or
 * `unknown` (deliveries not read yet).
 */
export function deliveryState(r) {
  const ds = r.deliveries;
  if (!ds) return 'unknown';
  if (!ds.length) return 'push';
  if (ds.some((d) => d.status === 'dead')) return 'dead';
  if (ds.some((d) => d.status !== 'delivered' && (d.attempts > 0 && d.last_error))) return 'failing';
  if (ds.some((d) => d.status !== 'delivered')) return 'pending';
  return 'delivered';
}

export function isEscalation(r) {
  return !r.acknowledged_at && Boolean(r.flagged_at || r.escalated_at || (r.level ?? 0) > 0);
}

export class AlertBook extends Emitter {
  constructor() {
    super();
    this.alerts = new Map();
  }

  get(id) {
    return this.alerts.get(id) || null;
  }

  has(id) {
    return this.alerts.has(id);
  }

  /** Every alert, newest first. */
  list() {
    return [...this.alerts.values()].sort((a, b) => Date.parse(b.sent_at) - Date.parse(a.sent_at) || (a.id < b.id ? 1 : -1));
  }

  /** The partners of an alert, by organisation code. */
  recipients(id) {
    const alert = this.get(id);
    return alert ? [...alert.recipients.values()].sort((a, b) => a.organisation.localeCompare(b.organisation)) : [];
  }

  _take(alert, rows) {
    const { recipients: _ignored, ...fields } = alert;
    const held = this.alerts.get(alert.id);
    const merged = held ? Object.assign(held, fields) : { ...fields, recipients: new Map() };
    this.alerts.set(alert.id, merged);
    return { alert: merged, fresh: !held, changed: this._merge(merged, rows) };
  }

  _merge(merged, rows) {
    const changed = [];
    for (const row of rows || []) {
      const before = merged.recipients.get(row.organisation);
      const after = mergeRecipient(before, row);
      merged.recipients.set(row.organisation, after);
      changed.push({ organisation: row.organisation, before: before || null, after });
    }
    return changed;
  }

  /** Alerts as GET /api/alerts or /api/alerts/{id} answer them (recipients inside). */
  load(alerts) {
    for (const alert of alerts) this._take(alert, alert.recipients);
    this.emit({ type: 'load' });
  }

  /** The rows of GET /api/alerts/escalations for alerts already known; answers the unknown ids. */
  loadEscalations(rows) {
    const unknown = new Set();
    for (const { alert: id, ...row } of rows) {
      const alert = this.alerts.get(id);
      if (!alert) unknown.add(id);
      else this._merge(alert, [row]);
    }
    this.emit({ type: 'load' });
    return [...unknown];
  }

  /**
   * Apply one /ws message. Answers 'applied', 'unknown' (an `alert_state` or `acked` of an
   * alert not held: read it by REST, then apply again) or 'ignored'.
   */
  apply(message) {
    if (message.type === 'alert' && message.alert?.id) {
      const { alert, fresh, changed } = this._take(message.alert, message.recipients);
      this.emit({ type: 'alert', id: alert.id, fresh, changes: describe(changed) });
      return 'applied';
    }
    if (message.type === 'alert_state' || message.type === 'acked') {
      const id = message.alert;
      const alert = this.alerts.get(id);
      if (!alert) return 'unknown';
      const changed = this._merge(alert, message.recipients);
      this.emit({ type: 'state', id, changes: describe(changed) });
      return 'applied';
    }
    return 'ignored';
  }

  /** Unacknowledged recipients escalated or flagged, flagged first, then latest first. */
  escalations() {
    const out = [];
    for (const alert of this.alerts.values()) {
      for (const r of alert.recipients.values()) if (isEscalation(r)) out.push({ alert, recipient: r });
    }
    const rank = (e) => (e.recipient.flagged_at ? 1 : 0);
    return out.sort((a, b) => rank(b) - rank(a) || Date.parse(later(b.recipient.escalated_at, b.recipient.flagged_at) || 0) - Date.parse(later(a.recipient.escalated_at, a.recipient.flagged_at) || 0));
  }

  /** Alerts with an organisation (or any) not yet acknowledged. */
  unacknowledged(organisation = null) {
    return this.list().filter((a) => [...a.recipients.values()].some((r) => (!organisation || r.organisation === organisation) && !r.acknowledged_at));
  }

  /** How many partners acknowledged, of how many. */
  tally(id) {
    const rows = this.recipients(id);
    return { acknowledged: rows.filter((r) => r.acknowledged_at).length, total: rows.length };
  }
}

// What a merge changed, as the panels need it: newly acknowledged, escalated, flagged.
function describe(changed) {
  return changed.map(({ organisation, before, after }) => ({
    organisation,
    acknowledged: Boolean(after.acknowledged_at && !before?.acknowledged_at),
    escalated: (after.level ?? 0) > (before?.level ?? 0),
    flagged: Boolean(after.flagged_at && !before?.flagged_at),
  }));
}
