// The feed: every change, newest first, filterable by type, severity, municipality, police zone
// and text. New entries are put in place once per animation frame; the list is bounded, so a
// shift (or a wall screen) of streaming never grows it.
import { h, fill, $, saveBlob } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENUMS, SEVERITY_RANK } from '../model.js';
import { formatWhen } from '../time.js';
import { areaName, describeChange } from '../format.js';
import { FORMATS, exportRequest } from '../exporting.js';
import { timeWindow } from '../mapdata.js';

export const MAX_ROWS = 200;

export class Feed {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-feed', app.root);
    this.filters = { entity: '', severity: '', municipality: '', police_zone: '', text: '' };
    this.areas = { municipality: [], police_zone: [] };
    this.queue = [];
    this.pending = null;
    this.render();
    app.store.subscribe((event) => {
      if (event.type === 'feed' || event.type === 'snapshot') this.schedule(true);
      else if (event.type === 'change' && event.entry) {
        this.queue.push(event.entry);
        this.schedule(false);
      }
    });
    onLanguage(() => this.render());
  }

  reference(layers) {
    for (const name of ['municipality', 'police_zone']) {
      this.areas[name] = (layers[name]?.features || []).map((f) => f.properties).sort((a, b) => a.code.localeCompare(b.code));
    }
    this.render();
  }

  // A burst (one WebSocket message holds many changes) is added at once, in the next task rather
  // than the next animation frame: the list is DOM only, and a frame of the software-drawn map
  // can take half a second (docs/performance.md).
  schedule(full) {
    this.full = this.full || full;
    if (!this.pending) this.pending = setTimeout(() => this.flush(), 0);
  }

  flush() {
    this.pending = null;
    if (this.full) {
      this.full = false;
      this.queue = [];
      this.renderList();
      return;
    }
    const fresh = this.queue.filter((e) => this.matches(e));
    this.queue = [];
    if (!fresh.length) return;
    this.list.querySelector('.feed-empty')?.remove();
    for (const entry of fresh) this.list.prepend(this.item(entry));
    while (this.list.children.length > MAX_ROWS) this.list.lastChild.remove();
  }

  matches(entry) {
    const f = this.filters;
    const p = entry.feature?.properties || {};
    if (f.entity && entry.entity !== f.entity) return false;
    if (f.severity && (p.severity == null || SEVERITY_RANK[p.severity] < SEVERITY_RANK[f.severity])) return false;
    if (f.municipality && !(p.municipalities || []).some((a) => a.code === f.municipality)) return false;
    if (f.police_zone && !(p.police_zones || []).some((a) => a.code === f.police_zone)) return false;
    if (f.text) {
      const hay = `${p.title || ''} ${p.ref || ''} ${p.place || ''} ${p.venue || ''} ${entry.by || ''}`.toLowerCase();
      if (!hay.includes(f.text.toLowerCase())) return false;
    }
    return true;
  }

  item(entry) {
    const p = entry.feature?.properties || {};
    const changed = entry.changed?.length
      ? t('feed.changed', { fields: entry.changed.slice(0, 4).map((f) => describeChange(entry.entity, f, entry.previous, entry.feature)).join(' · ') })
      : null;
    const title = p.title || entry.id;
    return h(
      'li',
      { class: ['feed-item', `op-${entry.op}`, `ent-${entry.entity}`, p.severity && `sev-${p.severity}`], dataset: { seq: entry.seq, id: entry.id } },
      h(
        'button',
        {
          // No aria-label: the button's name is the entry it shows (time, kind, severity, title,
          // place, author), so that what a voice-control user reads is what they can say (WCAG
          // 2.5.3, label in name), as in the alerts list.
          class: 'feed-open',
          type: 'button',
          onclick: () => (entry.op === 'deleted' ? null : this.app.openDetail(entry.entity, entry.id)),
        },
        h('span', { class: 'feed-line' },
          h('time', { class: 'feed-time', datetime: entry.at }, formatWhen(entry.at)),
          h('span', { class: 'feed-kind' }, `${label('entity', entry.entity)} · ${label('op', entry.op)}`),
          p.severity ? h('span', { class: ['badge', `sev-${p.severity}`] }, label('severity', p.severity)) : null,
        ),
        h('span', { class: 'feed-title' }, title),
        h('span', { class: 'feed-meta' }, [p.ref, areaName(p.municipality), t('feed.by', { who: entry.by })].filter(Boolean).join(' · ')),
        changed ? h('span', { class: 'feed-changed' }, changed) : null,
      ),
      // The picture right after this change, as a replay (panels/replay.js).
      this.app.panels?.replay
        ? h('button', { class: 'feed-replay', type: 'button', title: t('replay.from_here'), 'aria-label': t('replay.from_here'), onclick: () => this.app.replayTo(Date.parse(entry.at)) }, '⏪')
        : null,
    );
  }

  renderList() {
    const rows = this.app.store.recent((e) => this.matches(e), MAX_ROWS);
    fill(this.list, rows.length ? rows.map((e) => this.item(e)) : h('li', { class: 'feed-empty' }, t('feed.empty')));
  }

  showSevere() {
    this.filters.severity = 'severe';
    this.render();
  }

  _select(name, allLabel, options) {
    return h(
      'label',
      { class: 'field' },
      h('span', {}, t(`feed.${name}`)),
      h(
        'select',
        { name, onchange: (e) => this.setFilter(name === 'type' ? 'entity' : name, e.target.value) },
        h('option', { value: '' }, allLabel),
        options.map(([value, text]) => h('option', { value, selected: this.filters[name === 'type' ? 'entity' : name] === value }, text)),
      ),
    );
  }

  setFilter(name, value) {
    this.filters[name] = value;
    this.renderList();
    this._exportState();
  }

  // The objects of the chosen type that the filters (and the map's window, when it hides what
  // is outside it) select, as a file: the server streams it, with the caller's own scope.
  _exports() {
    this.exportButtons = FORMATS.map((format) =>
      h('button', { type: 'button', dataset: { format }, onclick: () => this.download(format) }, t(`feed.export_${format}`)),
    );
    this.exportHint = h('span', { class: 'feed-export-hint' });
    const group = h(
      'div',
      { class: 'feed-export', role: 'group', 'aria-label': t('feed.export') },
      h('span', { class: 'feed-export-label' }, t('feed.export')),
      this.exportButtons,
      this.exportHint,
    );
    this._exportState();
    return group;
  }

  _exportState() {
    if (!this.exportButtons) return;
    const none = !this.filters.entity;
    for (const button of this.exportButtons) button.disabled = none;
    this.exportHint.textContent = none ? t('feed.export_pick_type') : '';
  }

  async download(format) {
    const win = this.app.hideOutside ? timeWindow(this.app.timeMode, this.app.custom) : null;
    const request = exportRequest(this.filters, format, win);
    if (!request) return;
    try {
      saveBlob(await this.app.api.blob(request.path), request.filename);
    } catch (error) {
      this.app.apiError(error);
    }
  }

  render() {
    const text = h('input', {
      type: 'search',
      name: 'text',
      value: this.filters.text,
      oninput: (e) => this.setFilter('text', e.target.value),
    });
    this.list = h('ol', { class: 'feed-list', 'aria-live': 'off' });
    fill(
      this.el,
      h(
        'form',
        { class: 'feed-filters', 'aria-label': t('feed.filters'), onsubmit: (e) => e.preventDefault() },
        this._select('type', t('feed.all_types'), ENUMS.entity.filter((e) => this.app.readable(e)).map((e) => [e, label('entity', e)])),
        this._select('severity', t('feed.any_severity'), ENUMS.severity.map((s) => [s, label('severity', s)])),
        this._select('municipality', t('feed.any_municipality'), this.areas.municipality.map((a) => [a.code, areaName(a)])),
        this._select('police_zone', t('feed.any_police_zone'), this.areas.police_zone.map((a) => [a.code, `${a.code} ${areaName(a)}`])),
        h('label', { class: 'field field-text' }, h('span', {}, t('feed.text')), text),
      ),
      this._exports(),
      this.list,
    );
    this.renderList();
  }
}
