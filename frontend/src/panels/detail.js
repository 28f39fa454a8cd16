// The detail of one object: its properties, its history (who changed what, when), the logbook
// entries about it, the zones of an event and the activations opened for it. It follows the
// store: a change of the object, or of anything linked to it, is shown in place.
import { h, fill, $ } from '../dom.js';
import { label, onLanguage, t } from '../i18n.js';
import { ENTITIES } from '../model.js';
import { formatDateTime } from '../time.js';
import { changedFields } from '../store.js';
import { describeChange, fieldLabel, formatValue } from '../format.js';

const COMMON = ['ref', 'status', 'municipality', 'police_zone', 'visibility', 'exercise', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'];
const HISTORY_LIMIT = 100;

export class Detail {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-detail', app.root);
    this.current = null;
    this.history = [];
    this.raf = null;
    this.renderEmpty();
    app.store.subscribe((event) => this._onStore(event));
    onLanguage(() => this.current && this.render());
  }

  renderEmpty() {
    fill(this.el, h('p', { class: 'muted' }, t('detail.pick')));
  }

  async open(entity, id) {
    this.current = { entity, id };
    this.lastLive = null;
    this.history = [];
    this.historyLoaded = false;
    this.render();
    this.el.querySelector('h2')?.focus();
    try {
      const answer = await this.app.api.get(`/api/${ENTITIES[entity].path}/${id}/history`);
      if (this.current?.id !== id) return;
      const seen = new Set(this.history.map((c) => c.seq));
      this.history = [...answer.changes.filter((c) => !seen.has(c.seq)), ...this.history].sort((a, b) => a.seq - b.seq);
    } catch {
      // No history for this reader (or the object is gone): the properties still show.
    }
    this.historyLoaded = true;
    if (this.current?.id === id) this.renderSection('history');
  }

  close() {
    this.current = null;
    this.app.mapView.select(null);
    this.renderEmpty();
    this.app.showTab('feed');
  }

  _onStore(event) {
    if (!this.current || event.type === 'feed') return;
    const { entity, id } = this.current;
    if (event.type === 'snapshot') {
      this.schedule('all');
      return;
    }
    if (event.type !== 'change') return;
    if (event.entity === entity && event.id === id) {
      if (event.entry && !this.history.some((c) => c.seq === event.entry.seq)) {
        this.history.push(event.entry);
        if (this.history.length > HISTORY_LIMIT) this.history.shift();
      }
      // Someone else's change is said so; one's own needs no note.
      const mine = event.entry?.by === this.app.user?.username;
      this.lastLive = event.entry && !mine ? event.entry.by : null;
      this.schedule('all');
      return;
    }
    const p = event.feature?.properties || event.previous?.properties || {};
    if (p.subject_id === id || p.parent_id === id) this.schedule('links');
  }

  schedule(what) {
    this.pending = this.pending === 'all' ? 'all' : what;
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = null;
      const what = this.pending;
      this.pending = null;
      if (!this.current) return;
      if (what === 'all') {
        this.renderSection('header');
        this.renderSection('properties');
        this.renderSection('history');
      }
      this.renderSection('links');
    });
  }

  get feature() {
    return this.current ? this.app.store.get(this.current.entity, this.current.id) : null;
  }

  render() {
    const { entity } = this.current;
    this.sections = {
      header: h('div', { class: 'detail-header' }),
      properties: h('section', { class: 'detail-properties', 'aria-label': t('detail.properties') }),
      links: h('div', { class: 'detail-links' }),
      history: h('section', { class: 'detail-history', 'aria-label': t('detail.history') }),
    };
    fill(this.el, h('article', { class: ['detail', `ent-${entity}`] }, Object.values(this.sections)));
    for (const name of Object.keys(this.sections)) this.renderSection(name);
  }

  renderSection(name) {
    if (!this.sections) return;
    const el = this.sections[name];
    const feature = this.feature;
    const { entity, id } = this.current;
    const app = this.app;
    if (name === 'header') {
      const p = feature?.properties || {};
      fill(
        el,
        h('p', { class: 'detail-kind' }, label('entity', entity), p.severity ? h('span', { class: ['badge', `sev-${p.severity}`] }, label('severity', p.severity)) : null),
        h('h2', { tabindex: '-1' }, p.title || t('detail.gone')),
        this.lastLive ? h('p', { class: 'live-note', role: 'status' }, t('detail.changed_live', { who: this.lastLive })) : null,
        h(
          'div',
          { class: 'actions' },
          feature ? h('button', { type: 'button', onclick: () => app.mapView.flyTo(this._located(feature)) }, t('detail.fly_to')) : null,
          feature && app.can(`${entity}:update`) ? h('button', { type: 'button', class: 'primary', onclick: () => app.panels.editor.edit(entity, id) }, t('detail.edit')) : null,
          feature && feature.geometry && app.can(`${entity}:update`) ? h('button', { type: 'button', onclick: () => app.panels.editor.editGeometry(entity, id) }, t('detail.edit_geometry')) : null,
          feature && entity !== 'logbook_entry' && app.can('logbook_entry:create') ? h('button', { type: 'button', onclick: () => app.panels.logbook.compose(entity, id) }, t('detail.add_log')) : null,
          feature && feature.geometry && app.panels.composer ? h('button', { type: 'button', dataset: { action: 'alert' }, onclick: () => app.panels.composer.newAlert() }, t('detail.alert_partners')) : null,
          h('button', { type: 'button', class: 'close', onclick: () => this.close() }, t('detail.close')),
        ),
      );
      return;
    }
    if (name === 'properties') {
      if (!feature) {
        fill(el, h('p', { class: 'muted' }, t('detail.gone')));
        return;
      }
      const p = feature.properties;
      const fields = [...new Set([...ENTITIES[entity].fields.map((f) => f.name), ...COMMON])].filter((f) => f !== 'title' && f in p);
      fill(
        el,
        h('h3', {}, t('detail.properties')),
        h('dl', { class: 'props' }, fields.flatMap((f) => [h('dt', {}, fieldLabel(f)), h('dd', { dataset: { field: f } }, this._value(entity, f, p[f]))])),
      );
      return;
    }
    if (name === 'history') {
      const items = [...this.history].reverse();
      fill(
        el,
        h('h3', {}, t('detail.history')),
        !this.historyLoaded && !items.length ? h('p', { class: 'muted' }, t('detail.loading')) : null,
        h('ol', { class: 'history' }, items.map((c, i) => {
          const previous = items[i + 1]?.feature || null;
          const fields = c.op === 'updated' ? changedFields(previous, c.feature) : [];
          return h(
            'li',
            { dataset: { seq: c.seq } },
            h('time', { datetime: c.at }, formatDateTime(c.at)),
            ' ',
            h('span', { class: 'who' }, t('detail.change_line', { op: label('op', c.op), who: c.by })),
            fields.length ? h('ul', { class: 'changed' }, fields.map((f) => h('li', {}, describeChange(entity, f, previous, c.feature)))) : null,
          );
        })),
      );
      return;
    }
    if (name === 'links') {
      const store = app.store;
      const logs = [...store.all('logbook_entry')].filter((f) => f.properties.subject_id === id).sort(byTime('occurred_at'));
      const zones = [...store.all('zone')].filter((f) => f.properties.parent_id === id);
      const activations = [...store.all('activation')].filter((f) => f.properties.subject_id === id);
      const list = (title, items, render) =>
        h('section', { class: 'detail-list' }, h('h3', {}, title), items.length ? h('ul', {}, items.map(render)) : h('p', { class: 'muted' }, t('detail.none')));
      const link = (ent, f, extra) =>
        h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => app.openDetail(ent, f.id) }, extra, f.properties.title));
      fill(
        el,
        entity === 'planned_event' || entity === 'demonstration'
          ? list(t('detail.zones'), zones, (f) => link('zone', f, h('span', { class: 'tag' }, label('zone_kind', f.properties.kind))))
          : null,
        entity !== 'logbook_entry' && entity !== 'zone' && entity !== 'activation'
          ? list(t('detail.activations'), activations, (f) => link('activation', f, h('span', { class: 'tag' }, label('activation_level', f.properties.level))))
          : null,
        entity !== 'logbook_entry' && app.readable('logbook_entry')
          ? list(t('detail.logbook'), logs, (f) =>
              h('li', { class: `log-${f.properties.kind}` },
                h('time', { datetime: f.properties.occurred_at }, formatDateTime(f.properties.occurred_at)), ' ',
                h('span', { class: 'tag' }, label('logbook_kind', f.properties.kind)), ' ',
                h('strong', {}, f.properties.title),
                f.properties.description ? h('p', {}, f.properties.description) : null))
          : null,
      );
    }
  }

  _value(entity, field, value) {
    const p = this.feature?.properties || {};
    if ((field === 'parent_id' || field === 'subject_id') && value) {
      const target = field === 'parent_id' ? p.parent_entity : p.subject_entity;
      const linked = this.app.store.get(target, value);
      return h('button', { type: 'button', class: 'link', onclick: () => this.app.openDetail(target, value) }, linked?.properties.title || value);
    }
    return formatValue(entity, field, value);
  }

  _located(feature) {
    if (feature.geometry) return feature;
    const p = feature.properties;
    const subject = p.subject_id ? this.app.store.get(p.subject_entity, p.subject_id) : null;
    return subject || feature;
  }
}

function byTime(field) {
  return (a, b) => Date.parse(b.properties[field]) - Date.parse(a.properties[field]);
}
