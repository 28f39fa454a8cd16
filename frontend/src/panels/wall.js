// The wall view for the crisis-cell screen: read-only, large type. The map, the open GCC
// activation and its last decisions, the latest severe incidents, the Brussels clock. It must
// run for days: lists are rebuilt from the store (bounded), never appended to forever, and
// redrawn at most once a second.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { SEVERITY_RANK } from '../model.js';
import { formatClock, formatDateTime, formatLongDate, formatWhen } from '../time.js';
import { areaName } from '../format.js';
import { boardSummary } from '../board-model.js';

const SEVERE_SHOWN = 8;
const DECISIONS_SHOWN = 6;
const REDRAW_MS = 1000;
const BOARDS_SHOWN = 4;
// Overdue is a matter of time: the boards' summary is drawn again each minute without a change.
const BOARD_TICK_MS = 60000;

export class Wall {
  constructor(app) {
    this.app = app;
    this.clock = $('#clock', app.root);
    this.date = $('#clock-date', app.root);
    this.activation = $('#wall-activation', app.root);
    this.decisions = $('#wall-decisions', app.root);
    this.severe = $('#wall-severe', app.root);
    this.boards = $('#wall-board', app.root);
    this.dirty = true;
    this.boardDrawn = 0;
    this.tick();
    this.timer = setInterval(() => this.tick(), REDRAW_MS);
    app.cleanups.push(() => clearInterval(this.timer));
    app.store.subscribe((event) => {
      if (event.type === 'snapshot' || (event.type === 'change' && event.outcome === 'applied')) this.dirty = true;
    });
    onLanguage(() => {
      this.dirty = true;
      this.tick();
    });
  }

  tick() {
    const now = new Date();
    this.clock.textContent = formatClock(now);
    this.clock.dateTime = now.toISOString();
    this.date.textContent = formatLongDate(now);
    if (!this.dirty && now - this.boardDrawn < BOARD_TICK_MS) return;
    this.dirty = false;
    this.boardDrawn = now.getTime();
    this.render();
  }

  render() {
    const store = this.app.store;
    const activations = [...store.all('activation')];
    const open = activations.filter((a) => a.properties.status === 'open').sort(byDesc('opened_at'));
    const shown = open[0] || activations.sort(byDesc('opened_at'))[0] || null;
    if (shown) {
      const p = shown.properties;
      fill(
        this.activation,
        h('p', { class: 'wall-state' }, open.length ? t('wall.open') : t('wall.last_activation')),
        h('p', { class: 'wall-activation-title' }, p.title),
        h('p', {}, h('span', { class: 'tag' }, label('activation_level', p.level)), ' ', label('coordinator', p.coordinator), ' · ', formatDateTime(p.opened_at)),
      );
    } else fill(this.activation, h('p', { class: 'muted' }, t('wall.no_activation')));

    const decisions = shown
      ? [...store.all('logbook_entry')].filter((e) => e.properties.subject_id === shown.id && e.properties.kind === 'decision').sort(byDesc('occurred_at')).slice(0, DECISIONS_SHOWN)
      : [];
    fill(
      this.decisions,
      decisions.length
        ? decisions.map((d) => h('li', {}, h('time', { datetime: d.properties.occurred_at }, formatWhen(d.properties.occurred_at)), ' ', d.properties.title))
        : h('li', { class: 'muted' }, t('wall.no_decisions')),
    );

    this.renderBoards(open);

    const severe = [...store.all('incident')]
      .filter((i) => SEVERITY_RANK[i.properties.severity] >= 2 && !['closed', 'false_alarm'].includes(i.properties.status))
      .sort(byDesc('reported_at'))
      .slice(0, SEVERE_SHOWN);
    fill(
      this.severe,
      severe.length
        ? severe.map((i) => {
            const p = i.properties;
            return h('li', { class: `sev-${p.severity}` },
              h('span', { class: ['badge', `sev-${p.severity}`] }, label('severity', p.severity)), ' ',
              h('strong', {}, p.title),
              h('span', { class: 'wall-meta' }, [label('category', p.category), label('incident_status', p.status), areaName(p.municipality), formatWhen(p.reported_at)].filter(Boolean).join(' · ')));
          })
        : h('li', { class: 'muted' }, t('wall.no_severe')),
    );
  }

  /** Each running activation's board in a line: presence, overdue tasks, checklists, last decision. */
  renderBoards(open) {
    const app = this.app;
    const now = Date.now();
    const rows = open.slice(0, BOARDS_SHOWN).map((a) => {
      const s = boardSummary(app.store, a.id, now);
      const facts = [];
      if (app.readable('position')) facts.push(h('span', {}, t('wall.board_presence', { reached: s.presence.reached, total: s.presence.total })));
      if (app.readable('task')) {
        facts.push(s.overdue.length
          ? h('span', { class: 'overdue' }, t('wall.board_overdue', { n: s.overdue.length }))
          : h('span', {}, t('wall.board_no_overdue')));
      }
      if (app.readable('checklist') && s.checklists.lists) facts.push(h('span', {}, t('wall.board_checklists', s.checklists)));
      if (s.lastDecision) facts.push(h('span', {}, t('wall.board_last_decision', { title: s.lastDecision.properties.title })));
      return h('li', { dataset: { id: a.id } },
        h('span', { class: 'wall-board-title' }, a.properties.title),
        h('span', { class: 'wall-meta' }, facts.flatMap((f, i) => (i ? [' · ', f] : [f]))));
    });
    fill(this.boards, rows.length ? rows : h('li', { class: 'muted' }, t('wall.no_activation')));
  }
}

function byDesc(field) {
  return (a, b) => (Date.parse(b.properties[field]) || 0) - (Date.parse(a.properties[field]) || 0);
}
