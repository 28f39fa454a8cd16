import { describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import {
  belongsTo,
  boardSummary,
  checklistProgress,
  comparePositions,
  decisionTimeline,
  isOverdue,
  linkedObjects,
  logbookTabs,
  objectsOf,
  presenceSummary,
  presenceTime,
  previewable,
  taskChoices,
  taskGroups,
} from '../src/board-model.js';
import { activation, board, feature, NOW } from './board-fixtures.js';

const staff = { partner: false, organisation: null, can: (a) => a === 'task:status' };
const reader = { partner: false, organisation: null, can: () => false };
const spoc = { partner: true, organisation: 'pz-5339', can: (a) => a === 'task:status' };

describe('board: what belongs to an activation', () => {
  it('takes the objects carrying its id and the logbook entries about it, nothing else', () => {
    const store = board();
    expect(belongsTo(feature('x', { activation_id: 'A' }), 'A')).toBe(true);
    expect(belongsTo(feature('y', { subject_entity: 'activation', subject_id: 'A' }), 'A')).toBe(true);
    expect(belongsTo(feature('z', { subject_entity: 'incident', subject_id: 'A' }), 'A')).toBe(false);
    expect(belongsTo(feature('w', { activation_id: 'B' }), 'A')).toBe(false);
    expect(objectsOf(store, 'task', 'A').map((t) => t.id).sort()).toEqual(['t-blocked', 't-done-late', 't-late', 't-open', 't-partner', 't-soon']);
  });
});

describe('board: tasks', () => {
  it('is overdue when the due time has passed and the task is neither done nor cancelled', () => {
    expect(isOverdue(feature('a', { status: 'open', due_at: '2026-12-07T09:59:00Z' }), NOW)).toBe(true);
    expect(isOverdue(feature('a', { status: 'in_progress', due_at: '2026-12-07T09:59:00Z' }), NOW)).toBe(true);
    expect(isOverdue(feature('a', { status: 'done', due_at: '2026-12-07T09:59:00Z' }), NOW)).toBe(false);
    expect(isOverdue(feature('a', { status: 'cancelled', due_at: '2026-12-07T09:59:00Z' }), NOW)).toBe(false);
    expect(isOverdue(feature('a', { status: 'open', due_at: '2026-12-07T10:01:00Z' }), NOW)).toBe(false);
    expect(isOverdue(feature('a', { status: 'open', due_at: null }), NOW)).toBe(false);
  });

  it('becomes overdue as time passes, with no change to the task', () => {
    const soon = feature('a', { status: 'open', due_at: '2026-12-07T10:05:00Z' });
    expect(isOverdue(soon, NOW)).toBe(false);
    expect(isOverdue(soon, NOW + 6 * 60000)).toBe(true);
  });

  it('groups by status in the board order, overdue first in each group, then by due time and priority', () => {
    const groups = taskGroups(objectsOf(board(), 'task', 'A'), NOW);
    expect(groups.map((g) => g.status)).toEqual(['blocked', 'open', 'in_progress', 'done', 'cancelled']);
    const byStatus = Object.fromEntries(groups.map((g) => [g.status, g.tasks.map((t) => t.id)]));
    expect(byStatus.open).toEqual(['t-late', 't-soon', 't-partner', 't-open']);
    expect(byStatus.done).toEqual(['t-done-late']);
    expect(groups.find((g) => g.status === 'open').overdue).toBe(1);
    expect(groups.find((g) => g.status === 'done').overdue).toBe(0);
  });

  it('keeps a status a newer server adds, after the known ones', () => {
    const groups = taskGroups([feature('n', { status: 'waiting_partner' })], NOW);
    expect(groups.at(-1)).toMatchObject({ status: 'waiting_partner' });
    expect(groups.at(-1).tasks).toHaveLength(1);
  });
});

describe('board: who may change a task from the board', () => {
  it('offers staff who report on tasks the next statuses, and readers without that nothing', () => {
    const task = feature('t', { status: 'open', owner_organisation: 'pz-5339' });
    expect(taskChoices(task, staff)).toEqual(['in_progress', 'done']);
    expect(taskChoices(feature('t', { status: 'in_progress' }), staff)).toEqual(['done']);
    expect(taskChoices(feature('t', { status: 'done' }), staff)).toEqual([]);
    expect(taskChoices(task, reader)).toEqual([]);
  });

  it("offers a partner's SPOC its own organisation's tasks only, whatever else it can read", () => {
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: 'pz-5339' }), spoc)).toEqual(['in_progress', 'done']);
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: 'pz-5340' }), spoc)).toEqual([]);
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: null }), spoc)).toEqual([]);
    // A partner never gets staff's reach, whatever permissions it holds; nor any without one.
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: 'pz-5340' }), { ...spoc, can: () => true })).toEqual([]);
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: 'pz-5339' }), { ...spoc, can: () => false })).toEqual([]);
    expect(taskChoices(feature('t', { status: 'open', owner_organisation: 'pz-5339' }), { ...spoc, organisation: null })).toEqual([]);
  });
});

describe('board: positions and presence', () => {
  it('counts who is reached (acknowledged, present, remote) and who is missing (declined too)', () => {
    const s = presenceSummary(objectsOf(board(), 'position', 'A'));
    expect(s).toMatchObject({ total: 6, reached: 3, missing: 3, declined: 1 });
    expect(s.byPresence).toMatchObject({ present: 1, remote: 1, acknowledged: 1, paged: 1, expected: 1, declined: 1 });
  });

  it('orders seats as the cell does: High Official, coordinator, duty officer, D1–D5…', () => {
    const roles = objectsOf(board(), 'position', 'A').sort(comparePositions).map((p) => p.properties.role);
    expect(roles).toEqual(['high_official', 'duty_officer', 'd1', 'd3', 'partner_liaison', 'log_keeper']);
  });

  it('shows the arrival time of who joined, else when they answered or were paged', () => {
    expect(presenceTime(feature('p', { presence: 'present', paged_at: 'a', acknowledged_at: 'b', arrived_at: 'c' }))).toEqual({ kind: 'arrived', at: 'c' });
    expect(presenceTime(feature('p', { presence: 'acknowledged', paged_at: 'a', acknowledged_at: 'b' }))).toEqual({ kind: 'acknowledged', at: 'b' });
    expect(presenceTime(feature('p', { presence: 'paged', paged_at: 'a' }))).toEqual({ kind: 'paged', at: 'a' });
    expect(presenceTime(feature('p', { presence: 'expected' }))).toBeNull();
  });
});

describe('board: checklists', () => {
  it("takes the server's counts, and the next open items in order", () => {
    const c = checklistProgress(feature('c', {
      done: 2, total: 4, status: 'open',
      items: [{ key: 'a', state: 'done' }, { key: 'b', state: 'open' }, { key: 'c', state: 'not_applicable' }, { key: 'd', state: 'open' }],
    }));
    expect(c).toMatchObject({ done: 2, total: 4, ratio: 0.5, complete: false });
    expect(c.next.map((i) => i.key)).toEqual(['b', 'd']);
  });

  it('counts from the items when the counts are missing (not applicable is dealt with)', () => {
    const c = checklistProgress(feature('c', { items: [{ key: 'a', state: 'done' }, { key: 'b', state: 'not_applicable' }, { key: 'c', state: 'open' }] }));
    expect(c).toMatchObject({ done: 2, total: 3, complete: false });
  });
});

describe('board: decisions and logbooks', () => {
  it('puts each correction beside the decision it corrects, newest decision first', () => {
    const rows = decisionTimeline(objectsOf(board(), 'decision', 'A'));
    expect(rows.map((r) => r.entry.id)).toEqual(['d3', 'd1', 'd0']);
    const d1 = rows.find((r) => r.entry.id === 'd1');
    // The correction of the correction joins the same original, oldest first.
    expect(d1.corrections.map((c) => c.id)).toEqual(['d2', 'd2b']);
  });

  it("shows a correction alone when the reader does not hold what it corrects", () => {
    const rows = decisionTimeline([feature('c', { corrects_id: 'hidden', decided_at: '2026-12-07T09:00:00Z' })]);
    expect(rows).toHaveLength(1);
    expect(rows[0].entry.id).toBe('c');
  });

  it('splits the logbook into the multidisciplinary one and D1–D5', () => {
    const tabs = logbookTabs(objectsOf(board(), 'logbook_entry', 'A'));
    expect([...tabs.keys()]).toEqual(['multi', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(tabs.get('multi').map((r) => r.entry.id)).toEqual(['l-promoted', 'l-multi']);
    expect(tabs.get('d2').map((r) => r.entry.id)).toEqual(['l-d2']);
    expect(tabs.get('d2')[0].corrections.map((c) => c.id)).toEqual(['l-d2-fix']);
    expect(tabs.get('d5')).toEqual([]);
  });
});

describe('board: documents, map and summary', () => {
  it('previews images and PDF only', () => {
    expect(previewable(feature('x', { content_type: 'image/png' }))).toBe(true);
    expect(previewable(feature('x', { content_type: 'application/pdf' }))).toBe(true);
    expect(previewable(feature('x', { content_type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }))).toBe(false);
  });

  it("outlines the activation's subject and its live tasks' zones and subjects, once each", () => {
    const store = board();
    const linked = linkedObjects(store.get('activation', 'A'), objectsOf(store, 'task', 'A'));
    expect(linked).toEqual([
      { entity: 'incident', id: 'inc-1' },
      { entity: 'zone', id: 'z-1' },
      { entity: 'zone', id: 'z-2' },
      { entity: 'planned_event', id: 'ev-1' },
    ]);
  });

  it('sums up a board for the wall', () => {
    const s = boardSummary(board(), 'A', NOW);
    expect(s.presence).toMatchObject({ reached: 3, total: 6 });
    expect(s.overdue.map((t) => t.id)).toEqual(['t-late']);
    expect(s.checklists).toEqual({ done: 3, total: 5, lists: 2 });
    expect(s.lastDecision.id).toBe('d3');
  });

  it('a partner board holds what the server gave it: the same functions, fewer objects', () => {
    const store = new Store();
    store.loadSnapshot({ activation: [activation()], task: [feature('t-partner', { activation_id: 'A', status: 'open', owner_organisation: 'pz-5339' })] }, 1);
    const s = boardSummary(store, 'A', NOW);
    expect(s).toMatchObject({ tasks: 1, openTasks: 1, lastDecision: null });
    expect(s.presence.total).toBe(0);
  });
});
