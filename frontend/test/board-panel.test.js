// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Board } from '../src/panels/board.js';
import { setLanguage } from '../src/i18n.js';
import { ApiError } from '../src/api.js';
import { board, feature, NOW } from './board-fixtures.js';
import { PAGE } from '../src/panels/board.js';
import { FakeApp } from './fakes.js';

const STAFF = ['activation:read', 'position:read', 'position:update', 'task:read', 'task:status', 'checklist:read', 'decision:read', 'document:read', 'logbook_entry:read'];
const PARTNER = ['activation:read', 'position:read', 'task:read', 'task:status', 'document:read'];

let app;
let clock;

function open({ permissions = STAFF, me, tickMs } = {}) {
  clock = { now: NOW };
  app = new FakeApp({ store: board(), permissions, me });
  const panel = new Board(app, { now: () => clock.now, tickMs, win: window });
  panel.open('A');
  return panel;
}

const rows = (panel, selector) => [...panel.el.querySelectorAll(selector)];
const row = (panel, id) => panel.el.querySelector(`[data-row="${id}"]`);
const groupOf = (panel, id) => row(panel, id)?.closest('.board-task-group')?.dataset.status;

function change(seq, entity, f) {
  return { seq, entity, op: 'updated', id: f.id, version: f.properties.version, at: '2026-12-07T10:00:00Z', by: 'coord', feature: f };
}

beforeEach(() => {
  setLanguage('fr');
  window.history.replaceState(null, '', '/');
});

afterEach(() => {
  app?.stop();
  vi.useRealTimers();
  setLanguage('fr');
});

describe('the activation board panel', () => {
  it('opens on an activation: its address, its seats, tasks by status, decisions, documents, logbook, the map outline', () => {
    const panel = open();
    expect(window.location.hash).toBe('#board/A');
    expect(panel.el.hidden).toBe(false);
    expect(app.root.querySelector('.layout').classList.contains('board-open')).toBe(true);
    expect(panel.el.querySelector('#board-title').textContent).toBe('Incendie tunnel Léopold II');
    expect(rows(panel, '.board-position')).toHaveLength(6);
    expect(panel.el.querySelector('.board-presence').textContent).toContain('3 sur 6 joints');
    expect(panel.el.querySelector('.summary-missing').textContent).toBe('3');
    expect(groupOf(panel, 't-late')).toBe('open');
    expect(row(panel, 't-late').classList.contains('overdue')).toBe(true);
    expect(row(panel, 't-soon').classList.contains('overdue')).toBe(false);
    expect(row(panel, 't-b')).toBeNull();
    expect(panel.el.querySelector('.summary-overdue').textContent).toBe('1');
    expect(row(panel, 'c1').querySelector('progress').value).toBe(2);
    expect(row(panel, 'c1').textContent).toContain('Ventiler');
    expect(rows(panel, '.board-decision').map((r) => r.dataset.row)).toEqual(['d3', 'd1', 'd0']);
    expect([...row(panel, 'd1').querySelectorAll('.corrections .entry')].map((e) => e.dataset.id)).toEqual(['d2', 'd2b']);
    expect(rows(panel, '.board-document [data-key$="-preview"]')).toHaveLength(2);
    expect(rows(panel, '.board-log').map((r) => r.dataset.row)).toEqual(['l-promoted', 'l-multi']);
    expect(app.mapView.linked.map((r) => r.id)).toEqual(['inc-1', 'z-1', 'z-2', 'ev-1']);
    expect(app.mapView.flown).toEqual(['inc-1']);
  });

  it('closes on Escape, gives the legend back and forgets the address', () => {
    const panel = open();
    panel.el.querySelector('#board-title').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(panel.el.hidden).toBe(true);
    expect(app.root.querySelector('#legend').hidden).toBe(false);
    expect(window.location.hash).toBe('');
    expect(app.mapView.linked).toEqual([]);
  });

  it('follows its address: a link opens it, going back closes it', () => {
    app = new FakeApp({ store: board(), permissions: STAFF });
    const panel = new Board(app, { now: () => NOW, win: window });
    window.history.replaceState(null, '', '/#board/A');
    panel.route();
    expect(panel.activationId).toBe('A');
    window.history.replaceState(null, '', '/');
    panel.route();
    expect(panel.activationId).toBeNull();
  });

  it('redraws only the row a live change concerns and moves it to its new status', () => {
    const panel = open();
    const before = new Map(rows(panel, '[data-row]').map((el) => [el.dataset.row, el]));
    const task = app.store.get('task', 't-soon');
    app.store.applyChange(change(101, 'task', { ...task, properties: { ...task.properties, status: 'in_progress', version: 2 } }));
    expect(panel.raf).not.toBeNull();
    panel.flush();
    // It leaves the open group and is drawn in the in-progress one; no other row is written.
    expect(panel.metrics.lastFlush).toMatchObject({ drawn: 1, removed: 1, moved: 1 });
    expect(groupOf(panel, 't-soon')).toBe('in_progress');
    for (const el of rows(panel, '[data-row]')) {
      if (el.dataset.row !== 't-soon') expect(el).toBe(before.get(el.dataset.row));
    }
    // Nothing new to outline: the map is left alone; a task on a new zone is outlined.
    let asked = 0;
    app.mapView.setLinked = (refs) => {
      asked += 1;
      app.mapView.linked = refs;
    };
    panel.schedule(['map']);
    panel.flush();
    expect(asked).toBe(0);
    const soon = app.store.get('task', 't-soon');
    app.store.applyChange(change(102, 'task', { ...soon, properties: { ...soon.properties, zone_ids: ['z-9'], version: 3 } }));
    panel.flush();
    expect(asked).toBe(1);
    expect(app.mapView.linked.map((r) => r.id)).toContain('z-9');
  });

  it("ignores a change of another activation's objects", () => {
    const panel = open();
    const other = app.store.get('task', 't-b');
    app.store.applyChange(change(101, 'task', { ...other, properties: { ...other.properties, status: 'done', version: 2 } }));
    expect(panel.raf).toBeNull();
  });

  it('shows a presence change live, with the arrival time, in that seat only', () => {
    const panel = open();
    const seat = app.store.get('position', 'p-d3');
    const untouched = row(panel, 'p-ho');
    app.store.applyChange(change(101, 'position', { ...seat, properties: { ...seat.properties, presence: 'present', arrived_at: '2026-12-07T09:58:00Z', version: 2 } }));
    panel.flush();
    expect(row(panel, 'p-d3').dataset.presence).toBe('present');
    expect(row(panel, 'p-d3').querySelector('time').getAttribute('datetime')).toBe('2026-12-07T09:58:00Z');
    // 10:58 in Brussels (UTC+1 in December).
    expect(row(panel, 'p-d3').textContent).toContain('10:58');
    expect(row(panel, 'p-ho')).toBe(untouched);
    expect(panel.el.querySelector('.board-presence').textContent).toContain('4 sur 6 joints');
  });

  it('marks a task overdue when its due time passes, with no change to it', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const panel = open({ tickMs: 60000 });
    expect(row(panel, 't-soon').classList.contains('overdue')).toBe(false);
    clock.now = NOW + 31 * 60000;
    vi.advanceTimersByTime(60000);
    panel.flush();
    expect(row(panel, 't-soon').classList.contains('overdue')).toBe(true);
    expect(panel.metrics.lastFlush.drawn).toBe(1);
    expect(panel.el.querySelector('.summary-overdue').textContent).toBe('2');
  });

  it('lets staff set a seat’s presence (PATCH with the version shown)', async () => {
    const panel = open();
    const select = row(panel, 'p-liaison').querySelector('select');
    const apply = row(panel, 'p-liaison').querySelector('button');
    expect(apply.hidden).toBe(true);
    select.value = 'present';
    select.dispatchEvent(new Event('change'));
    expect(apply.hidden).toBe(false);
    const seat = app.store.get('position', 'p-liaison');
    app.api.answer({ ...seat, properties: { ...seat.properties, presence: 'present', version: 2 } });
    apply.click();
    await vi.waitFor(() => expect(app.store.get('position', 'p-liaison').properties.version).toBe(2));
    expect(app.api.requests[0]).toMatchObject({ method: 'PATCH', path: '/api/positions/p-liaison', ifMatch: 1, body: { properties: { presence: 'present' } } });
  });

  it("gives a partner's SPOC its own tasks' controls and no staff control", async () => {
    const panel = open({ permissions: PARTNER, me: { role: 'partner', organisation: 'pz-5339' } });
    expect(rows(panel, '.board-task .row-actions')).toHaveLength(1);
    expect(row(panel, 't-partner').querySelector('.row-actions')).not.toBeNull();
    expect(panel.el.querySelector('select')).toBeNull();
    expect(panel.el.querySelector('.board-logbook')).toBeNull();
    expect(panel.el.querySelector('.board-decisions')).toBeNull();
    expect(panel.el.textContent).not.toContain('Interne');
    const task = app.store.get('task', 't-partner');
    app.api.answer({ ...task, properties: { ...task.properties, status: 'done', version: 2 } });
    row(panel, 't-partner').querySelector('[data-status="done"]').click();
    await vi.waitFor(() => expect(app.store.get('task', 't-partner').properties.status).toBe('done'));
    expect(app.api.requests[0]).toMatchObject({ method: 'POST', path: '/api/tasks/t-partner/status', body: { status: 'done' }, ifMatch: 1 });
    panel.flush();
    expect(groupOf(panel, 't-partner')).toBe('done');
  });

  it('shows the current task when its status was changed meanwhile (412)', async () => {
    const panel = open();
    const task = app.store.get('task', 't-open');
    const current = { ...task, properties: { ...task.properties, status: 'in_progress', version: 3 } };
    app.api.answer(new ApiError(412, current));
    row(panel, 't-open').querySelector('[data-status="done"]').click();
    await vi.waitFor(() => expect(app.toasts).toHaveLength(1));
    expect(app.toasts[0].kind).toBe('info');
    expect(app.store.get('task', 't-open').properties.version).toBe(3);
  });

  it('says why the server refused a status change (409, a problem, not a version)', async () => {
    const panel = open();
    app.api.answer(new ApiError(409, { type: 'about:blank', title: 'Conflict', detail: 'done → open is not allowed' }));
    row(panel, 't-open').querySelector('[data-status="done"]').click();
    await vi.waitFor(() => expect(app.toasts).toHaveLength(1));
    expect(app.toasts[0]).toMatchObject({ kind: 'error' });
    expect(app.toasts[0].text).toContain('done → open is not allowed');
    expect(app.store.get('task', 't-open').properties.version).toBe(1);
  });

  it('switches logbooks with the arrow keys; a correction stands beside its entry', () => {
    const panel = open();
    const multi = panel.el.querySelector('[data-tab="multi"]');
    multi.focus();
    multi.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    multi.ownerDocument.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(document.activeElement.dataset.tab).toBe('d2');
    expect(panel.el.querySelector('[data-tab="d2"]').getAttribute('aria-selected')).toBe('true');
    expect(rows(panel, '.board-log').map((r) => r.dataset.row)).toEqual(['l-d2']);
    expect(row(panel, 'l-d2').querySelector('.corrections .entry').dataset.id).toBe('l-d2-fix');
  });

  it('speaks Dutch when the user switches, with task words the vocabulary lacks', () => {
    const panel = open();
    setLanguage('nl');
    expect(panel.el.querySelector('#board-h-tasks').textContent).toBe('Taken');
    expect(panel.el.querySelector('[data-status="blocked"] h4').textContent).toContain('Geblokkeerd');
    expect(panel.el.querySelector('.board-presence').textContent).toContain('3 van 6 bereikt');
  });

  it('shows a long decision log a page at a time, newest first, and the next page on demand', () => {
    clock = { now: NOW };
    const store = board();
    for (let i = 0; i < 120; i += 1) {
      store.applyFeature('decision', feature(`x${i}`, { activation_id: 'A', decided_at: new Date(NOW - (200 - i) * 60000).toISOString() }));
    }
    app = new FakeApp({ store, permissions: STAFF });
    const panel = new Board(app, { now: () => clock.now, win: window });
    panel.open('A');
    const shown = () => rows(panel, '.board-decision').length;
    const more = panel.el.querySelector('[data-key="more-decisions"]');
    expect(shown()).toBe(PAGE);
    expect(rows(panel, '.board-decision')[0].dataset.row).toBe('d3');
    expect(more.textContent).toBe('Afficher 50 de plus (sur 123)');
    more.click();
    expect(shown()).toBe(2 * PAGE);
    more.click();
    expect(shown()).toBe(123);
    expect(more.hidden).toBe(true);
  });

  it('draws the board when the activation it was opened on arrives, and says so when it leaves', () => {
    const store = board();
    const held = store.get('activation', 'A');
    store.applyChange({ seq: 101, entity: 'activation', op: 'deleted', id: 'A', version: 1, feature: null });
    app = new FakeApp({ store, permissions: STAFF });
    const panel = new Board(app, { now: () => NOW, win: window });
    panel.open('A');
    expect(panel.el.querySelector('.board-position')).toBeNull();
    store.applyFeature('activation', { ...held, properties: { ...held.properties, version: 2 } });
    panel.flush();
    expect(panel.el.querySelector('#board-title').textContent).toBe('Incendie tunnel Léopold II');
    expect(rows(panel, '.board-position')).toHaveLength(6);
    store.applyChange({ seq: 102, entity: 'activation', op: 'deleted', id: 'A', version: 3, feature: null });
    panel.flush();
    expect(panel.el.querySelector('.board-position')).toBeNull();
  });

  it("previews a document's image in a dialog and downloads its content, with the reader's token", async () => {
    // What jsdom lacks of a browser: object URLs and modal dialogs.
    URL.createObjectURL = () => 'blob:preview';
    URL.revokeObjectURL = () => {};
    window.HTMLDialogElement.prototype.showModal ??= function showModal() {
      this.setAttribute('open', '');
    };
    const saved = [];
    vi.spyOn(window.HTMLAnchorElement.prototype, 'click').mockImplementation(function click() {
      saved.push(this.download);
    });
    const panel = open();
    expect(row(panel, 'doc-docx').querySelector('[data-key$="-preview"]')).toBeNull();
    row(panel, 'doc-pdf').querySelector('[data-key$="-preview"]').click();
    await vi.waitFor(() => expect(panel.el.querySelector('dialog[open] img')).not.toBeNull());
    expect(panel.el.querySelector('dialog[open] img').getAttribute('alt')).toBe('Aperçu : PPUI tunnels');
    row(panel, 'doc-docx').querySelector('[data-key$="-download"]').click();
    await vi.waitFor(() => expect(app.api.requests).toHaveLength(2));
    expect(app.api.requests.map((r) => r.path)).toEqual(['/api/documents/doc-pdf/preview', '/api/documents/doc-docx/content']);
    await vi.waitFor(() => expect(saved).toEqual(['note.docx']));
    vi.restoreAllMocks();
  });

  it("names the activation's phase by the admin-kept list, in the user's language, and by its code without it", async () => {
    clock = { now: NOW };
    const store = board();
    const held = store.get('activation', 'A');
    store.applyFeature('activation', { ...held, properties: { ...held.properties, phase: 'management', phase_reason: 'Feu maîtrisé', version: 2 } });
    app = new FakeApp({ store, permissions: [...STAFF, 'phases:read'] });
    app.api.reads['/api/activation-phases'] = { phases: [{ code: 'management', label_fr: 'Gestion', label_nl: 'Beheer', label_en: 'Management' }] };
    const panel = new Board(app, { now: () => clock.now, win: window });
    panel.open('A');
    expect(panel.el.querySelector('.board-phase').textContent).toBe('Phase : management — Feu maîtrisé');
    await vi.waitFor(() => expect(panel.el.querySelector('.board-phase').textContent).toBe('Phase : Gestion — Feu maîtrisé'));
    setLanguage('nl');
    expect(panel.el.querySelector('.board-phase').textContent).toBe('Fase: Beheer — Feu maîtrisé');
  });

  it('says so when the activation is not in the picture', () => {
    app = new FakeApp({ store: board(), permissions: STAFF });
    const panel = new Board(app, { now: () => NOW, win: window });
    panel.open('nope');
    expect(panel.el.textContent).toContain("Cette activation n'est pas dans votre image.");
  });
});
