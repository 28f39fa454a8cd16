// What the activation board shows, as pure functions of the picture the store holds: which
// objects belong to an activation, how positions, tasks, checklists, decisions and logbook
// entries are grouped and ordered, what is overdue, who is reached and who is missing, and
// which controls a reader is offered. No DOM here: the board panel (panels/board.js) and the
// wall's summary draw what these answer, and the unit tests read them directly.
import { ENUMS, RULES } from './vocabulary.js';

/** The kinds the board shows, each an operational object carrying `activation_id`. */
export const BOARD_KINDS = ['position', 'task', 'checklist', 'decision', 'document', 'logbook_entry'];

// The board's order of task statuses: the work still to do first, then what ended. A status a
// newer server declares and this list does not name goes after these.
const TASK_STATUS_ORDER = ['blocked', 'open', 'in_progress', 'done', 'cancelled'];
export const CLOSED_TASK = new Set(['done', 'cancelled']);
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
// Presence that means the seat's holder has been reached: answered, on the way, or in the cell.
export const REACHED = new Set(['acknowledged', 'present', 'remote']);
export const PRESENCES = ENUMS.presence;
export const DISCIPLINES = ENUMS.discipline;
/** The logbook's tabs: the multidisciplinary one, then one per discipline (D1–D5). */
export const LOGBOOK_TABS = ['multi', ...DISCIPLINES];
// Next statuses the board offers on a task (its other changes are the task form's).
const TASK_NEXT = { open: ['in_progress', 'done'], in_progress: ['done'], blocked: ['in_progress'] };

const time = (value) => {
  const ms = Date.parse(value ?? '');
  return Number.isNaN(ms) ? null : ms;
};

/** Whether an object is one of the activation's: it carries its id, or is about it. */
export function belongsTo(feature, activationId) {
  const p = feature?.properties;
  if (!p || !activationId) return false;
  if (p.activation_id === activationId) return true;
  return p.subject_entity === 'activation' && p.subject_id === activationId;
}

/** The activation's objects of one kind in the store. */
export function objectsOf(store, entity, activationId) {
  const out = [];
  for (const feature of store.all(entity)) if (belongsTo(feature, activationId)) out.push(feature);
  return out;
}

// ---- tasks

export function taskStatuses() {
  const declared = ENUMS.task_status || [];
  return [...TASK_STATUS_ORDER, ...declared.filter((s) => !TASK_STATUS_ORDER.includes(s))];
}

/** A task is overdue when its due time has passed and it is neither done nor cancelled. */
export function isOverdue(task, now) {
  const p = task.properties;
  const due = time(p.due_at);
  return due != null && due < now && !CLOSED_TASK.has(p.status);
}

/** Overdue first, then the earliest due (no due time last), the highest priority, the title. */
export function compareTasks(a, b, now) {
  const overdue = Number(isOverdue(b, now)) - Number(isOverdue(a, now));
  if (overdue) return overdue;
  const da = time(a.properties.due_at) ?? Infinity;
  const db = time(b.properties.due_at) ?? Infinity;
  if (da !== db) return da < db ? -1 : 1;
  const pa = PRIORITY_RANK[a.properties.priority] ?? 2;
  const pb = PRIORITY_RANK[b.properties.priority] ?? 2;
  if (pa !== pb) return pa - pb;
  return compareTitles(a, b);
}

/** Tasks by status, in the board's order, each group sorted; every status has a group. */
export function taskGroups(tasks, now) {
  const groups = new Map(taskStatuses().map((s) => [s, []]));
  for (const task of tasks) {
    const status = task.properties.status || 'open';
    if (!groups.has(status)) groups.set(status, []);
    groups.get(status).push(task);
  }
  return [...groups].map(([status, list]) => ({
    status,
    tasks: list.sort((a, b) => compareTasks(a, b, now)),
    overdue: list.filter((t) => isOverdue(t, now)).length,
  }));
}

export function overdueTasks(tasks, now) {
  return tasks.filter((t) => isOverdue(t, now)).sort((a, b) => compareTasks(a, b, now));
}

/**
 * The status changes the board offers this reader on a task (POST /api/tasks/{id}/status, the
 * `task:status` permission): SITCEN staff report on any task, a partner's SPOC on the tasks of
 * its own organisation only (issue 16 §4). The server decides in the end.
 */
export function taskChoices(task, viewer) {
  const p = task.properties;
  if (!viewer.can('task:status')) return [];
  if (viewer.partner && !(viewer.organisation && p.owner_organisation === viewer.organisation)) return [];
  const next = TASK_NEXT[p.status] || [];
  const declared = RULES.task?.transitions?.status?.[p.status];
  return declared ? next.filter((s) => declared.includes(s)) : next;
}

// ---- positions

const ROLE_RANK = Object.fromEntries(ENUMS.position_role.map((r, i) => [r, i]));

/** The seats in the cell's order (High Official, coordinator, duty officer, D1–D5, …). */
export function comparePositions(a, b) {
  const ra = ROLE_RANK[a.properties.role] ?? ENUMS.position_role.length;
  const rb = ROLE_RANK[b.properties.role] ?? ENUMS.position_role.length;
  return ra - rb || compareTitles(a, b);
}

/** Who is reached and who is missing: counts per presence, reached, missing (declined too). */
export function presenceSummary(positions) {
  const byPresence = Object.fromEntries(PRESENCES.map((p) => [p, 0]));
  let reached = 0;
  for (const position of positions) {
    const presence = position.properties.presence || 'expected';
    byPresence[presence] = (byPresence[presence] || 0) + 1;
    if (REACHED.has(presence)) reached += 1;
  }
  return { total: positions.length, reached, missing: positions.length - reached, declined: byPresence.declined || 0, byPresence };
}

/** The moment that goes with a seat's presence: arrival, else acknowledgement, else paging. */
export function presenceTime(position) {
  const p = position.properties;
  if ((p.presence === 'present' || p.presence === 'remote') && p.arrived_at) return { kind: 'arrived', at: p.arrived_at };
  if (p.acknowledged_at && p.presence !== 'declined') return { kind: 'acknowledged', at: p.acknowledged_at };
  if (p.paged_at) return { kind: 'paged', at: p.paged_at };
  return null;
}

// ---- checklists

/** Ticked items over all items (not applicable counts as dealt with), and the next open ones. */
export function checklistProgress(checklist, nextCount = 3) {
  const p = checklist.properties;
  const items = Array.isArray(p.items) ? p.items : [];
  const done = Number.isFinite(p.done) ? p.done : items.filter((i) => i.state && i.state !== 'open').length;
  const total = Number.isFinite(p.total) ? p.total : items.length;
  return {
    done,
    total,
    ratio: total ? done / total : 0,
    complete: p.status === 'completed' || (total > 0 && done >= total),
    next: items.filter((i) => (i.state || 'open') === 'open').slice(0, nextCount),
  };
}

/** Unfinished checklists first, the least advanced first; then the completed ones. */
export function compareChecklists(a, b) {
  const pa = checklistProgress(a);
  const pb = checklistProgress(b);
  if (pa.complete !== pb.complete) return pa.complete ? 1 : -1;
  return pa.ratio - pb.ratio || compareTitles(a, b);
}

/** Sum of the activation's checklists: items dealt with over all items. */
export function checklistTotals(checklists) {
  let done = 0;
  let total = 0;
  for (const c of checklists) {
    const p = checklistProgress(c, 0);
    done += p.done;
    total += p.total;
  }
  return { done, total, lists: checklists.length };
}

// ---- decisions and logbook entries: append-only, a correction stands beside what it corrects

/**
 * Entries newest first, each with its corrections (oldest first) beside it. A correction of a
 * correction joins the same original; a correction whose original this reader does not hold
 * stands on its own.
 */
export function withCorrections(entries, timeField) {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const rootOf = (entry) => {
    let current = entry;
    const seen = new Set();
    while (current.properties.corrects_id && byId.has(current.properties.corrects_id) && !seen.has(current.id)) {
      seen.add(current.id);
      current = byId.get(current.properties.corrects_id);
    }
    return current;
  };
  const rows = new Map();
  for (const entry of entries) {
    const root = rootOf(entry);
    if (!rows.has(root.id)) rows.set(root.id, { entry: root, corrections: [] });
    if (root !== entry) rows.get(root.id).corrections.push(entry);
  }
  const at = (e) => time(e.properties[timeField]) ?? time(e.properties.created_at) ?? 0;
  const seq = (e) => e.properties.chain_seq ?? 0;
  const list = [...rows.values()];
  for (const row of list) row.corrections.sort((a, b) => at(a) - at(b) || seq(a) - seq(b));
  return list.sort((a, b) => at(b.entry) - at(a.entry) || seq(b.entry) - seq(a.entry));
}

export function decisionTimeline(decisions) {
  return withCorrections(decisions, 'decided_at');
}

/** The logbook tab an entry is written in: its discipline's, or the multidisciplinary one. */
export function logbookTab(entry) {
  return entry.properties.discipline || 'multi';
}

export function logbookTabs(entries) {
  const tabs = new Map(LOGBOOK_TABS.map((tab) => [tab, []]));
  for (const entry of entries) tabs.get(logbookTab(entry))?.push(entry);
  return new Map([...tabs].map(([tab, list]) => [tab, withCorrections(list, 'occurred_at')]));
}

/** The latest decision (a correction counts: it is the latest word). */
export function lastDecision(decisions) {
  let last = null;
  for (const d of decisions) {
    const at = time(d.properties.decided_at) ?? time(d.properties.created_at) ?? 0;
    if (!last || at > last.at) last = { at, decision: d };
  }
  return last?.decision ?? null;
}

// ---- documents

const PREVIEWED = [/^image\//, /^application\/pdf$/];

/** Whether the dashboard shows a preview of this document (images and PDF). */
export function previewable(document) {
  const type = document.properties.content_type || '';
  return PREVIEWED.some((re) => re.test(type));
}

export function compareDocuments(a, b) {
  return (time(b.properties.updated_at) ?? 0) - (time(a.properties.updated_at) ?? 0) || compareTitles(a, b);
}

// ---- the map

/**
 * The objects the board outlines on the map: the activation's subject, and each open task's
 * zones and subject. Answers [{entity, id}] without repeats.
 */
export function linkedObjects(activation, tasks) {
  const out = new Map();
  const add = (entity, id) => {
    if (entity && id) out.set(`${entity}:${id}`, { entity, id });
  };
  const p = activation?.properties || {};
  add(p.subject_entity, p.subject_id);
  for (const task of tasks) {
    const t = task.properties;
    if (t.status === 'cancelled') continue;
    for (const zone of t.zone_ids || []) add('zone', zone);
    add(t.subject_entity, t.subject_id);
  }
  return [...out.values()];
}

// ---- the wall

/** What the wall shows of a running activation's board. */
export function boardSummary(store, activationId, now) {
  const positions = objectsOf(store, 'position', activationId);
  const tasks = objectsOf(store, 'task', activationId);
  const checklists = objectsOf(store, 'checklist', activationId);
  const decisions = objectsOf(store, 'decision', activationId);
  return {
    presence: presenceSummary(positions),
    tasks: tasks.length,
    openTasks: tasks.filter((t) => !CLOSED_TASK.has(t.properties.status)).length,
    overdue: overdueTasks(tasks, now),
    checklists: checklistTotals(checklists),
    lastDecision: lastDecision(decisions),
  };
}

function compareTitles(a, b) {
  return String(a.properties.title ?? '').localeCompare(String(b.properties.title ?? '')) || String(a.id).localeCompare(String(b.id));
}
