// The activation board: one GCC activation's crisis cell at a glance — who is reached and who
// is missing, the tasks by status (overdue ones marked), checklist progress, the decision
// timeline with corrections beside what they correct, documents, the logbooks (the
// multidisciplinary one and D1–D5), and the linked objects outlined on the map. It is a view
// over the store: every change on /ws reaches it like any other, and it redraws only the rows
// the change concerns (keyed.js), once per frame at most. Linked as #board/<activation id>.
// Its SITREPs: generate a draft, edit its free text, approve it, read it (HTML, PDF), send it.
import { h, fill, saveBlob } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { formatDateTime, formatWhen } from '../time.js';
import { errorDetail } from '../format.js';
import { KeyedList } from '../keyed.js';
import { DocumentShelf } from './documents.js';
import {
  DISCIPLINES,
  LOGBOOK_TABS,
  PRESENCES,
  REACHED,
  belongsTo,
  checklistProgress,
  checklistTotals,
  compareChecklists,
  compareDocuments,
  comparePositions,
  decisionTimeline,
  isOverdue,
  lastDecision,
  linkedObjects,
  logbookTabs,
  objectsOf,
  presenceSummary,
  presenceTime,
  taskChoices,
  taskGroups,
} from '../board-model.js';

const ROUTE = /^#board\/([\w-]+)$/;
const TICK_MS = 60000;
// Long lists (decisions, documents, a logbook) show their newest rows first, a page at a time:
// a cell's 500th decision is read from the history, and the board opens at once.
export const PAGE = 50;
// Which sections a change of each kind redraws.
const SECTIONS_OF = {
  position: ['positions', 'tasks'],
  task: ['tasks'],
  checklist: ['checklists'],
  decision: ['decisions'],
  document: ['documents'],
  logbook_entry: ['logbook'],
  sitrep: ['sitreps'],
};

/** An enum's label: the vocabulary's, else the board's own words (a group a newer server adds), else the value. */
export function enumLabel(group, value) {
  return value == null || value === '' ? '' : label(group, value);
}

export class Board {
  constructor(app, { now = () => Date.now(), tickMs = TICK_MS, win = globalThis } = {}) {
    this.app = app;
    this.now = now;
    this.win = win;
    this.el = app.root.querySelector('#board');
    this.layout = app.root.querySelector('.layout');
    this.legend = app.root.querySelector('#legend');
    this.activationId = null;
    this.pending = new Set();
    this.raf = null;
    this.lists = {};
    this.logbookTab = 'multi';
    this.editing = null; // the draft SITREP whose free text is open for editing
    this.limits = {};
    this.returnFocus = null;
    // The admin-kept phases' labels (GET /api/activation-phases), read once when first needed.
    this.phases = null;
    // The activation's documents: their rows, preview, and attaching a file to the activation.
    this.documents = new DocumentShelf(app, 'board');
    this.metrics = { opened: 0, firstRenderMs: null, flushes: 0, lastFlush: null };
    app.store.subscribe((event) => this._onStore(event));
    onLanguage(() => this.activationId && this.render());
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !this.el.querySelector('dialog[open]')) {
        e.preventDefault();
        this.close();
      }
    });
    this._onHash = () => this.route();
    win.addEventListener?.('hashchange', this._onHash);
    // Overdue is a matter of time: the task rows whose state it changed are drawn again.
    const timer = setInterval(() => this.activationId && this.schedule(['tasks', 'summary']), tickMs);
    app.cleanups.push(() => {
      clearInterval(timer);
      win.removeEventListener?.('hashchange', this._onHash);
    });
  }

  /** Open (or close) the board the address names. */
  route() {
    const m = ROUTE.exec(this.win.location?.hash || '');
    if (m && m[1] !== this.activationId) this.open(m[1]);
    else if (!m && this.activationId) this.close({ fromRoute: true });
  }

  get activation() {
    return this.activationId ? this.app.store.get('activation', this.activationId) : null;
  }

  open(id) {
    const started = performance.now();
    if (!this.activationId) this.returnFocus = this.win.document?.activeElement ?? null;
    this.activationId = id;
    if (this.win.location && this.win.location.hash !== `#board/${id}`) this.win.history?.pushState(null, '', `#board/${id}`);
    this.el.hidden = false;
    // The map follows its container's new size by itself (MapLibre observes it).
    this.layout?.classList.add('board-open');
    if (this.legend) this.legend.hidden = true;
    this.render();
    this._loadPhases();
    const subject = this._subject();
    if (subject?.geometry) this.app.mapView?.flyTo(subject);
    this.el.querySelector('#board-title')?.focus();
    this.metrics.opened += 1;
    this.metrics.firstRenderMs = performance.now() - started;
  }

  close({ fromRoute = false } = {}) {
    if (!this.activationId) return;
    this.activationId = null;
    if (!fromRoute && this.win.location?.hash) this.win.history?.pushState(null, '', this.win.location.pathname + this.win.location.search);
    this.el.hidden = true;
    fill(this.el);
    this.lists = {};
    this.layout?.classList.remove('board-open');
    if (this.legend) this.legend.hidden = false;
    this.app.mapView?.setLinked?.([]);
    this.linkedKey = null;
    if (this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  async _loadPhases() {
    if (this.phases || !this.app.can('phases:read')) return;
    this.phases = new Map();
    try {
      const answer = await this.app.api.get('/api/activation-phases');
      for (const phase of answer?.phases || []) this.phases.set(phase.code, phase);
      this.schedule(['header']);
    } catch {
      // Without the list the phase shows by its code; the next opening asks again.
      this.phases = null;
    }
  }

  _phaseLabel(code) {
    return this.phases?.get(code)?.[`label_${language()}`] || enumLabel('activation_phase', code);
  }

  _subject() {
    const p = this.activation?.properties;
    return p?.subject_id ? this.app.store.get(p.subject_entity, p.subject_id) : null;
  }

  _readable(entity) {
    return this.app.readable(entity);
  }

  _onStore(event) {
    if (!this.activationId || event.type === 'feed') return;
    if (event.type === 'snapshot') {
      this.schedule(['header', 'summary', 'map', 'tasks', ...Object.keys(this.lists)]);
      return;
    }
    if (event.type !== 'change') return;
    if (event.entity === 'activation' && event.id === this.activationId) {
      this.schedule(['header', 'map']);
      return;
    }
    const sections = SECTIONS_OF[event.entity];
    if (!sections) return;
    if (!belongsTo(event.feature, this.activationId) && !belongsTo(event.previous, this.activationId)) return;
    this.schedule([...sections, 'summary', ...(event.entity === 'task' ? ['map'] : [])]);
  }

  /** Redraw these sections at the next frame (a burst of changes costs one redraw). */
  schedule(sections) {
    for (const s of sections) this.pending.add(s);
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.raf = null;
    if (!this.activationId) return;
    const started = performance.now();
    const sections = [...this.pending];
    this.pending.clear();
    // The activation came into the picture (a link opened before it arrived) or left it.
    if (Boolean(this.parts?.header) !== Boolean(this.activation)) {
      this.render();
      return;
    }
    const counts = { drawn: 0, moved: 0, removed: 0 };
    for (const section of sections) {
      const c = this.renderSection(section);
      if (c) for (const k of Object.keys(counts)) counts[k] += c[k];
    }
    this.metrics.flushes += 1;
    this.metrics.lastFlush = { ms: performance.now() - started, sections, ...counts };
  }

  // ---- drawing

  render() {
    const a = this.activation;
    for (const list of Object.values(this.lists)) list.clear();
    this.lists = {};
    this.parts = {};
    this.limits = { decisions: PAGE, documents: PAGE, logbook: PAGE };
    this.linkedKey = null;
    this.more = {};
    if (!a) {
      fill(
        this.el,
        h('div', { class: 'board-head' },
          h('h2', { id: 'board-title', tabindex: '-1' }, t('board.title')),
          this._closeButton()),
        h('p', { class: 'muted' }, t('board.unknown')),
      );
      this.app.mapView?.setLinked?.([]);
      return;
    }
    this.parts.header = h('div', { class: 'board-head' });
    this.parts.summary = h('dl', { class: 'board-summary', 'aria-label': t('board.summary') });
    const sections = [this.parts.header, this.parts.summary];
    const section = (name, titleKey, ...body) => {
      const el = h('section', { class: ['board-section', `board-${name}`], 'aria-labelledby': `board-h-${name}` },
        h('h3', { id: `board-h-${name}` }, t(titleKey)), ...body);
      sections.push(el);
      return el;
    };
    if (this._readable('position')) {
      this.parts.presence = h('p', { class: 'board-presence' });
      this.parts.positionsEmpty = h('p', { class: 'muted' }, t('board.no_positions'));
      const ol = h('ol', { class: 'board-rows board-positions-list' });
      this.lists.positions = new KeyedList(ol, (f) => this._positionRow(f));
      section('positions', 'board.positions', this.parts.presence, ol, this.parts.positionsEmpty);
    }
    if (this._readable('task')) {
      this.parts.taskGroups = h('div', { class: 'board-task-groups' });
      this.parts.tasksEmpty = h('p', { class: 'muted' }, t('board.no_tasks'));
      this.taskGroupEls = new Map();
      section('tasks', 'board.tasks', this.parts.taskGroups, this.parts.tasksEmpty);
    }
    if (this._readable('checklist')) {
      const ol = h('ol', { class: 'board-rows board-checklists-list' });
      this.parts.checklistsEmpty = h('p', { class: 'muted' }, t('board.no_checklists'));
      this.lists.checklists = new KeyedList(ol, (f) => this._checklistRow(f));
      section('checklists', 'board.checklists', ol, this.parts.checklistsEmpty);
    }
    if (this._readable('decision')) {
      const ol = h('ol', { class: 'board-rows board-decisions-list' });
      this.parts.decisionsEmpty = h('p', { class: 'muted' }, t('board.no_decisions'));
      this.lists.decisions = new KeyedList(ol, (row) => this._entryRow('decision', row));
      section('decisions', 'board.decisions', ol, this._moreButton('decisions'), this.parts.decisionsEmpty);
    }
    if (this._readable('document')) {
      const ol = h('ol', { class: 'board-rows board-documents-list' });
      this.parts.documentsEmpty = h('p', { class: 'muted' }, t('board.no_documents'));
      this.lists.documents = new KeyedList(ol, (f) => this.documents.row(f));
      this.documents.setSubject('activation', this.activationId);
      const el = section('documents', 'board.documents', this.documents.panel, ol, this._moreButton('documents'), this.parts.documentsEmpty, this.documents.dialog);
      this.documents.acceptDrops(el);
    }
    if (this._readable('logbook_entry')) {
      this.parts.logTabs = h('div', { class: 'board-logtabs', role: 'tablist', 'aria-label': t('board.logbook_tabs') });
      const ol = h('ol', { class: 'board-rows board-log-list' });
      this.parts.logPanel = h('div', { role: 'tabpanel', id: 'board-logpanel', tabindex: '0' }, ol, this._moreButton('logbook'));
      this.parts.logEmpty = h('p', { class: 'muted' }, t('board.no_entries'));
      this.parts.logPanel.append(this.parts.logEmpty);
      this.lists.logbook = new KeyedList(ol, (row) => this._entryRow('logbook_entry', row));
      section('logbook', 'board.logbook', this.parts.logTabs, this.parts.logPanel);
    }
    if (this._readable('sitrep')) {
      const ol = h('ol', { class: 'board-rows board-sitreps-list' });
      this.parts.sitrepsEmpty = h('p', { class: 'muted' }, t('board.no_sitreps'));
      this.lists.sitreps = new KeyedList(ol, (f) => this._sitrepRow(f));
      const generate = this.app.can('sitrep:create')
        ? h('button', { type: 'button', class: 'primary', dataset: { key: 'sitrep-generate' }, onclick: () => this.generateSitrep() }, t('board.sitrep_generate'))
        : null;
      section('sitreps', 'board.sitreps', generate, ol, this.parts.sitrepsEmpty);
    }
    fill(this.el, sections);
    // Each section's first drawing is timed: the benchmark reports where an opening goes.
    this.metrics.sections = {};
    for (const name of ['header', 'summary', 'map', ...Object.keys(this.lists), ...(this.parts.taskGroups ? ['tasks'] : [])]) {
      const started = performance.now();
      this.renderSection(name);
      this.metrics.sections[name] = performance.now() - started;
    }
  }

  _moreButton(name) {
    this.more[name] = h('button', { type: 'button', class: 'more', hidden: true, dataset: { key: `more-${name}` }, onclick: () => {
      this.limits[name] += PAGE;
      this.renderSection(name);
    } });
    return this.more[name];
  }

  /** The rows of a long list shown now, and the button that shows the next page. */
  _page(name, rows) {
    const limit = this.limits[name];
    const button = this.more[name];
    button.hidden = rows.length <= limit;
    if (!button.hidden) button.textContent = t('board.more', { n: Math.min(PAGE, rows.length - limit), total: rows.length });
    return rows.length > limit ? rows.slice(0, limit) : rows;
  }

  _closeButton() {
    return h('button', { type: 'button', class: 'close', dataset: { action: 'close-board' }, onclick: () => this.close() }, t('board.close'));
  }

  /** Draw one section from the store; answers the rows written, for the metrics. */
  renderSection(name) {
    if (!this.parts?.header) return null;
    const id = this.activationId;
    const store = this.app.store;
    const now = this.now();
    if (name === 'header') {
      const p = this.activation?.properties || {};
      fill(
        this.parts.header,
        h('div', {},
          h('p', { class: 'detail-kind' }, t('board.title'), ' ', h('span', { class: 'tag' }, label('activation_status', p.status))),
          h('h2', { id: 'board-title', tabindex: '-1' }, p.title || ''),
          h('p', { class: 'muted' }, t('board.meta', { level: label('activation_level', p.level), coordinator: label('coordinator', p.coordinator), opened: formatWhen(p.opened_at) })),
          p.phase ? h('p', { class: 'board-phase' }, t('board.phase', { phase: this._phaseLabel(p.phase) }), p.phase_reason ? ` — ${p.phase_reason}` : '') : null),
        this._closeButton(),
      );
      return null;
    }
    if (name === 'summary') return this._renderSummary(now);
    if (name === 'map') {
      const tasks = this._readable('task') ? objectsOf(store, 'task', id) : [];
      const linked = linkedObjects(this.activation, tasks);
      // Most task changes link nothing new: the map is not asked to draw a frame for them.
      const key = linked.map((r) => `${r.entity}:${r.id}`).join(',');
      if (key !== this.linkedKey) this.app.mapView?.setLinked?.(linked);
      this.linkedKey = key;
      return null;
    }
    if (name === 'positions' && this.lists.positions) {
      const positions = objectsOf(store, 'position', id).sort(comparePositions);
      const s = presenceSummary(positions);
      fill(
        this.parts.presence,
        h('strong', { class: 'board-reached' }, t('board.seats', { reached: s.reached, total: s.total })),
        ' ',
        PRESENCES.filter((p) => s.byPresence[p]).map((p) => h('span', { class: ['chip', `presence-${p}`] }, `${label('presence', p)} ${s.byPresence[p]}`)),
      );
      this.parts.positionsEmpty.hidden = positions.length > 0;
      return this.lists.positions.update(positions.map((f) => ({ key: f.id, stamp: f.properties.version, value: f })));
    }
    if (name === 'tasks' && this.parts.taskGroups) return this._renderTasks(now);
    if (name === 'checklists' && this.lists.checklists) {
      const lists = objectsOf(store, 'checklist', id).sort(compareChecklists);
      this.parts.checklistsEmpty.hidden = lists.length > 0;
      return this.lists.checklists.update(lists.map((f) => ({ key: f.id, stamp: `${f.properties.version}`, value: f })));
    }
    if (name === 'decisions' && this.lists.decisions) {
      const rows = decisionTimeline(objectsOf(store, 'decision', id));
      this.parts.decisionsEmpty.hidden = rows.length > 0;
      return this.lists.decisions.update(this._page('decisions', rows).map((row) => ({ key: row.entry.id, stamp: entryStamp(row), value: row })));
    }
    if (name === 'documents' && this.lists.documents) {
      const docs = objectsOf(store, 'document', id).sort(compareDocuments);
      this.parts.documentsEmpty.hidden = docs.length > 0;
      return this.lists.documents.update(this._page('documents', docs).map((f) => ({ key: f.id, stamp: f.properties.version, value: f })));
    }
    if (name === 'sitreps' && this.lists.sitreps) {
      const reports = objectsOf(store, 'sitrep', id).sort((a, b) => b.properties.number - a.properties.number);
      this.parts.sitrepsEmpty.hidden = reports.length > 0;
      return this.lists.sitreps.update(reports.map((f) => ({ key: f.id, stamp: `${f.properties.version}|${this.editing === f.id}`, value: f })));
    }
    if (name === 'logbook' && this.lists.logbook) {
      const tabs = logbookTabs(objectsOf(store, 'logbook_entry', id));
      this._renderLogTabs(tabs);
      const rows = tabs.get(this.logbookTab) || [];
      this.parts.logEmpty.hidden = rows.length > 0;
      return this.lists.logbook.update(this._page('logbook', rows).map((row) => ({ key: row.entry.id, stamp: entryStamp(row), value: row })));
    }
    return null;
  }

  _renderSummary(now) {
    const id = this.activationId;
    const store = this.app.store;
    const item = (key, value, cls, wide = false) => h('div', { class: wide ? 'wide' : null }, h('dt', {}, t(key)), h('dd', { class: cls }, value));
    const parts = [];
    if (this._readable('position')) {
      const s = presenceSummary(objectsOf(store, 'position', id));
      parts.push(item('board.reached', `${s.reached}/${s.total}`, 'summary-reached'), item('board.missing', String(s.missing), s.missing ? 'summary-missing warn' : 'summary-missing'));
    }
    if (this._readable('task')) {
      const tasks = objectsOf(store, 'task', id);
      const overdue = tasks.filter((task) => isOverdue(task, now)).length;
      parts.push(item('board.open_tasks', String(tasks.filter((task) => !['done', 'cancelled'].includes(task.properties.status)).length)),
        item('board.overdue', String(overdue), overdue ? 'summary-overdue overdue' : 'summary-overdue'));
    }
    if (this._readable('checklist')) {
      const c = checklistTotals(objectsOf(store, 'checklist', id));
      parts.push(item('board.checklists', t('board.progress', c)));
    }
    if (this._readable('decision')) {
      const d = lastDecision(objectsOf(store, 'decision', id));
      if (d) parts.push(item('board.last_decision', d.properties.title, 'summary-decision', true));
    }
    fill(this.parts.summary, parts);
    return null;
  }

  _renderTasks(now) {
    const groups = taskGroups(objectsOf(this.app.store, 'task', this.activationId), now);
    const counts = { drawn: 0, moved: 0, removed: 0 };
    let any = false;
    for (const group of groups) {
      let g = this.taskGroupEls.get(group.status);
      if (!g) {
        const ol = h('ol', { class: 'board-rows board-task-list' });
        const heading = h('h4', {});
        g = { el: h('div', { class: ['board-task-group', `task-${group.status}`], dataset: { status: group.status } }, heading, ol), heading, list: new KeyedList(ol, (f) => this._taskRow(f)) };
        this.taskGroupEls.set(group.status, g);
        this.parts.taskGroups.append(g.el);
      }
      g.el.hidden = group.tasks.length === 0;
      any ||= group.tasks.length > 0;
      fill(g.heading, enumLabel('task_status', group.status), ' ', h('span', { class: 'count' }, String(group.tasks.length)),
        group.overdue ? h('span', { class: 'chip overdue' }, t('board.overdue_count', { n: group.overdue })) : null);
      const c = g.list.update(group.tasks.map((f) => ({ key: f.id, stamp: this._taskStamp(f, now), value: f })));
      for (const k of Object.keys(counts)) counts[k] += c[k];
    }
    this.parts.tasksEmpty.hidden = any;
    return counts;
  }

  _taskStamp(f, now) {
    const owner = f.properties.owner_position_id ? this.app.store.get('position', f.properties.owner_position_id) : null;
    return `${f.properties.version}|${isOverdue(f, now)}|${owner?.properties.version ?? ''}`;
  }

  _renderLogTabs(tabs) {
    const buttons = LOGBOOK_TABS.map((tab) => {
      const selected = tab === this.logbookTab;
      return h('button', {
        type: 'button', role: 'tab', id: `board-logtab-${tab}`, 'aria-selected': String(selected), 'aria-controls': 'board-logpanel',
        tabindex: selected ? '0' : '-1', dataset: { tab, key: `logtab-${tab}` },
        onclick: () => this._selectLogTab(tab),
        onkeydown: (e) => this._logTabKey(e, tab),
      }, tab === 'multi' ? t('board.multi') : tab.toUpperCase(), ' ', h('span', { class: 'count' }, String(tabs.get(tab)?.length || 0)));
    });
    const focused = this.parts.logTabs.contains(this.win.document?.activeElement) ? this.win.document.activeElement.dataset.tab : null;
    fill(this.parts.logTabs, buttons);
    this.parts.logPanel.setAttribute('aria-labelledby', `board-logtab-${this.logbookTab}`);
    if (focused) this.parts.logTabs.querySelector(`[data-tab="${focused}"]`)?.focus();
  }

  _selectLogTab(tab) {
    this.logbookTab = tab;
    this.limits.logbook = PAGE;
    this.lists.logbook.clear();
    this.renderSection('logbook');
  }

  _logTabKey(event, tab) {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    event.preventDefault();
    const i = LOGBOOK_TABS.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : -1);
    const next = LOGBOOK_TABS[(i + LOGBOOK_TABS.length) % LOGBOOK_TABS.length];
    this._selectLogTab(next);
    this.parts.logTabs.querySelector(`[data-tab="${next}"]`)?.focus();
  }

  // ---- rows

  _positionRow(f) {
    const p = f.properties;
    const when = presenceTime(f);
    const holder = p.holder_user || (p.holder_organisation ? this.app.organisationName(p.holder_organisation) : null);
    const reached = REACHED.has(p.presence);
    return h('li', { class: ['board-row', 'board-position', `presence-${p.presence}`, reached ? 'reached' : 'missing'], dataset: { id: f.id, presence: p.presence } },
      h('div', { class: 'row-main' },
        h('strong', {}, p.title || label('position_role', p.role)),
        ' ', h('span', { class: 'tag' }, label('position_role', p.role)),
        p.discipline && p.discipline !== p.role ? h('span', { class: 'tag' }, p.discipline.toUpperCase()) : null),
      h('div', { class: 'row-meta' },
        h('span', { class: 'holder' }, holder || t('board.holder_none')), ' · ',
        h('span', { class: ['presence', `presence-${p.presence}`] }, label('presence', p.presence)),
        // The time of the presence shown (paged, acknowledged) needs no word; an arrival does.
        when ? [' · ', h('time', { datetime: when.at }, when.kind === 'arrived' ? t('board.arrived', { time: formatWhen(when.at) }) : formatWhen(when.at))] : null),
      this.app.can('position:update') ? this._presenceControl(f) : null,
    );
  }

  _presenceControl(f) {
    const p = f.properties;
    const seat = p.title || label('position_role', p.role);
    const select = h('select', { dataset: { key: `presence-${f.id}` }, 'aria-label': t('board.presence_set', { seat }) },
      PRESENCES.map((v) => h('option', { value: v, selected: v === p.presence }, label('presence', v))));
    const apply = h('button', { type: 'button', hidden: true, dataset: { key: `presence-apply-${f.id}` }, onclick: () => this._setPresence(f.id, select.value) }, t('time.apply'));
    select.addEventListener('change', () => {
      apply.hidden = select.value === p.presence;
    });
    return h('div', { class: 'row-actions' }, select, apply);
  }

  async _setPresence(id, presence) {
    const current = this.app.store.get('position', id);
    if (!current) return;
    try {
      const feature = await this.app.api.request('PATCH', `/api/positions/${id}`, { body: { type: 'Feature', properties: { presence } }, ifMatch: current.properties.version });
      this.app.store.applyFeature('position', feature);
    } catch (error) {
      this._writeFailed(error, 'position');
    }
  }

  _taskRow(f) {
    const p = f.properties;
    const now = this.now();
    const overdue = isOverdue(f, now);
    const ownerPosition = p.owner_position_id ? this.app.store.get('position', p.owner_position_id) : null;
    const owner = ownerPosition?.properties.title || p.owner_user || (p.owner_organisation ? this.app.organisationName(p.owner_organisation) : null);
    const viewer = { partner: this.app.partner, organisation: this.app.me?.organisation ?? null, can: (a) => this.app.can(a) };
    const choices = taskChoices(f, viewer);
    return h('li', { class: ['board-row', 'board-task', `priority-${p.priority || 'normal'}`, overdue ? 'overdue' : null], dataset: { id: f.id, status: p.status } },
      h('div', { class: 'row-main' },
        overdue ? h('span', { class: 'chip overdue' }, t('board.overdue')) : null,
        p.priority && p.priority !== 'normal' ? h('span', { class: ['chip', `priority-${p.priority}`] }, enumLabel('task_priority', p.priority)) : null,
        ' ', h('strong', {}, p.title)),
      h('div', { class: 'row-meta' },
        owner ? h('span', {}, t('board.owner', { owner })) : null,
        p.due_at ? [owner ? ' · ' : null, h('time', { datetime: p.due_at, class: overdue ? 'overdue' : null }, t('board.due', { time: formatWhen(p.due_at, undefined, new Date(now)) }))] : null,
        p.status === 'blocked' && p.blocked_reason ? h('p', { class: 'blocked' }, t('board.blocked_reason', { reason: p.blocked_reason })) : null),
      choices.length
        ? h('div', { class: 'row-actions' }, choices.map((status) => h('button', {
            type: 'button', class: status === 'done' ? 'primary' : null, dataset: { key: `task-${f.id}-${status}`, status },
            'aria-label': t('board.mark', { status: enumLabel('task_status', status), title: p.title }),
            onclick: () => this.setTaskStatus(f.id, status),
          }, enumLabel('task_status', status))))
        : null,
    );
  }

  /** POST /api/tasks/{id}/status with the version the board shows; the answer is the task. */
  async setTaskStatus(id, status) {
    const current = this.app.store.get('task', id);
    if (!current) return;
    try {
      const feature = await this.app.api.request('POST', `/api/tasks/${id}/status`, { body: { status }, ifMatch: current.properties.version });
      this.app.store.applyFeature('task', feature);
    } catch (error) {
      this._writeFailed(error, 'task');
    }
  }

  /** A refused write: a stale version (the answer holds the current state, shown at once) or an error. */
  _writeFailed(error, entity) {
    // A stale version answers with the current object; a refused transition (409) with a problem.
    const body = error?.body;
    if ((error?.status === 412 || error?.status === 409) && body?.type === 'Feature' && body.id) {
      this.app.store.applyFeature(entity, body);
      this.app.toast(t('board.status_conflict'), 'info');
      return;
    }
    this.app.toast(t('board.status_failed', { detail: errorDetail(error) }), 'error');
  }

  _checklistRow(f) {
    const p = f.properties;
    const progress = checklistProgress(f);
    const lang = language();
    const percent = Math.round(progress.ratio * 100);
    return h('li', { class: ['board-row', 'board-checklist', progress.complete ? 'complete' : null], dataset: { id: f.id } },
      h('div', { class: 'row-main' }, h('strong', {}, p.title), ' ', h('span', { class: 'count' }, t('board.progress', progress))),
      h('progress', {
        class: 'bar', max: String(Math.max(progress.total, 1)), value: String(progress.done),
        'aria-label': t('board.checklist_label', { title: p.title, done: progress.done, total: progress.total }),
      }, `${percent} %`),
      progress.next.length
        ? h('div', { class: 'row-meta' }, t('board.next_items'), h('ul', { class: 'next-items' }, progress.next.map((item) => h('li', {}, item.text?.[lang] || item.text?.fr || item.key))))
        : h('p', { class: 'row-meta muted' }, t('board.all_done')),
    );
  }

  _entryRow(entity, row) {
    const draw = (f, correction) => {
      const p = f.properties;
      const at = entity === 'decision' ? p.decided_at : p.occurred_at;
      const by = entity === 'decision' ? this._decider(p) : p.created_by;
      return h('div', { class: ['entry', correction ? 'correction' : null], dataset: { id: f.id } },
        h('div', { class: 'row-main' },
          h('time', { datetime: at }, formatDateTime(at)), ' ',
          correction ? h('span', { class: 'chip correction' }, t('board.correction')) : null,
          !correction && row.corrections.length ? h('span', { class: 'chip corrected' }, t('board.corrected')) : null,
          entity === 'logbook_entry' ? h('span', { class: 'tag' }, label('logbook_kind', p.kind)) : null,
          ' ', h('strong', {}, p.title)),
        by ? h('div', { class: 'row-meta' }, entity === 'decision' ? t('board.decided_by', { who: by }) : by,
          p.promoted_from_id ? [' · ', t('board.promoted', { from: this._promotedFrom(p.promoted_from_id) })] : null) : null,
        p.description ? h('p', { class: 'entry-text' }, p.description) : null,
        p.basis ? h('p', { class: 'entry-basis' }, t('board.basis', { basis: p.basis })) : null,
      );
    };
    return h('li', { class: ['board-row', `board-${entity === 'decision' ? 'decision' : 'log'}`], dataset: { id: row.entry.id } },
      draw(row.entry, false),
      row.corrections.length ? h('div', { class: 'corrections' }, row.corrections.map((c) => draw(c, true))) : null);
  }

  _decider(p) {
    const position = p.decided_by_position_id ? this.app.store.get('position', p.decided_by_position_id) : null;
    return [p.decided_by_name, position?.properties.title].filter(Boolean).join(' — ') || null;
  }

  _promotedFrom(id) {
    const source = this.app.store.get('logbook_entry', id);
    const discipline = source?.properties.discipline;
    return discipline && DISCIPLINES.includes(discipline) ? discipline.toUpperCase() : source?.properties.title || id;
  }

  _sitrepRow(f) {
    const p = f.properties;
    const draft = p.status === 'draft';
    const button = (action, text, onclick, primary = false) => h('button', {
      type: 'button', class: primary ? 'primary' : null, dataset: { key: `sitrep-${f.id}-${action}` },
      'aria-label': `${text}: ${p.title}`, onclick,
    }, text);
    const actions = [
      button('html', t('board.sitrep_read'), () => this.openSitrep(f)),
      button('pdf', t('board.sitrep_pdf'), () => this.downloadSitrep(f)),
    ];
    if (draft && this.app.can('sitrep:update')) actions.push(button('edit', t('board.sitrep_edit'), () => this.editSitrep(f.id)));
    if (draft && this.app.can('sitrep:approve')) actions.push(button('approve', t('board.sitrep_approve'), () => this.approveSitrep(f), true));
    if (!draft && this.app.can('sitrep:send')) actions.push(button('send', t('board.sitrep_send'), () => this.sendSitrep(f), true));
    if (!draft) actions.push(button('sent', t('board.sitrep_acks'), () => this.showSitrepAcks(f)));
    const acks = h('div', { class: 'sitrep-acks', dataset: { key: `sitrep-${f.id}-acks` } });
    return h('li', { class: ['board-row', 'board-sitrep', `sitrep-${p.status}`], dataset: { id: f.id, status: p.status } },
      h('div', { class: 'row-main' },
        h('strong', {}, t('board.sitrep_number', { n: p.number })), ' ',
        h('span', { class: ['tag', draft ? 'draft' : 'approved'] }, enumLabel('sitrep_status', p.status)), ' ',
        h('span', {}, p.title)),
      h('div', { class: 'row-meta' },
        h('time', { datetime: p.picture_at }, t('board.sitrep_at', { time: formatDateTime(p.picture_at) })),
        p.approved_at ? [' · ', t('board.sitrep_approved', { who: p.approved_by, time: formatDateTime(p.approved_at) })] : null,
        ' · ', p.ref),
      this.editing === f.id ? this._sitrepEditor(f) : (p.summary ? h('p', { class: 'entry-text' }, p.summary) : null),
      h('div', { class: 'row-actions' }, actions),
      acks,
    );
  }

  _sitrepEditor(f) {
    const p = f.properties;
    const field = (name, labelKey) => {
      const id = `sitrep-${f.id}-${name}`;
      return h('label', { for: id, class: 'field' }, t(labelKey),
        h('textarea', { id, name, rows: 4, maxlength: 10000, dataset: { key: id } }, p[name] || ''));
    };
    const form = h('form', { class: 'sitrep-editor', onsubmit: (e) => {
      e.preventDefault();
      const data = new FormData(form);
      this.saveSitrep(f.id, { summary: data.get('summary') || null, next_steps: data.get('next_steps') || null });
    } },
    field('summary', 'board.sitrep_summary'),
    field('next_steps', 'board.sitrep_next_steps'),
    h('div', { class: 'row-actions' },
      h('button', { type: 'submit', class: 'primary', dataset: { key: `sitrep-${f.id}-save` } }, t('board.sitrep_save')),
      h('button', { type: 'button', dataset: { key: `sitrep-${f.id}-cancel` }, onclick: () => this.editSitrep(null) }, t('board.sitrep_cancel'))));
    return form;
  }

  editSitrep(id) {
    this.editing = id;
    this.renderSection('sitreps');
    if (id) this.el.querySelector(`#sitrep-${id}-summary`)?.focus();
  }

  /** A new draft of this activation's series, with its picture as it stands now. */
  async generateSitrep() {
    try {
      const feature = await this.app.api.request('POST', '/api/sitreps', { body: { type: 'Feature', geometry: null, properties: { activation_id: this.activationId, language: language() } } });
      this.app.store.applyFeature('sitrep', feature);
      this.editSitrep(feature.id);
    } catch (error) {
      this.app.toast(t('board.sitrep_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  async saveSitrep(id, props) {
    const current = this.app.store.get('sitrep', id);
    if (!current) return;
    try {
      const feature = await this.app.api.request('PATCH', `/api/sitreps/${id}`, { body: { type: 'Feature', properties: props }, ifMatch: current.properties.version });
      this.editing = null;
      this.app.store.applyFeature('sitrep', feature);
      this.renderSection('sitreps');
    } catch (error) {
      this._writeFailed(error, 'sitrep');
    }
  }

  async approveSitrep(f) {
    try {
      const feature = await this.app.api.request('POST', `/api/sitreps/${f.id}/approve`, { ifMatch: f.properties.version });
      this.app.store.applyFeature('sitrep', feature);
    } catch (error) {
      this._writeFailed(error, 'sitrep');
    }
  }

  async sendSitrep(f) {
    try {
      const sent = await this.app.api.request('POST', `/api/sitreps/${f.id}/send`);
      this.app.toast(t('board.sitrep_sent', { n: sent.organisations.length }), 'info');
      this.showSitrepAcks(f);
    } catch (error) {
      this.app.toast(t('board.sitrep_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  /** Each sending and who acknowledged it, under the SITREP's row. */
  async showSitrepAcks(f) {
    try {
      const { sendings } = await this.app.api.get(`/api/sitreps/${f.id}/sent`);
      const box = this.el.querySelector(`[data-key="sitrep-${f.id}-acks"]`);
      if (!box) return;
      const rows = sendings.flatMap((s) => s.recipients.map((r) => h('li', { class: r.acknowledged_at ? 'acked' : 'pending' },
        `${this.app.organisationName(r.organisation)} — `,
        r.acknowledged_at ? t('board.sitrep_acked', { who: r.acknowledged_by || '', time: formatDateTime(r.acknowledged_at) }) : t('board.sitrep_not_acked'))));
      fill(box, rows.length ? h('ul', {}, rows) : h('p', { class: 'muted' }, t('board.sitrep_not_sent')));
    } catch (error) {
      this.app.toast(t('board.sitrep_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  /** The SITREP to read, as the server prints it in the dashboard's language, in a new tab. */
  async openSitrep(f) {
    const tab = this.win.open?.('', '_blank');
    try {
      const blob = await this.app.api.blob(`/api/sitreps/${f.id}/html?lang=${language()}`);
      const url = URL.createObjectURL(new Blob([blob], { type: 'text/html' }));
      if (tab) tab.location.href = url;
      else this.win.open?.(url, '_blank');
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      tab?.close();
      this.app.toast(t('board.sitrep_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  async downloadSitrep(f) {
    try {
      saveBlob(await this.app.api.blob(`/api/sitreps/${f.id}/pdf?lang=${language()}`), `${f.properties.ref}-${language()}.pdf`);
    } catch (error) {
      this.app.toast(t('board.sitrep_failed', { detail: errorDetail(error) }), 'error');
    }
  }

}

function entryStamp(row) {
  return [row.entry, ...row.corrections].map((f) => `${f.id}@${f.properties.version}`).join(',');
}
