// A crisis cell as the store holds it: one activation (A) with its positions, tasks,
// checklists, decisions, logbook entries and documents, and a few objects of another one (B).
import { Store } from '../src/store.js';

export const NOW = Date.parse('2026-12-07T10:00:00Z');

export function feature(id, properties = {}, geometry = null) {
  return { type: 'Feature', id, geometry, properties: { title: id, version: 1, ...properties } };
}

export function activation(properties = {}) {
  return feature('A', {
    title: 'Incendie tunnel Léopold II', level: 'crisis_cell', coordinator: 'high_official', status: 'open',
    opened_at: '2026-12-07T07:40:00Z', subject_entity: 'incident', subject_id: 'inc-1', ...properties,
  });
}

const at = (hhmm) => `2026-12-07T${hhmm}:00Z`;

export function cell() {
  const A = { activation_id: 'A' };
  return {
    activation: [activation(), feature('B', { title: 'Other', status: 'open', level: 'monitoring', coordinator: 'sitcen' })],
    incident: [feature('inc-1', { title: 'Feu', category: 'fire', severity: 'severe' }, { type: 'Point', coordinates: [4.35, 50.86] })],
    position: [
      feature('p-ho', { ...A, role: 'high_official', title: 'Haut fonctionnaire', presence: 'present', holder_user: 'off', arrived_at: at('08:05') }),
      feature('p-duty', { ...A, role: 'duty_officer', title: 'Officier de garde', presence: 'remote', holder_user: 'op', arrived_at: at('07:50') }),
      feature('p-d1', { ...A, role: 'd1', discipline: 'd1', title: 'D1 SIAMU', presence: 'acknowledged', acknowledged_at: at('08:10') }),
      feature('p-d3', { ...A, role: 'd3', discipline: 'd3', title: 'D3 Police', presence: 'paged', paged_at: at('08:00'), holder_organisation: 'pz-5339' }),
      feature('p-liaison', { ...A, role: 'partner_liaison', title: 'Liaison STIB', presence: 'expected' }),
      feature('p-log', { ...A, role: 'log_keeper', title: 'Main courante', presence: 'declined' }),
      feature('p-b', { activation_id: 'B', role: 'coordinator', title: 'Other seat', presence: 'present' }),
    ],
    task: [
      feature('t-late', { ...A, title: 'Fermer le tunnel', status: 'open', due_at: at('09:30'), priority: 'urgent', zone_ids: ['z-1'], owner_position_id: 'p-d3' }),
      feature('t-soon', { ...A, title: 'Informer la STIB', status: 'open', due_at: at('10:30'), priority: 'normal' }),
      feature('t-partner', { ...A, title: 'Déviation', status: 'open', due_at: at('11:00'), owner_organisation: 'pz-5339', zone_ids: ['z-2', 'z-1'] }),
      feature('t-open', { ...A, title: 'Bilan', status: 'open', priority: 'low' }),
      feature('t-blocked', { ...A, title: 'Relogement', status: 'blocked', blocked_reason: 'no bus', subject_entity: 'planned_event', subject_id: 'ev-1' }),
      feature('t-done-late', { ...A, title: 'Alerter D2', status: 'done', due_at: at('08:00'), done_at: at('08:20') }),
      feature('t-b', { activation_id: 'B', title: 'Other task', status: 'open', due_at: at('06:00') }),
    ],
    checklist: [
      feature('c1', { ...A, title: 'Feu en tunnel', done: 2, total: 4, status: 'open', items: [
        { key: 'a', text: { fr: 'Fermer', nl: 'Sluiten', en: 'Close' }, state: 'done' },
        { key: 'b', text: { fr: 'Ventiler', nl: 'Ventileren', en: 'Ventilate' }, state: 'open' },
        { key: 'c', text: { fr: 'Évacuer', nl: 'Evacueren', en: 'Evacuate' }, state: 'done' },
        { key: 'd', text: { fr: 'Informer', nl: 'Informeren', en: 'Inform' }, state: 'open' },
      ] }),
      feature('c2', { ...A, title: 'Ouverture GCC', done: 1, total: 1, status: 'completed', items: [{ key: 'a', text: { fr: 'Ouvrir' }, state: 'done' }] }),
    ],
    decision: [
      feature('d0', { ...A, title: 'Activer la phase fédérale', decided_at: at('08:00'), decided_by_name: 'R. Dupont', decided_by_position_id: 'p-ho', chain_seq: 1 }),
      feature('d1', { ...A, title: 'Fermer le tunnel 2 h', decided_at: at('09:00'), decided_by_name: 'R. Dupont', basis: 'avis D1', chain_seq: 2 }),
      feature('d2', { ...A, title: 'Fermer le tunnel 4 h', decided_at: at('09:10'), corrects_id: 'd1', chain_seq: 3 }),
      feature('d2b', { ...A, title: 'Fermer le tunnel 6 h', decided_at: at('09:20'), corrects_id: 'd2', chain_seq: 4 }),
      feature('d3', { ...A, title: 'Évacuer le quartier', decided_at: at('09:30'), chain_seq: 5 }),
    ],
    logbook_entry: [
      feature('l-multi', { subject_entity: 'activation', subject_id: 'A', kind: 'note', occurred_at: at('08:30'), discipline: null, created_by: 'op' }),
      feature('l-promoted', { ...A, kind: 'action', occurred_at: at('09:45'), discipline: null, promoted_from_id: 'l-d2', created_by: 'coord' }),
      feature('l-d2', { ...A, kind: 'note', occurred_at: at('09:00'), discipline: 'd2', created_by: 'd2' }),
      feature('l-d2-fix', { ...A, kind: 'note', occurred_at: at('09:05'), discipline: 'd2', corrects_id: 'l-d2', created_by: 'd2' }),
      feature('l-other', { subject_entity: 'incident', subject_id: 'inc-1', kind: 'note', occurred_at: at('09:00') }),
    ],
    document: [
      feature('doc-img', { ...A, title: 'Plan du tunnel', filename: 'plan.png', content_type: 'image/png', size: 120000, shareable: true, current_version: 1, updated_at: at('09:00') }),
      feature('doc-pdf', { ...A, title: 'PPUI tunnels', filename: 'ppui.pdf', content_type: 'application/pdf', size: 2400000, shareable: false, current_version: 2, updated_at: at('08:00') }),
      feature('doc-docx', { ...A, title: 'Note', filename: 'note.docx', content_type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', size: 9000, updated_at: at('07:00') }),
    ],
  };
}

export function board() {
  const store = new Store();
  store.loadSnapshot(cell(), 100);
  return store;
}
