import { describe, expect, it } from 'vitest';
import { AlertBook, ackState, deliveryState, mergeRecipient, textOf } from '../src/alerts.js';
import { alertBody, draftFrom, emptyDraft, fieldOf, validateAlert } from '../src/cap.js';

const alert = (id, sentAt = '2026-09-26T10:00:00+02:00', extra = {}) => ({
  id,
  ref: `ALR-2026-${id}`,
  status: 'Actual',
  msg_type: 'Alert',
  severity: 'Severe',
  urgency: 'Immediate',
  certainty: 'Observed',
  categories: ['Transport'],
  event: 'Tunnel closure',
  texts: { fr: { headline: 'Fermeture du tunnel' }, nl: { headline: 'Sluiting van de tunnel' } },
  area_desc: 'Bruxelles',
  area: null,
  sent_at: sentAt,
  ...extra,
});
const row = (organisation, extra = {}) => ({
  organisation,
  deadline_at: '2026-09-26T10:05:00+02:00',
  level: 0,
  escalated_at: null,
  flagged_at: null,
  acknowledged_at: null,
  acknowledged_by: null,
  ack_via: null,
  ...extra,
});
const delivery = (id, status, extra = {}) => ({ id, channel: 'webhook', address: 'https://x', status, attempts: 1, last_error: null, ...extra });
const ACK = { acknowledged_at: '2026-09-26T10:01:00+02:00', acknowledged_by: 'spoc-1', ack_via: 'websocket' };

function book(...alerts) {
  const b = new AlertBook();
  b.load(alerts.map(([a, rows]) => ({ ...a, recipients: rows })));
  return b;
}

describe('the alert book, from the snapshot and the pushes of /ws', () => {
  it('shows an acknowledgement pushed as alert_state on the partner it concerns only', () => {
    const b = book([alert('a1'), [row('pz-5339'), row('stib-mivb')]]);
    const events = [];
    b.subscribe((e) => events.push(e));
    expect(b.apply({ type: 'alert_state', alert: 'a1', recipients: [row('pz-5339', ACK)] })).toBe('applied');
    const [pz, stib] = b.recipients('a1');
    expect(ackState(pz)).toBe('acknowledged');
    expect(pz.acknowledged_by).toBe('spoc-1');
    expect(ackState(stib)).toBe('awaiting');
    expect(b.tally('a1')).toEqual({ acknowledged: 1, total: 2 });
    expect(events.at(-1)).toMatchObject({ type: 'state', id: 'a1', changes: [{ organisation: 'pz-5339', acknowledged: true }] });
  });

  it('never takes an acknowledgement back: a snapshot read before the ack and answered after it', () => {
    const b = book([alert('a1'), [row('pz-5339')]]);
    b.apply({ type: 'acked', alert: 'a1', recipients: [row('pz-5339', ACK)] });
    b.load([{ ...alert('a1'), recipients: [row('pz-5339')] }]);
    expect(b.recipients('a1')[0].acknowledged_at).toBe(ACK.acknowledged_at);
    // The first acknowledgement counts: a later one by another path changes nothing.
    b.apply({ type: 'alert_state', alert: 'a1', recipients: [row('pz-5339', { ...ACK, acknowledged_at: '2026-09-26T10:09:00+02:00', acknowledged_by: 'op', ack_via: 'on_behalf' })] });
    expect(b.recipients('a1')[0]).toMatchObject(ACK);
  });

  it('takes a new alert pushed on /ws, newest first, and says it is new once', () => {
    const b = book([alert('a1', '2026-09-26T10:00:00+02:00'), [row('pz-5339')]]);
    const events = [];
    b.subscribe((e) => events.push(e));
    b.apply({ type: 'alert', alert: alert('a2', '2026-09-26T11:00:00+02:00'), recipients: [row('pz-5339')] });
    b.apply({ type: 'alert', alert: alert('a2', '2026-09-26T11:00:00+02:00'), recipients: [row('pz-5339')] });
    expect(b.list().map((a) => a.id)).toEqual(['a2', 'a1']);
    expect(events.map((e) => e.fresh)).toEqual([true, false]);
  });

  it('answers unknown for the state of an alert it does not hold, and changes nothing', () => {
    const b = book();
    expect(b.apply({ type: 'alert_state', alert: 'zz', recipients: [row('pz-5339', ACK)] })).toBe('unknown');
    expect(b.list()).toEqual([]);
    expect(b.apply({ type: 'change', seq: 3 })).toBe('ignored');
  });

  it('follows deliveries from pending through failing to delivered or dead, and a retry', () => {
    const b = book([alert('a1'), [row('pz-5339', { deliveries: [delivery('d1', 'pending', { attempts: 0 })] })]]);
    const state = () => deliveryState(b.recipients('a1')[0]);
    expect(state()).toBe('pending');
    const push = (...ds) => b.apply({ type: 'alert_state', alert: 'a1', recipients: [row('pz-5339', { deliveries: ds })] });
    push(delivery('d1', 'pending', { attempts: 2, last_error: 'HTTP 500' }));
    expect(state()).toBe('failing');
    push(delivery('d1', 'dead', { attempts: 5, last_error: 'HTTP 500' }));
    expect(state()).toBe('dead');
    push(delivery('d1', 'pending', { attempts: 0, last_error: 'HTTP 500' }));
    expect(state()).toBe('pending');
    push(delivery('d1', 'delivered', { attempts: 1 }), delivery('d2', 'delivered'));
    expect(state()).toBe('delivered');
    // An older read of the same delivery does not undo its delivery.
    push(delivery('d1', 'sending', { attempts: 1 }));
    expect(state()).toBe('delivered');
    expect(b.recipients('a1')[0].deliveries).toHaveLength(2);
  });

  it('keeps the deliveries it knows when a push carries none (a partner row)', () => {
    const held = row('pz-5339', { deliveries: [delivery('d1', 'delivered')] });
    expect(mergeRecipient(held, row('pz-5339', ACK)).deliveries).toHaveLength(1);
    expect(deliveryState(row('pz-5339'))).toBe('unknown');
    expect(deliveryState(row('pz-5339', { deliveries: [] }))).toBe('push');
  });

  it('lists escalations, flagged first, and drops one once acknowledged', () => {
    const b = book(
      [alert('a1'), [row('pz-5339', { level: 1, escalated_at: '2026-09-26T10:06:00+02:00' }), row('stib-mivb')]],
      [alert('a2'), [row('nccn')]],
    );
    expect(b.escalations().map((e) => e.recipient.organisation)).toEqual(['pz-5339']);
    b.apply({ type: 'alert_state', alert: 'a2', recipients: [row('nccn', { level: 2, escalated_at: '2026-09-26T10:07:00+02:00', flagged_at: '2026-09-26T10:12:00+02:00' })] });
    expect(b.escalations().map((e) => [e.alert.id, e.recipient.organisation])).toEqual([['a2', 'nccn'], ['a1', 'pz-5339']]);
    expect(ackState(b.recipients('a2')[0])).toBe('flagged');
    b.apply({ type: 'alert_state', alert: 'a1', recipients: [row('pz-5339', { level: 1, ...ACK })] });
    expect(b.escalations().map((e) => e.recipient.organisation)).toEqual(['nccn']);
    // A stale row of a lower level does not lower the level.
    b.apply({ type: 'alert_state', alert: 'a2', recipients: [row('nccn', { level: 1 })] });
    expect(b.recipients('a2')[0].level).toBe(2);
  });

  it('adds the rows of GET /api/alerts/escalations and names the alerts it must read', () => {
    const b = book([alert('a1'), [row('pz-5339')]]);
    const unknown = b.loadEscalations([
      { alert: 'a1', ...row('pz-5339', { level: 1, escalated_at: '2026-09-26T10:06:00+02:00' }) },
      { alert: 'a9', ...row('nccn', { flagged_at: '2026-09-26T10:06:00+02:00' }) },
    ]);
    expect(unknown).toEqual(['a9']);
    expect(ackState(b.recipients('a1')[0])).toBe('escalated');
  });

  it('counts the alerts an organisation has still to acknowledge', () => {
    const b = book([alert('a1'), [row('pz-5339')]], [alert('a2'), [row('pz-5339', ACK)]]);
    expect(b.unacknowledged('pz-5339').map((a) => a.id)).toEqual(['a1']);
  });

  it("reads the text in the reader's language, else French, Dutch, English", () => {
    const a = alert('a1');
    expect(textOf(a, 'nl').headline).toBe('Sluiting van de tunnel');
    expect(textOf(a, 'en')).toMatchObject({ lang: 'fr', headline: 'Fermeture du tunnel' });
    expect(textOf({ ...a, texts: { en: { headline: 'Closed' } } }, 'nl').headline).toBe('Closed');
  });
});

describe('composing: the CAP fields checked as the API checks them', () => {
  const filled = () => {
    const d = emptyDraft();
    Object.assign(d, { severity: 'Severe', event: 'Tunnel closure', organisations: ['pz-5339'] });
    d.texts.fr.headline = 'Fermeture du tunnel';
    return d;
  };

  it('refuses a draft without severity, event, text or partners, naming each field', () => {
    const fields = validateAlert(emptyDraft()).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['severity', 'event', 'organisations', 'texts.fr.headline']));
    expect(validateAlert(filled())).toEqual([]);
  });

  it('wants a headline in each language that has text, and an Update the alert it updates', () => {
    const d = filled();
    d.texts.nl.description = 'Omleiding';
    expect(validateAlert(d).map((p) => p.field)).toEqual(['texts.nl.headline']);
    d.texts.nl.headline = 'Sluiting';
    d.msg_type = 'Update';
    d.organisations = [];
    expect(validateAlert(d).map((p) => p.field)).toEqual(['references']);
  });

  it('sends only what is filled in, with the area as an object, a drawing or nothing', () => {
    const d = filled();
    d.area = { kind: 'object', object: { entity: 'zone', id: 'z1', title: 'Drones' }, geometry: null, description: '' };
    const body = alertBody(d);
    expect(body.texts).toEqual({ fr: { headline: 'Fermeture du tunnel' } });
    expect(body.area).toEqual({ object: { entity: 'zone', id: 'z1' }, description: undefined });
    expect(body).not.toHaveProperty('references');
    d.area = { kind: 'region', object: null, geometry: null, description: '' };
    expect(alertBody(d)).not.toHaveProperty('area');
    d.organisations = 'all';
    expect(alertBody(d).organisations).toBe('all');
  });

  it('updates an earlier alert: its fields, texts, area and partners by default', () => {
    const earlier = alert('a1', undefined, { area: { type: 'Polygon', coordinates: [] }, area_desc: 'Ixelles' });
    const d = draftFrom(earlier, 'Cancel');
    expect(validateAlert(d)).toEqual([]);
    const body = alertBody(d);
    expect(body).toMatchObject({ msg_type: 'Cancel', references: 'a1', severity: 'Severe', area: { geometry: earlier.area, description: 'Ixelles' } });
    expect(body).not.toHaveProperty('organisations');
  });

  it("places the API's problem+json errors beside the field their loc names", () => {
    expect(fieldOf({ loc: ['body', 'texts', 'nl', 'headline'], msg: 'too long' })).toBe('texts.nl.headline');
    expect(fieldOf({ loc: ['body', 'organisations'], msg: "unknown organisation 'x'" })).toBe('organisations');
    expect(fieldOf({ loc: ['body', 'area', 'geometry', 'coordinates'], msg: 'outside Belgium' })).toBe('area');
    expect(fieldOf({ loc: ['body', 'severity'], msg: 'bad' })).toBe('severity');
    expect(fieldOf({ loc: ['body'], msg: 'Value error, a Update names the alert it references' })).toBe('references');
    expect(fieldOf({ loc: ['body'], msg: 'something else' })).toBe('');
  });
});
